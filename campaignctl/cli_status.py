"""``campaignctl status [PATH] [--format text|json]`` (see :mod:`campaignctl.status`)."""
from __future__ import annotations

from pathlib import Path

import click


@click.command("status")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="text for people, json for machines.")
@click.option("--parallelism", default=8, show_default=True, type=click.IntRange(1, 256), help="API calls in flight at once, per provider.")
def status(path: Path, fmt: str, parallelism: int) -> None:
    """Show where each campaign of the config in PATH stands on its platform.

    Per campaign: its state; the work submitted, approved, rejected and pending; the money
    committed and spent (USD); the platform's queue jobs in progress; and a finish estimate from
    the last hour's submissions. A figure the platform documents no source for reads "unknown".
    Reads only; changes nothing.
    """
    from .status import collect, render_json, render_text

    report = collect(path, parallelism)
    click.echo(render_json(report) if fmt == "json" else render_text(report), nl=False)
