"""Task rows of a data file in a plan (issue 23, large data): the plan lists the first rows and
counts the rest, naming their file; a table's summary is hashed from its ids and digests. The
memory figures are in ``benchmarks/large_data.py``."""
from __future__ import annotations

import hashlib
from pathlib import Path

from campaignctl.platforms.microworkers.rows import (
    id_digests,
    row_changes,
    rows_summary,
    summary_of,
)
from tests.helpers import survey_rows_table


def test_a_table_summary_is_the_summary_of_its_rows(tmp_path: Path) -> None:
    _, table = survey_rows_table(tmp_path, 300)
    rows = list(table)
    assert rows_summary(table) == summary_of(id_digests(table)) == rows_summary(rows)
    assert rows_summary(table)["count"] == 300


def test_a_plan_lists_the_first_rows_and_counts_the_rest_naming_their_file(tmp_path: Path) -> None:
    config, table = survey_rows_table(tmp_path, 40)
    fields = row_changes(table, {}, {}, "update", limit=5)
    assert [f.path for f in fields] == [f"tasks.rows[site{i:04d}]" for i in range(5)] + ["tasks.rows"]
    assert fields[0].before is None and fields[0].after == {"url": "https://site0000.example.com/", "brand": "Brand 0"}
    sha = hashlib.sha256((config / "data" / "rows.csv").read_bytes()).hexdigest()
    assert fields[-1].before is None and fields[-1].after == {"more": 35, "file": table.shown, "sha256": sha}
    assert table.shown.endswith("rows.csv")
    # within the limit: every row, no count
    assert [f.path for f in row_changes(table, {}, {}, "update", limit=40)] == [f"tasks.rows[site{i:04d}]" for i in range(40)]


def test_only_new_and_changed_rows_are_listed_and_gone_ones_after_them(tmp_path: Path) -> None:
    _, table = survey_rows_table(tmp_path, 32)
    live = {**{r: d for r, d in id_digests(table).items() if r < "site0008"}, "site0003": "0" * 16, "gone1": "x", "gone2": "y"}
    fields = row_changes(table, live, {"gone1": {"url": "u"}}, "update")
    assert [f.path for f in fields] == [
        "tasks.rows[site0003]", *(f"tasks.rows[site{i:04d}]" for i in range(8, 32)), "tasks.rows[gone1]", "tasks.rows[gone2]",
    ]
    assert fields[0].before == {} and fields[0].after == {"url": "https://site0003.example.com/", "brand": "Brand 3"}
    assert fields[-2].before == {"url": "u"} and fields[-2].after is None
    limited = row_changes(table, live, {}, "update", limit=3)
    assert [f.path for f in limited] == ["tasks.rows[site0003]", "tasks.rows[site0008]", "tasks.rows[site0009]", "tasks.rows"]
    assert limited[-1].after["more"] == 22 + 2  # the other new rows, and the gone ones
    assert row_changes(table, id_digests(table), {}, "update") == []
