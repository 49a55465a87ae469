"""The diff: field-level differences between two normalised dicts (a live object as compared,
and the desired attributes), and the one canonical form of "nothing" they are compared by."""
from __future__ import annotations

from typing import Any

from ..config.nodes import dotted_path
from .model import FieldChange


def blank(value: Any) -> Any:
    """The one canonical form of "nothing" every provider compares by: ``None``, ``""``, ``[]``
    and ``{}`` are all None, and so is a mapping key whose value is (the key is dropped), at any
    depth of mappings. Absent, null and empty then plan alike for desired and live objects, on
    every platform: no plan differs only by how a platform, or a config, spells "nothing"."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = blank(item)
            if item is not None:
                out[key] = item
        return out or None
    if isinstance(value, list):
        return [blank(item) for item in value] or None
    return None if value == "" else value


def same(live: Any, desired: Any) -> bool:
    """``live`` and ``desired`` are equal, or differ only in how they spell "nothing" (:func:`blank`)."""
    return bool(live == desired or blank(live) == blank(desired))


def meaningful_changes(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """:func:`field_changes`, without those that only spell "nothing" another way (:func:`same`)."""
    return [f for f in field_changes(before, after) if not same(f.before, f.after)]


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Field-level differences, paths like ``components[0].properties.steps``.

    The same result as ``DeepDiff(before, after)`` (a type change, an added or removed key, a
    changed value, a whole dict when the two share less than a third of their keys), found by a
    direct walk: DeepDiff (slow to import) is only asked about lists of plain values that differ,
    whose items it matches up with difflib."""
    out: list[FieldChange] = []
    _walk(before, after, [], out)
    out.sort(key=lambda f: f.path)
    return out


_CONTAINERS = (dict, list, tuple, set, frozenset)


def _walk(b: Any, a: Any, path: list[Any], out: list[FieldChange]) -> None:
    if type(b) is not type(a):
        out.append(FieldChange(dotted_path(path), b, a))
    elif isinstance(b, dict):
        common = b.keys() & a.keys()
        union = len(b.keys() | a.keys())
        if union > 1 and len(common) / union < 0.33:  # DeepDiff's threshold_to_diff_deeper
            out.append(FieldChange(dotted_path(path), b, a))
            return
        for key in b:
            if key in a:
                _walk(b[key], a[key], [*path, key], out)
            else:
                out.append(FieldChange(dotted_path([*path, key]), b[key], None))
        for key in a:
            if key not in b:
                out.append(FieldChange(dotted_path([*path, key]), None, a[key]))
    elif isinstance(b, list) and len(b) == len(a) and not (_plain(b) and _plain(a)):
        for i, (x, y) in enumerate(zip(b, a, strict=False)):  # DeepDiff pairs unhashable items up by position
            _walk(x, y, [*path, i], out)
    elif isinstance(b, _CONTAINERS):
        if b == a and all(type(x) is type(y) for x, y in zip(b, a, strict=False)):
            return
        out += _deepdiff(b, a, path)
    elif b != a:
        out.append(FieldChange(dotted_path(path), b, a))


def _plain(items: list[Any]) -> bool:
    return not any(isinstance(x, _CONTAINERS) for x in items)


def _deepdiff(before: Any, after: Any, prefix: list[Any]) -> list[FieldChange]:
    from deepdiff import DeepDiff

    diff = DeepDiff(before, after, verbose_level=2, view="tree")
    out: list[FieldChange] = []
    for levels in diff.values():
        for level in levels:
            path = dotted_path([*prefix, *level.path(output_format="list")])
            b = level.t1 if not _missing(level.t1) else None
            a = level.t2 if not _missing(level.t2) else None
            out.append(FieldChange(path, b, a))
    return out


def _missing(value: Any) -> bool:
    return type(value).__name__ == "NotPresent"
