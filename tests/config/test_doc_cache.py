"""The cache of parsed YAML (campaignctl/config/doc_cache.py): a warm load gives exactly what a
parse gives, marks included; an edit re-parses only its own document; errors read as without it;
a corrupt or tampered cache is parsed around, never trusted or executed."""
from __future__ import annotations

import marshal
import pickle
from pathlib import Path
from typing import Any

import pytest

from campaignctl.config import doc_cache, yamlload
from campaignctl.config.doc_cache import DocCache, entries, read_entries
from campaignctl.config.nodes import Mark, MarkedDict, MarkedList
from campaignctl.config.yamlload import load_documents
from campaignctl.errors import ConfigError
from campaignctl.validation import load_config

TEXT = """# leading comment, no leading ---
kind: Schedule
name: first
spec: {timezone: UTC}
---
kind: Schedule   # a comment after the key
name: second
spec:
  timezone: Europe/Berlin
  notes: |
    a block scalar
      ---  (indented: not a document start)
    ends here
--- {kind: Schedule, name: third, spec: {timezone: UTC}}
---
# only a comment: an empty document
...
---
kind: Schedule
name: fourth
spec: &base {timezone: UTC}
extra: *base
merged: {<<: *base, own: [1, {two: 2}]}
"""


def marked(value: Any) -> Any:
    """``value`` with every mark spelled out, to compare two loads mark for mark."""
    if isinstance(value, MarkedDict):
        return ("map", tuple(value.mark), {k: (tuple(value.key_marks[k]), tuple(value.value_marks[k]), marked(v)) for k, v in value.items()})
    if isinstance(value, MarkedList):
        return ("seq", tuple(value.mark), [(tuple(m), marked(v)) for m, v in zip(value.item_marks, value, strict=True)])
    return value


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts composed by libyaml, in order."""
    seen: list[str] = []
    real = yamlload._compose_build

    def counting(text: str, file: str, offset: int) -> Any:
        seen.append(text)
        return real(text, file, offset)

    monkeypatch.setattr(yamlload, "_compose_build", counting)
    return seen


def load(tmp_path: Path, text: str) -> tuple[list[Any], list[Any]]:
    file = tmp_path / "repo" / "s.yaml"
    file.parent.mkdir(exist_ok=True)
    file.write_text(text, newline="")
    cache = DocCache(tmp_path / "cache", file, "s.yaml")
    docs, diags = load_documents(text, "s.yaml", cache)
    cache.save()
    return docs, diags


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_warm_load_is_a_parse_mark_for_mark(tmp_path: Path, parses: list[str], newline: str) -> None:
    text = TEXT.replace("\n", newline)
    plain, problems = load_documents(text, "s.yaml")
    assert not problems and [d["name"] for d in plain] == ["first", "second", "third", "fourth"]
    cold, _ = load(tmp_path, text)
    parses.clear()
    warm, _ = load(tmp_path, text)
    assert parses == []  # every chunk from the cache
    assert [marked(d) for d in warm] == [marked(d) for d in cold] == [marked(d) for d in plain]
    assert warm[1]["spec"]["notes"].splitlines()[1].strip().startswith("---")


def test_marks_come_back_packed_and_are_made_when_asked(tmp_path: Path) -> None:
    cold, _ = load(tmp_path, TEXT)
    warm, _ = load(tmp_path, TEXT)
    fourth = warm[3]
    assert set(vars(fourth["merged"])) == {"_packed"}  # no Mark made while unpickling
    assert fourth["merged"].value_marks["timezone"] == cold[3]["merged"].value_marks["timezone"]  # merged: base's mark
    assert set(vars(fourth["merged"])) == {"mark", "key_marks", "value_marks"}
    assert fourth["merged"]["own"].item_marks == cold[3]["merged"]["own"].item_marks
    assert fourth.mark == cold[3].mark and not hasattr(MarkedDict(), "mark")
    odd = MarkedDict(a=1)
    odd._packed = ("s.yaml", ("a",), b"\x01")  # not what the cache writes: marks at the top, no traceback
    assert (odd.mark, odd.key_marks) == (Mark.at("s.yaml", 1, 1), {"a": Mark.at("s.yaml", 1, 1)})


def test_a_text_seen_whole_is_taken_by_its_keys_without_splitting_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold, _ = load(tmp_path, TEXT)
    split: list[int] = []
    real = doc_cache.chunks
    monkeypatch.setattr(doc_cache, "chunks", lambda text: split.append(len(text)) or real(text))
    warm, _ = load(tmp_path, TEXT)
    assert split == [] and [marked(d) for d in warm] == [marked(d) for d in cold]
    assert [d.source for d in warm] == [d.source for d in cold]  # the same keys: the same validation cache entries
    edited = TEXT.replace("name: second", "name: second-b")
    docs, _ = load(tmp_path, edited)
    assert split == [len(edited)] and [marked(d) for d in docs] == [marked(d) for d in load_documents(edited, "s.yaml")[0]]


def test_an_edit_parses_its_own_document_again_and_later_lines_move(tmp_path: Path, parses: list[str]) -> None:
    load(tmp_path, TEXT)
    parses.clear()
    same_lines = TEXT.replace("name: second", "name: second-b")
    docs, _ = load(tmp_path, same_lines)
    assert len(parses) == 1 and "second-b" in parses[0]
    assert [marked(d) for d in docs] == [marked(d) for d in load_documents(same_lines, "s.yaml")[0]]
    parses.clear()
    more_lines = TEXT.replace("spec: {timezone: UTC}\n---", "spec: {timezone: UTC}\n# two more\n# lines\n---", 1)
    docs, _ = load(tmp_path, more_lines)
    assert len(parses) > 1  # the documents below the edit start on other lines now
    assert [marked(d) for d in docs] == [marked(d) for d in load_documents(more_lines, "s.yaml")[0]]
    assert docs[3].mark.line == TEXT.count("\n", 0, TEXT.index("kind: Schedule\nname: fourth")) + 3


def test_errors_read_as_without_the_cache(tmp_path: Path) -> None:
    load(tmp_path, TEXT)
    broken = TEXT.replace("name: fourth", "name: [fourth")
    docs, diags = load(tmp_path, broken)
    assert (docs, diags) == load_documents(broken, "s.yaml") and diags and diags[0].line > 20
    tagged = TEXT.replace("name: third", "name: !!python/name:os.system third")
    assert load(tmp_path, tagged) == load_documents(tagged, "s.yaml")


def test_the_alias_budget_spans_the_documents_of_a_file(tmp_path: Path) -> None:
    bomb = "kind: Schedule\nname: b{i}\nspec: {{timezone: UTC}}\nx: &a [1,2,3,4,5,6,7,8,9,10]\ny: [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    text = "---\n".join(bomb.format(i=i) for i in range(2000))  # 100+ nodes added per document, 2,000 documents
    cold, cold_diags = load(tmp_path, text)
    warm, warm_diags = load(tmp_path, text)
    assert (cold, cold_diags) == (warm, warm_diags) == load_documents(text, "s.yaml")
    assert cold_diags and "too large after expanding aliases" in cold_diags[0].message


def test_a_tampered_or_corrupt_cache_is_parsed_around(tmp_path: Path, parses: list[str]) -> None:
    load(tmp_path, TEXT)
    (entry,) = (tmp_path / "cache").glob("docs-*.bin")
    whole, chunks = read_entries(entry.read_bytes())
    canary = tmp_path / "executed"

    class Evil:
        def __reduce__(self) -> Any:
            return (Path.touch, (canary,))

    # the whole text's entry kept: the loader takes the chunks by the keys it lists, then falls back
    entry.write_bytes(entries(whole, {k: (n, pickle.dumps([Evil()])) for k, (n, _) in marshal.loads(chunks).items()}))
    parses.clear()
    docs, diags = load(tmp_path, TEXT)
    assert not canary.exists() and not diags and len(parses) == 5  # every chunk parsed
    assert [marked(d) for d in docs] == [marked(d) for d in load_documents(TEXT, "s.yaml")[0]]
    entry.write_bytes(entry.read_bytes()[:-7])
    assert [marked(d) for d in load(tmp_path, TEXT)[0]] == [marked(d) for d in docs]


def test_load_config_uses_it_and_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parses: list[str]) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    text = "".join(f"---\nkind: Schedule\nname: s{i}\nspec:\n  timeZone: UTC\n" for i in range(3))
    (repo / "s.yaml").write_text(text)
    monkeypatch.setenv("CAMPAIGNCTL_CACHE_DIR", str(tmp_path / "cache"))
    first = load_config(repo)
    parses.clear()
    second = load_config(repo)
    assert parses == [] and [marked(d.raw) for d in second.documents] == [marked(d.raw) for d in first.documents]
    (repo / "s.yaml").write_text(text.replace("name: s1\nspec:\n", "name: s1\nspec:\n  bogus: 1\n"))
    with pytest.raises(ConfigError) as err:
        load_config(repo)
    assert "s.yaml:10:3: spec: unknown field 'bogus'" in str(err.value)
    monkeypatch.setenv("CAMPAIGNCTL_CACHE_DIR", "off")
    (repo / "s.yaml").write_text(text)
    parses.clear()
    load_config(repo)
    load_config(repo)
    assert len(parses) == 2  # the whole file, each time


def test_it_keeps_the_newest_files_within_bounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI runner checking out every build under a new path must not fill the disk."""
    import os

    from campaignctl.config import doc_cache

    def save(n: int) -> Path:
        file = tmp_path / f"build-{n}" / "s.yaml"
        file.parent.mkdir()
        file.write_text(TEXT)
        cache = DocCache(tmp_path / "cache", file, "s.yaml")
        load_documents(TEXT, "s.yaml", cache)
        cache.save()
        assert cache.path is not None
        os.utime(cache.path, (1_000_000 + n, 1_000_000 + n))  # written in this order
        return cache.path

    monkeypatch.setattr(doc_cache, "KEEP", 3)
    paths = [save(n) for n in range(5)]
    save(5)
    assert sorted((tmp_path / "cache").glob("docs-*.bin")) == sorted([*paths[3:], DocCache(tmp_path / "cache", tmp_path / "build-5" / "s.yaml", "s.yaml").path])
    monkeypatch.setattr(doc_cache, "KEEP_BYTES", 1)  # smaller than any file: the newest alone stays
    newest = save(6)
    assert list((tmp_path / "cache").glob("docs-*.bin")) == [newest]


