"""Print a plan on stdout in the format the user asked for (``plan --format``)."""
from __future__ import annotations

import json

import click

from .model import Plan
from .render import ANSI, PLAIN, render_text

FORMATS = ["text", "json"]


def emit(plan: Plan, fmt: str, color: bool) -> None:
    if fmt == "json":
        click.echo(json.dumps(plan.to_dict(), indent=2, sort_keys=True, default=str))
    else:
        click.echo(render_text(plan, ANSI if color else PLAIN), nl=False)
