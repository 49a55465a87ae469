"""Task rows sent at apply (issue 23, large data): apply reads the rows a plan names from their data
file and sends them only while they are the rows planned; in parts of index ranges."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from campaignctl.errors import PlanError
from campaignctl.platforms.microworkers.rows import id_digests, rows_summary
from campaignctl.platforms.microworkers.upload import read_upload, row_parts, upload_ref
from tests.helpers import survey_rows_table, write_survey_rows


def test_apply_reads_the_planned_rows_from_the_file(tmp_path: Path) -> None:
    config, table = survey_rows_table(tmp_path, 35)
    ref = upload_ref(table, config, rows_summary(table))
    assert ref["file"] == "data/rows.csv" and ref["count"] == 35
    upload = read_upload(config, ref)
    assert upload.tasks[34] == {"id": "site0034", "data": [{"key": "url", "value": "https://site0034.example.com/"},
                                                          {"key": "brand", "value": "Brand 34"}], "testCases": []}
    assert upload.sources[0].endswith("rows.csv:2") and upload.digests == id_digests(table)


@pytest.mark.parametrize("change", ["edited", "same-bytes-other-rows", "gone", "outside"])
def test_apply_refuses_rows_that_are_not_the_ones_planned(tmp_path: Path, change: str) -> None:
    config, table = survey_rows_table(tmp_path, 35)
    ref = upload_ref(table, config, rows_summary(table))
    data = config / "data" / "rows.csv"
    if change == "edited":  # the same ids, one value changed
        data.write_text(data.read_text().replace("Brand 7\n", "Brand 77\n"))
        message = "sha256"
    elif change == "same-bytes-other-rows":  # the sha256 a plan names, but rows it did not plan
        write_survey_rows(config, 35, brand="Other")
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
    config, table = survey_rows_table(tmp_path, 35)
    upload = read_upload(config, upload_ref(table, config, rows_summary(table)))
    part = upload.select([[2, 4], [30, 31]])
    assert [t["id"] for t in part.tasks] == ["site0002", "site0003", "site0030"] == list(part.digests)
    assert part.sources[2].endswith("rows.csv:32")
    with pytest.raises(PlanError, match=r"\[30, 36\] that its data file does not have \(35 rows\)"):
        upload.select([[30, 36]])
