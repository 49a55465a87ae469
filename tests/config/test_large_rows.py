"""Large task data (issue 23, point 2): a rows file is streamed into a compact table (id, digest,
line per row), not held as Row objects. The memory figures live in ``benchmarks/large_data.py``
(1,000,000 rows: validate peaks at 176-190 MB where Row objects took 1.13 GB)."""
from __future__ import annotations

from pathlib import Path

from campaignctl.platforms.microworkers.rows import RowTable, id_digests, load_rows
from campaignctl.validation import load_config
from tests.helpers import copy_example


def test_a_rows_file_is_kept_as_a_compact_table_that_streams_its_rows(tmp_path: Path) -> None:
    config = copy_example("microworkers-survey", tmp_path)
    with (config / "data" / "rows.csv").open("w") as fh:
        fh.write("id,url,brand\n")
        fh.writelines(f"site{i:05d},https://site{i:05d}.example.com/page,Brand number {i}\n" for i in range(2_000))
    campaign = next(d for d in load_config(config).documents if d.kind == "Campaign" and d.spec.get("tasks"))
    rows = load_rows(campaign, config)
    assert rows is not None and isinstance(rows.rows, RowTable)
    table = rows.rows
    # held: only the ids, 8-byte digests and line numbers; no row's columns
    assert len(table) == len(table.ids) == 2_000 and len(table.digests) == 8 * 2_000 and len(table.lines) == 2_000
    streamed = list(table)  # the columns come back from the file, row by row
    assert [r.id for r in streamed[:2]] == ["site00000", "site00001"]
    assert streamed[1999].data["brand"] == "Brand number 1999"
    assert id_digests(table) == {r.id: r.digest for r in streamed}
