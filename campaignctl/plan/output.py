"""Print a plan on stdout in the format the user asked for (``plan --format``).

- ``text``: for people (:mod:`.render`);
- ``json``: a versioned document for machines (:mod:`.json_format`, ``schemas/plan.json``);
- ``markdown``: pull-request comment(s) (:mod:`.markdown`): every part, a blank line between.

``parts_dir`` (``plan --markdown-parts DIR``) also writes each Markdown part to ``DIR/plan-N.md``
(whatever the stdout format), for CI to post as separate comments.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import click

from .json_format import to_document
from .markdown import join_parts, render_markdown
from .model import Plan
from .render import ANSI, PLAIN, render_text

_PART_FILE = re.compile(r"plan-\d+\.md")


def write_parts(parts: list[str], directory: Path) -> list[Path]:
    """Write ``plan-1.md`` ... ``plan-N.md`` into ``directory``, removing stale parts of an earlier run."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.iterdir():
            if _PART_FILE.fullmatch(old.name) and old.is_file():
                old.unlink()
        written = []
        for i, part in enumerate(parts, 1):
            path = directory / f"plan-{i}.md"
            path.write_text(part, encoding="utf-8")
            written.append(path)
    except OSError as exc:
        raise click.FileError(str(exc.filename or directory), hint=exc.strerror or str(exc)) from None
    return written


def emit(plan: Plan, fmt: str, color: bool, parts_dir: Path | None = None) -> None:
    parts = render_markdown(plan) if fmt == "markdown" or parts_dir is not None else []
    if fmt == "json":
        click.echo(json.dumps(to_document(plan), indent=2, sort_keys=True, default=str))
    elif fmt == "markdown":
        click.echo(join_parts(parts), nl=False)
    else:
        click.echo(render_text(plan, ANSI if color else PLAIN), nl=False)
    if parts_dir is not None:
        written = write_parts(parts, parts_dir)
        names = ", ".join(p.name for p in written) if len(written) <= 3 else f"plan-1.md ... plan-{len(written)}.md"
        click.echo(f"Wrote the markdown plan in {len(written)} part(s) to {parts_dir}: {names}", err=True)
