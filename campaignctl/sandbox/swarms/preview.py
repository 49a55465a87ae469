"""SWARMS sandbox: ``POST /preview/markdown`` (headings, lists, emphasis, code, links, images)."""
from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass
from .common import invalid
from .context import Ctx

# --------------------------------------------------------------------------------------------
# markdown preview
# --------------------------------------------------------------------------------------------


def _inline_markdown(text: str) -> str:
    text = html.escape(text, quote=False)
    text = re.sub(r"!\[([^\]]*)\]\(([^)\s]+)\)", r'<img src="\2" alt="\1">', text)
    text = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', text)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    text = re.sub(r"\*\*([^*]+)\*\*|__([^_]+)__", lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", text)
    return re.sub(r"\*([^*]+)\*|_([^_]+)_", lambda m: f"<em>{m.group(1) or m.group(2)}</em>", text)


def markdown_to_html(text: str) -> str:
    """Headings, paragraphs, bullet/numbered lists, emphasis, code, links and images."""
    out: list[str] = []
    paragraph: list[str] = []
    list_tag: str | None = None

    def flush() -> None:
        nonlocal list_tag
        if paragraph:
            out.append(f"<p>{' '.join(paragraph)}</p>")
            paragraph.clear()
        if list_tag:
            out.append(f"</{list_tag}>")
            list_tag = None

    for raw in text.splitlines():
        line = raw.strip()
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        bullet = re.match(r"^[-*+]\s+(.*)$", line)
        number = re.match(r"^\d+[.)]\s+(.*)$", line)
        if not line:
            flush()
        elif heading:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline_markdown(heading.group(2))}</h{level}>")
        elif bullet or number:
            tag = "ul" if bullet else "ol"
            if paragraph or (list_tag and list_tag != tag):
                flush()
            if list_tag is None:
                out.append(f"<{tag}>")
                list_tag = tag
            out.append(f"<li>{_inline_markdown((bullet or number).group(1))}</li>")  # type: ignore[union-attr]
        else:
            if list_tag:
                flush()
            paragraph.append(_inline_markdown(line))
    flush()
    return "\n".join(out)


async def preview_markdown(ctx: Ctx) -> Any:
    body = await ctx.body_object()
    text = body.get("text")
    if not isinstance(text, str):
        raise invalid("text: required string")
    return {} if ctx.docs_only else {"html": markdown_to_html(text)}  # the docs show no reply body
