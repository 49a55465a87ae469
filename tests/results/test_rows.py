"""results export, Microworkers v2: each slot beside the columns of its task rows (``row.<column>``).

The docs describe no slot field linking a slot to its rows; the sandbox's ``taskIds`` (a guess) is
used when present, and a slot without it (or naming a row the config lacks) simply has no row columns."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from campaignctl.platforms.microworkers.results import MicroworkersReviewer
from campaignctl.platforms.microworkers.rows import Row, Rows
from campaignctl.results.common import CampaignRef

ROOT = Path("/config")


def reviewer() -> MicroworkersReviewer:
    rows = Rows(rows=[Row("r1", {"url": "https://a.example/", "brand": "A"}, {"loads": ["yes"]}, "rows.csv:2"),
                      Row("r2", {"url": "https://b.example/", "brand": "B"}, {}, "rows.csv:3")])
    doc: Any = SimpleNamespace(name="c", spec={"type": "basic", "tasks": {"file": "rows.csv"}}, derived={("rows", ROOT): rows})
    return MicroworkersReviewer(CampaignRef("mw/campaign/c", doc, SimpleNamespace(name="mw", root=ROOT), "abc"))


def slot(**extra: Any) -> dict[str, Any]:
    return {"id": "s1", "workerId": "w", "status": "NOTRATED", "submitted": "2026-01-01T00:00:00Z",
            "answers": [{"name": "loads", "answers": ["yes"]}], **extra}


def test_row_columns_beside_the_submission() -> None:
    row = reviewer().to_submission(slot(taskIds=["r1"])).row()
    assert row["row.url"] == "https://a.example/" and row["row.brand"] == "A" and row["row.test:loads"] == "yes"
    keys = list(row)
    assert keys.index("row.url") < keys.index("loads")  # the task's columns before the answers


def test_several_rows_of_one_slot_are_numbered() -> None:
    row = reviewer().to_submission(slot(taskIds=["r2", "r1"])).row()
    assert (row["row.url"], row["row.url#2"], row["row.brand#2"]) == ("https://b.example/", "https://a.example/", "A")


def test_no_link_no_row_columns() -> None:
    for extra in ({}, {"taskIds": None}, {"taskIds": ["gone"]}, {"taskIds": "r1"}):
        row = reviewer().to_submission(slot(**extra)).row()
        assert not [k for k in row if k.startswith("row.")], extra