def test_it_remembers_the_whole_text_and_whether_it_sets_up_providers(tmp_path: Path) -> None:
    def remembered(text: str) -> bool | None:
        return DocCache(tmp_path / "cache", tmp_path / "repo" / "s.yaml", "s.yaml").remembered(text)

    assert remembered(TEXT) is None  # never seen
    load(tmp_path, TEXT)
    assert remembered(TEXT) is False and remembered(TEXT + "\n") is None
    setup = TEXT + "---\nkind: Provider\nname: p\nspec: {type: swarms}\n"
    load(tmp_path, setup)
    assert remembered(setup) is True and remembered(TEXT) is None  # the last text seen only
    _, problems = load(tmp_path, setup + "---\nkind: [\n")
    assert problems and remembered(setup + "---\nkind: [\n") is None  # a text with a problem: not remembered
    assert remembered(setup) is None


def test_document_starts_are_those_of_the_document_start_pattern() -> None:
    """The loader finds ``---`` document starts by ``str.find``: exactly where the pattern that
    defines them matches, in texts made of the pieces that could confuse it."""
    import random

    def by_pattern(text: str) -> list[int]:
        return [m.start() for m in doc_cache._DOCUMENT_START.finditer(text)]

    pieces = ["---", "--", "----", "\n", "\r\n", "\r", " ", "\t", "a", "--- x", "\n---\n", "\u2028", "\x85", "...", "#"]
    rng = random.Random(8)
    texts = ["", "---", "---\n", "----", "x---", "\n---", "\n--- a\n---\tb\n---", TEXT]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 14))) for _ in range(20_000)]
    for text in texts:
        assert doc_cache._document_starts(text) == by_pattern(text), repr(text)
