"""``results export`` CSV against hostile cells (issue 20, finding 3): what workers write and what
platforms name their columns never reaches a spreadsheet as a formula, nor forges a row."""
from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from campaignctl.results.common import Submission
from campaignctl.results.export import csv_safe, export


class FakeReviewer:
    columns = ("=platform-col",)

    def __init__(self, subs: list[Submission]) -> None:
        self.subs = subs

    async def submissions(self, since: Any = None, progress: Any = None) -> AsyncIterator[Submission]:
        for sub in self.subs:
            yield sub


@pytest.mark.parametrize(("text", "shown"), [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("@SUM(A1)", "'@SUM(A1)"), ("-2+3+cmd", "'-2+3+cmd"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("-inf", "'-inf"),
    ("-2.5", "-2.5"), ("+3", "+3"), ("-1e5", "-1e5"), ("-.5", "-.5"), ("plain = text", "plain = text"), ("", ""),
])
def test_csv_safe(text: str, shown: str) -> None:
    assert csv_safe(text) == shown


def run(fmt: str, raw: bool = False) -> str:
    subs = [Submission("1", "w1", "done", "", answers={"=cmd|x": "=1+1", "q": ["-2+3", "ok"], "n": -2.5}),
            Submission("2", "w2", "done", "", answers={"=cmd|x": "a\r2,evil,forged", "q": [], "n": 3})]
    stream = io.StringIO(newline="")
    asyncio.run(export(FakeReviewer(subs), stream, fmt=fmt, raw=raw))  # type: ignore[arg-type]
    return stream.getvalue()


def test_headers_and_cells_are_neutralised_and_a_carriage_return_forges_no_row() -> None:
    rows = list(csv.reader(io.StringIO(run("csv"), newline="")))
    assert rows[0][6:] == ["'=platform-col", "'=cmd|x", "q", "n"]
    assert rows[1][6:] == ["", "'=1+1", "'-2+3; ok", "-2.5"]
    assert rows[2][6:] == ["", "a\r2,evil,forged", "", "3"]
    assert len(rows) == 3


def test_raw_csv_and_jsonl_stay_exact() -> None:
    rows = list(csv.reader(io.StringIO(run("csv", raw=True), newline="")))
    assert rows[0][6:] == ["=platform-col", "=cmd|x", "q", "n"] and rows[1][7:] == ["=1+1", "-2+3; ok", "-2.5"]
    first = json.loads(run("jsonl").splitlines()[0])
    assert first["=cmd|x"] == "=1+1" and first["q"] == ["-2+3", "ok"] and first["n"] == -2.5
