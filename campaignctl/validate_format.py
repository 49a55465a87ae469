"""``campaignctl validate --format text|json|github``: the findings for people, for programs, and
as GitHub Actions workflow commands (``::error file=F,line=L,col=C::message``), which GitHub shows
as annotations on the pull request's files."""
from __future__ import annotations

import json
from typing import Any

from .errors import Diagnostic

FORMATS = ("text", "json", "github")


def _data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's runner un-escapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def github(errors: list[Diagnostic], warnings: list[Diagnostic]) -> str:
    lines = [
        f"::{level} file={_property(d.file)},line={d.line},col={d.col}::{_data(d.message)}"
        for level, found in (("error", errors), ("warning", warnings))
        for d in found
    ]
    return "".join(line + "\n" for line in lines)


def as_json(errors: list[Diagnostic], warnings: list[Diagnostic], documents: int | None, resources: int | None) -> str:
    def one(d: Diagnostic) -> dict[str, Any]:
        return {"file": d.file, "line": d.line, "col": d.col, "message": d.message}

    body = {
        "valid": not errors, "documents": documents, "resources": resources,
        "errors": [one(d) for d in errors], "warnings": [one(d) for d in warnings],
    }
    return json.dumps(body, indent=2, sort_keys=True) + "\n"


__all__ = ["FORMATS", "as_json", "github"]
