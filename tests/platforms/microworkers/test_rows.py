"""Task rows of a data file in a plan (issue 23, large data): the plan lists the first rows and
counts the rest, naming their file; apply reads them from the file again and sends them only while
they are the rows planned. The memory figures are in ``benchmarks/large_data.py``."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from campaignctl.config.load import load_config
from campaignctl.errors import PlanError
from campaignctl.platforms.microworkers.rows import (
    RowTable,
    id_digests,
    load_rows,
    row_changes,
    rows_summary,
    summary_of,
)
from campaignctl.platforms.microworkers.upload import read_upload, row_parts, upload_ref
from tests.helpers import copy_example


def _table(tmp_path: Path, count: int) -> tuple[Path, RowTable]:
    config = copy_example("microworkers-survey", tmp_path)
    _write_rows(config, count)
    campaign = next(d for d in load_config(config).documents if d.kind == "Campaign" and d.spec.get("tasks"))
    rows = load_rows(campaign, config)
    assert rows is not None and not rows.diags and isinstance(rows.rows, RowTable)
    return config, rows.rows


def _write_rows(config: Path, count: int, brand: str = "Brand") -> None:
    with (config / "data" / "rows.csv").open("w") as fh:
        fh.write("id,url,brand\n")
        fh.writelines(f"site{i:04d},https://site{i:04d}.example.com/,{brand} {i}\n" for i in range(count))


def test_a_table_summary_is_the_summary_of_its_rows(tmp_path: Path) -> None:
    _, table = _table(tmp_path, 300)
    rows = list(table)
    assert rows_summary(table) == summary_of(id_digests(table)) == rows_summary(rows)
    assert rows_summary(table)["count"] == 300


def test_a_plan_lists_the_first_rows_and_counts_the_rest_naming_their_file(tmp_path: Path) -> None:
    config, table = _table(tmp_path, 40)
    fields = row_changes(table, {}, {}, "update", limit=5)
    assert [f.path for f in fields] == [f"tasks.rows[site{i:04d}]" for i in range(5)] + ["tasks.rows"]
    assert fields[0].before is None and fields[0].after == {"url": "https://site0000.example.com/", "brand": "Brand 0"}
    sha = hashlib.sha256((config / "data" / "rows.csv").read_bytes()).hexdigest()
    assert fields[-1].before is None and fields[-1].after == {"more": 35, "file": table.shown, "sha256": sha}
    assert table.shown.endswith("rows.csv")
    # within the limit: every row, no count
    assert [f.path for f in row_changes(table, {}, {}, "update", limit=40)] == [f"tasks.rows[site{i:04d}]" for i in range(40)]


def test_only_new_and_changed_rows_are_listed_and_gone_ones_after_them(tmp_path: Path) -> None:
    _, table = _table(tmp_path, 32)
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


def test_apply_reads_the_planned_rows_from_the_file(tmp_path: Path) -> None:
    config, table = _table(tmp_path, 35)
    ref = upload_ref(table, config, rows_summary(table))
    assert ref["file"] == "data/rows.csv" and ref["count"] == 35
    upload = read_upload(config, ref)
    assert upload.tasks[34] == {"id": "site0034", "data": [{"key": "url", "value": "https://site0034.example.com/"},
                                                          {"key": "brand", "value": "Brand 34"}], "testCases": []}
    assert upload.sources[0].endswith("rows.csv:2") and upload.digests == id_digests(table)


@pytest.mark.parametrize("change", ["edited", "same-bytes-other-rows", "gone", "outside"])
def test_apply_refuses_rows_that_are_not_the_ones_planned(tmp_path: Path, change: str) -> None:
    config, table = _table(tmp_path, 35)
    ref = upload_ref(table, config, rows_summary(table))
    data = config / "data" / "rows.csv"
    if change == "edited":  # the same ids, one value changed
        data.write_text(data.read_text().replace("Brand 7\n", "Brand 77\n"))
        message = "sha256"
    elif change == "same-bytes-other-rows":  # the sha256 a plan names, but rows it did not plan
        _write_rows(config, 35, brand="Other")
        ref["sha256"] = hashlib.sha256(data.read_bytes()).hexdigest()
        message = "35 rows, digest"
    elif change == "gone":
        data.unlink()
        message = "cannot be read"
    else:
        ref["file"] = "../elsewhere.csv"
        message = "outside the config directory"
    with pytest.raises(PlanError, match=message) as caught:
        read_upload(config, ref)
    if change != "outside":
        assert "changed since the plan was made" in str(caught.value) and "nothing was sent" in str(caught.value)


def test_rows_are_sent_in_parts_of_index_ranges(tmp_path: Path) -> None:
    assert row_parts(range(25), 10) == [[[0, 10]], [[10, 20]], [[20, 25]]]
    assert row_parts([1, 2, 3, 7, 8, 20], 4) == [[[1, 4], [7, 8]], [[8, 9], [20, 21]]]
    assert row_parts([], 10) == []
    config, table = _table(tmp_path, 35)
    upload = read_upload(config, upload_ref(table, config, rows_summary(table)))
    part = upload.select([[2, 4], [30, 31]])
    assert [t["id"] for t in part.tasks] == ["site0002", "site0003", "site0030"] == list(part.digests)
    assert part.sources[2].endswith("rows.csv:32")
    with pytest.raises(PlanError, match=r"\[30, 36\] that its data file does not have \(35 rows\)"):
        upload.select([[30, 36]])
