"""campaignctl.plan.values: every changed value in full, only unchanged context left out (with a count)."""
from __future__ import annotations

from campaignctl.plan.model import FieldChange
from campaignctl.plan.values import (
    ROWS_SHOWN,
    diff_line,
    fields_lines,
    object_lines,
    text_line,
)


def text(fields: list[FieldChange]) -> list[str]:
    return [text_line(x) for x in fields_lines(fields)]


def diff(fields: list[FieldChange]) -> list[str]:
    return [diff_line(x) for x in fields_lines(fields, paired=True)]


def test_long_scalar_is_whole() -> None:
    before, after = "a" * 500 + "1", "a" * 500 + "2"
    assert text([FieldChange("title", before, after, "forces replacement")]) == [
        f'~ title: "{before}" -> "{after}"  # forces replacement'
    ]
    assert diff([FieldChange("title", before, after, "forces replacement")]) == [
        f'- title: "{before}"', f'+ title: "{after}"  # forces replacement'
    ]


def test_multiline_string_as_a_line_diff_with_hidden_context() -> None:
    before = "\n".join(f"line {i}" for i in range(20)) + "\n"
    after = before.replace("line 2\n", "line two\n").replace("line 17\n", "line 17, longer " + "y" * 200 + "\n")
    assert text([FieldChange("htmlCode", before, after)]) == [
        "~ htmlCode: (20 -> 20 lines)",
        "    @@ -1,6 +1,6 @@",
        "      line 0", "      line 1", "    - line 2", "    + line two", "      line 3", "      line 4", "      line 5",
        "    # 8 unchanged line(s) hidden",
        "    @@ -15,6 +15,6 @@",
        "      line 14", "      line 15", "      line 16", "    - line 17", "    + line 17, longer " + "y" * 200,
        "      line 18", "      line 19",
    ]
    lines = diff([FieldChange("htmlCode", before, after)])
    assert lines[0] == "~ htmlCode: (20 -> 20 lines)" and "-     line 2" in lines and "+     line two" in lines
    assert "#     8 unchanged line(s) hidden" in lines and "      line 1" in lines


def test_multiline_differing_only_in_line_endings() -> None:
    lines = text([FieldChange("body", "a\nb\n", "a\r\nb\r\n")])
    assert lines[1] == "    # only the line endings or the final newline differ:"
    assert lines[2:] == ['    - "a\\nb\\n"', '    + "a\\r\\nb\\r\\n"']


def test_nested_structures_field_by_field() -> None:
    before = [{"type": "Text", "properties": {"text": "Q?", "style": "Question"}}, {"type": "Image", "properties": {"url": "a"}}]
    after = [{"type": "Text", "properties": {"text": "Q?", "style": "Question"}}, {"type": "Image", "properties": {"url": "b"}},
             {"type": "Rating", "properties": {"steps": 5}}]
    assert text([FieldChange("components", before, after)]) == [
        '~ components[1].properties.url: "a" -> "b"',
        '+ components[2].type: "Rating"',
        "+ components[2].properties.steps: 5",
        "# components: 4 unchanged field(s) hidden",
    ]
    # an item inserted at the front is one insertion, not every item changed
    assert text([FieldChange("components", before, [{"type": "Video"}, *before])]) == [
        '+ components[0].type: "Video"', "# components: 5 unchanged field(s) hidden",
    ]
    # a structure replaced by a scalar: the old leaves out, the new value in
    assert text([FieldChange("limit", {"perDay": 20, "perHour": 5}, 7)]) == ["- limit.perDay: 20", "- limit.perHour: 5", "+ limit: 7"]


def test_created_object_every_leaf() -> None:
    obj = {"name": "t", "tags": ["a", "b"], "components": [{"type": "Text", "properties": {"text": "x\ny"}}], "unset": None}
    assert [text_line(x) for x in object_lines("+", obj)] == [
        '+ name: "t"', '+ tags: ["a", "b"]', '+ components[0].type: "Text"',
        "+ components[0].properties.text: (2 lines)", "    + x", "    + y",
    ]


def test_task_rows_first_ones_then_a_count() -> None:
    rows = [FieldChange(f"tasks.rows[r{i:03d}]", None, {"url": f"https://e{i}.example/", "brand": f"B {i}"}) for i in range(30)]
    lines = text([FieldChange("tasks.count", 10, 40), *rows, FieldChange("title", "a", "b")])
    assert lines[0] == "~ tasks.count: 10 -> 40"
    assert lines[1] == '+ tasks.rows[r000]: url="https://e0.example/", brand="B 0"'
    assert len([x for x in lines if x.startswith("+ tasks.rows[")]) == ROWS_SHOWN
    assert lines[ROWS_SHOWN + 1] == "# ... and 10 more task rows (every one in --format json and the saved plan)"
    assert lines[-1] == '~ title: "a" -> "b"'
    # an edited row: its columns one by one
    assert text([FieldChange("tasks.rows[r1]", {"url": "a", "brand": "B"}, {"url": "a", "brand": "C"})]) == [
        '~ tasks.rows[r1].brand: "B" -> "C"', "# tasks.rows[r1]: 1 unchanged field(s) hidden",
    ]


def test_task_rows_a_plan_does_not_list_are_counted_with_their_file() -> None:
    rows = [FieldChange(f"tasks.rows[r{i:03d}]", None, {"url": f"https://e{i}.example/"}) for i in range(25)]
    unlisted = FieldChange("tasks.rows", None, {"more": 999_975, "file": "data/rows.csv", "sha256": "ab" * 32})
    lines = text([*rows, unlisted, FieldChange("title", "a", "b")])
    assert len([x for x in lines if x.startswith("+ tasks.rows[")]) == ROWS_SHOWN
    assert lines[ROWS_SHOWN] == (
        "# ... and 999980 more task rows (5 in --format json and the saved plan, 999975 listed nowhere: the rows of "
        f"data/rows.csv (sha256 {'ab' * 8}), which apply reads again and sends only while unchanged)"
    )
    assert lines[-1] == '~ title: "a" -> "b"' and len(lines) == ROWS_SHOWN + 2
    # no row listed past those shown: only the count of the file's rows
    assert text([*rows[:3], unlisted])[-1] == (
        f"# ... and 999975 more task rows, 999975 listed nowhere: the rows of data/rows.csv (sha256 {'ab' * 8}), "
        "which apply reads again and sends only while unchanged"
    )
    assert diff([*rows[:3], unlisted])[-1].startswith("# ... and 999975 more task rows")


def test_trailing_spaces_are_kept() -> None:
    """A line whose only change is trailing whitespace must not print as the same line twice."""
    assert text([FieldChange("css", "a {}  \nb {}\n", "a {}\nb {}\n")])[1:4] == ["    @@ -1,2 +1,2 @@", "    - a {}  ", "    + a {}"]
