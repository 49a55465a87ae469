"""Hostile inputs (issue 7, points 6 and 7): malformed and adversarial configs, a lying platform, and
secrets on every error path.

What must hold, whatever the input:

- never a traceback, never code execution, never a read of a file outside the config directory;
- a config problem is a :class:`ConfigError` (exit 1) whose every diagnostic names ``file:line:col``;
- a platform answering garbage during ``plan`` is a :class:`CampaignctlError` (ApiError...) with a
  clear message, never a KeyError/TypeError/AttributeError/ValueError escaping;
- the API key (``CANARY``) shows up in no output, log, state file or saved plan.

Most cases run in-process (``load_config``, ``Session.plan`` against a hostile ASGI app that stands
in for the embedded sandbox); a handful go through the real CLI.
"""
from __future__ import annotations

import contextlib
import copy
import datetime
import http.server
import json
import logging
import math
import os
import re
import resource
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from campaignctl.config import valid_cache
from campaignctl.config.load import MAX_FILE_BYTES
from campaignctl.config.model import Config
from campaignctl.errors import ApiError, CampaignctlError, ConfigError
from campaignctl.http import ApiClient, RetryPolicy, _parse_retry_after
from campaignctl.inputs import make_providers
from campaignctl.plan.model import Plan
from campaignctl.plan.render import PLAIN, render_text
from campaignctl.sandbox import embedded
from campaignctl.session import Session, run
from campaignctl.state.base import State
from campaignctl.validation import load_config
from tests.helpers import (
    CANARY,
    EXAMPLES,
    ROOT,
    assert_no_canary,
    copy_example,
    point_at_server,
    run_cli,
    start_server,
    stop_server,
)

EXAMPLE_NAMES = ("quickstart", "microworkers-survey", "microworkers-legacy")
#: CAMPAIGNCTL_FUZZ_SCALE=20 runs 20 times the examples, new ones each run (a deeper hunt than CI's)
SCALE = float(os.environ.get("CAMPAIGNCTL_FUZZ_SCALE", "1"))
FUZZ = settings(
    deadline=None,
    derandomize=SCALE == 1,  # in CI the same examples on every run: a failure here is a bug, not bad luck
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=max(1, int(examples * SCALE)))
#: diagnostics about a whole file (no line inside it to point at) use line 0
FILE_LEVEL = ("no such file", "no *.yaml", "cannot read", "file larger than", "not a regular file", "outside the config directory")


# -- watching file reads -------------------------------------------------------------------------
_reads: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _reads is not None and event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        _reads.append(os.path.realpath(os.fsdecode(args[0])))


sys.addaudithook(_audit)


@contextlib.contextmanager
def no_reads_outside(config_root: Path, *forbidden: Path) -> Iterator[None]:
    """Fail if anything opens a file below ``forbidden`` (or /etc/passwd) that is not inside ``config_root``
    or campaignctl's own validation cache (campaignctl/config/valid_cache.py)."""
    global _reads
    _reads = []
    try:
        yield
    finally:
        seen, _reads = _reads, None
    inside = os.path.realpath(config_root)
    cache = valid_cache.cache_dir()
    own = [inside] + ([os.path.realpath(cache)] if cache else [])
    fences = [os.path.realpath(f) for f in forbidden] + ["/etc/passwd", "/etc/shadow", "/dev/zero", "/dev/urandom"]
    bad = [p for p in seen if not any(_below(p, o) for o in own) and any(_below(p, f) for f in fences)]
    assert not bad, f"read outside the config directory: {bad}"


def _below(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


# -- checking outcomes ---------------------------------------------------------------------------
def check_diagnostics(exc: ConfigError, *, file_level_ok: bool = False) -> None:
    assert exc.diagnostics, "a ConfigError without diagnostics"
    text = str(exc)
    text.encode("utf-8")  # printable: no lone surrogates
    for d in exc.diagnostics:
        assert d.file and d.file != "?", f"diagnostic without a file: {d}"
        assert d.message.strip(), f"diagnostic without a message: {d!r}"
        assert "Traceback" not in d.message and "Marked" not in d.message, d.message
        if file_level_ok and d.line == 0 and any(m in d.message for m in FILE_LEVEL):
            continue
        assert d.line >= 1 and d.col >= 1, f"diagnostic without a line: {d}"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def check_config(config: Config) -> None:
    """A config that loaded is printable and its providers can compute every desired state offline."""
    for doc in config.documents:
        for text in _strings(doc.raw):
            text.encode("utf-8")
    providers = make_providers(config, env={})
    for doc in config.resources.values():
        desired = providers[doc.provider or ""].desired(doc, config)
        json.dumps(desired, default=str, ensure_ascii=False).encode("utf-8")


def load_outcome(path: Path, *, file_level_ok: bool = False) -> Config | ConfigError:
    """load_config: a Config or a ConfigError with good diagnostics; anything else fails the test."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        check_diagnostics(exc, file_level_ok=file_level_ok)
        return exc
    check_config(config)
    return config


def write_config(directory: Path, text: str | bytes, name: str = "config.yaml") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    return path


# -- 1. configs: mutate a leaf (or a node) of the valid examples ------------------------------------
KIND_WORDS = ["Provider", "Campaign", "Task", "Job", "Template", "Component", "Schedule", "Blocklist", "WorkerGroup", "Backend"]
NAME_WORDS = ["swarms", "mw", "mw-legacy", "microworkers", "microworkers-v1", "sandbox", "five-stars", "question",
              "rate-beach", "rate-batch-1", "website-survey", "weekdays", "image-moderators", "december"]
HOSTILE_SCALARS = st.one_of(
    st.sampled_from([
        None, True, False, 0, -1, 1, 2**31, 2**63, -(2**63), 10**30, 10**400, 1e308, -1e308, 5e-324, 0.1,
        math.nan, math.inf, -math.inf, "", " ", "\t", "\u202eevil\u202c", "a\u200bb", "\u0000", "nul\u0000in", "\ufeff",
        "\ud800", "x\udfffy", "\U0001f4a9", "é" * 500, "x" * 100_000, "../../etc/passwd", "/etc/passwd",
        "data/../../../etc/passwd.csv", "/etc/passwd.csv", "~/.ssh/id_rsa.csv", "file:///etc/passwd", "http://169.254.169.254/",
        "${HOME}", "$(id)", "`id`", "{{url}}", "{{ __import__('os').system('id') }}", "=", "<<", "~", "null", "yes", "no",
        "0x1F", "1_000", "1:20", ".nan", "-.inf", "2026-13-45T99:99", "2026-12-01T09:00", "24:00", "25:61",
        "!!python/object/apply:os.system", "*alias", "&anchor", "- x", ": x", "# c", "'", '"', "\\", "\r\n", "a\nb",
        datetime.date(2026, 1, 1), datetime.datetime(2026, 1, 1, 9, 0), b"\x00\xffbinary",
        *KIND_WORDS, *NAME_WORDS, "unpublished", "active", "paused", "cancelled", "running", "stopped", "basic", "hire-group",
    ]),
    st.text(max_size=30),
    st.integers(),
    st.floats(),
)
HOSTILE_KEYS = st.one_of(
    st.sampled_from(["spec", "kind", "name", "provider", "protect", "use", "file", "rows", "<<", "__proto__", "", " ", "\u0000",
                     "id", "type", "state", "title", 0, 1.5, None, True]),
    st.text(max_size=12),
)
HOSTILE_VALUES = st.recursive(
    HOSTILE_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_KEYS, inner, max_size=3),
    max_leaves=6,
)


def _example_files(name: str) -> list[tuple[str, list[Any]]]:
    return [
        (f.relative_to(EXAMPLES / name).as_posix(), list(yaml.safe_load_all(f.read_text(encoding="utf-8"))))
        for f in sorted((EXAMPLES / name).rglob("*.yaml"))
    ]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def _parent(root: Any, path: tuple[Any, ...]) -> Any:
    node = root
    for step in path[:-1]:
        node = node[step]
    return node


EXAMPLE_FILES = {name: _example_files(name) for name in EXAMPLE_NAMES}
TARGETS = [
    (name, i, j, path)
    for name, files in EXAMPLE_FILES.items()
    for i, (_, docs) in enumerate(files)
    for j, doc in enumerate(docs)
    for path in _paths(doc)
]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Copies of the valid examples, restored after every mutation."""
    base = tmp_path_factory.mktemp("mutations")
    for name in EXAMPLE_NAMES:
        copy_example(name, base)
    return base


SAME_TYPE = st.fixed_dictionaries({  # values that keep a field's type, so they get past the schema more often
    "int": st.sampled_from([0, -1, 1, 2, 29, 30, 31, 100, 1001, 2**31, 2**63, 10**30, -(10**30)]) | st.integers(),
    "float": st.sampled_from([0.0, -0.0, -1.0, 1e-9, 0.001, 0.004999, 1e308, math.nan, math.inf, -math.inf]) | st.floats(),
    "str": st.sampled_from(["", " ", "x", "\u202e", "a\u200bb", "\U0001f4a9", "x" * 5000, "0", "00:00", "24:00", "23:59", "2026-12-01T09:00",
                            "2020-01-01T00:00", "9999-12-31T23:59", "Europe/Berlin", "Mars/Olympus", "UTC", "+14:00", "int", "us1",
                            "{{url}}", "{{nope}}", "data/rows.csv", "data/other.csv", "mon", "sun", "recurring", "one-time"]) | st.text(max_size=12),
    "bool": st.booleans(),
    "list": st.lists(st.sampled_from(["mon", "x", "", "US", "ZZ", "five-stars", "rate-beach", 0, None]), max_size=4),
    "dict": st.dictionaries(st.sampled_from(["id", "from", "to", "steps", "text", "file", "rows", "x"]), HOSTILE_SCALARS, max_size=3),
    "NoneType": HOSTILE_SCALARS,
})


@fuzz(220)
@given(
    target=st.sampled_from(TARGETS),
    action=st.sampled_from(["replace", "replace", "same-type", "same-type", "delete", "add-key"]),
    value=HOSTILE_VALUES,
    same=SAME_TYPE,
    key=HOSTILE_KEYS,
    allow_unicode=st.booleans(),
    flow=st.sampled_from([None, False, True]),
    crlf=st.booleans(),
    bom=st.booleans(),
)
def test_mutated_examples_load_or_fail_clearly(
    work: Path, target: tuple[Any, ...], action: str, value: Any, same: dict[str, Any], key: Any, allow_unicode: bool,
    flow: bool | None, crlf: bool, bom: bool,
) -> None:
    name, file_index, doc_index, path = target
    rel, docs = EXAMPLE_FILES[name][file_index]
    docs = copy.deepcopy(docs)
    if action == "same-type":
        node = docs[doc_index]
        for step in path:
            node = node[step]
        value = same.get(type(node).__name__, value)
        action = "replace"
    if action == "replace" or (action == "delete" and not path):
        if path:
            _parent(docs[doc_index], path)[path[-1]] = value
        else:
            docs[doc_index] = value
    elif action == "delete":
        del _parent(docs[doc_index], path)[path[-1]]
    else:
        node = docs[doc_index]
        for step in path:
            node = node[step]
        if not isinstance(node, dict):
            return
        node[key] = value
    text = yaml.safe_dump_all(docs, allow_unicode=allow_unicode, default_flow_style=flow, sort_keys=False)
    if crlf:
        text = text.replace("\n", "\r\n")
    file = work / name / rel
    original = file.read_bytes()
    try:
        file.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8", "surrogatepass"))
        with no_reads_outside(work / name, work.parent, Path("/etc")):
            outcome = load_outcome(work / name)
        event(type(outcome).__name__)
        if isinstance(outcome, Config):  # a config that loads also plans (against its embedded sandbox), or says why not
            try:
                plan = run(Session.load(work / name).plan())
            except CampaignctlError as exc:
                str(exc).encode("utf-8")
            else:
                render_text(plan, PLAIN).encode("utf-8")
                json.dumps(plan.to_dict(), default=str)
    finally:
        file.write_bytes(original)


# -- 2. configs: hostile YAML text ---------------------------------------------------------------
PROVIDER = "kind: Provider\nname: swarms\nspec: {type: swarms, endpoint: sandbox}\n"
FRAGMENTS = [
    PROVIDER,
    "kind: Component\nname: five-stars\nspec: {type: Rating, properties: {steps: 5}}\n",
    "kind: Task\nname: t\nprovider: swarms\nspec:\n  components: [{use: five-stars}]\n",
    "---\n", "--- \n", "...\n", "---\n...\n", "# only a comment\n", "\n", "\r\n", "\ufeff", "\t\n",
    "a: &a {k: 1, j: 2}\n", "b: *a\n", "x: *undefined\n", "<<: *a\n", "<<: {k: 1}\n", "<<: 5\n", "<<: [1, 2]\n",
    "<<: [{k: 1}, {k: 2}]\n", "<<: [*a, *a]\n", "k: 1\nk: 2\n", "spec: 1\nspec: {}\n",
    '!!python/object/apply:os.system ["echo pwned"]\n', "x: !!python/name:os.system\n", "x: !!python/object:os.x {}\n",
    "x: !!python/object/new:subprocess.Popen [[id]]\n", "x: !custom 1\n", "x: !!binary aGVsbG8=\n", "x: !!set {a, b}\n",
    "x: !!omap [a: 1]\n", "x: !!str 1\n", "x: !<tag:example.com,2000:x> 1\n", "%YAML 1.1\n---\n", "%TAG !e! tag:evil.com,2000:\n---\nx: !e!a 1\n",
    'x: "\\ud800"\n', 'x: "\\udfff\\ud800"\n', 'x: "\\x00"\n', 'x: "\\u202e"\n', "x: \u200b\n", "x: \u202eRTL\n", "x: \x85\n",
    "x: \x00\n", "x: \x07\n", "x: \ud7ff\n", "\ttab: 1\n", "x: 2001-12-14t21:59:43.10-05:00\n", "x: 0x_1F\n",
    "x: 1_000\n", "x: 1:20\n", "x: .nan\n", "x: -.inf\n", "x: 123456789012345678901234567890\n", "x: " + "9" * 5000 + "\n",
    "? [a, b]\n: 1\n", "? {a: 1}\n: 2\n", "[1, 2]: x\n", "null: x\n", "~: x\n", "=: x\n", "x: =\n", "x: <<\n",
    "x: |\n  block\n", "x: >-\n  folded\n", "'q': 1\n", "x: 'unterminated\n", "x: [1, 2\n", "{\n", "- a\nb: c\n",
    "  indented: bad\n", "kind: Provider\n", "name: p\n", "spec: {type: swarms, endpoint: sandbox}\n", "spec:\n",
    "- 1\n", "- - - - - x\n", "[" * 200 + "]" * 200 + "\n", "{a: " * 150 + "1" + "}" * 150 + "\n",
]


@fuzz(200)
@given(
    pieces=st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20)), max_size=8),
    with_provider_file=st.booleans(),
    name=st.sampled_from(["config.yaml", "config.yml", "a b/ü.yaml", ".hidden/x.yaml", "x.yaml.txt"]),
)
def test_hostile_yaml_text(tmp_path_factory: pytest.TempPathFactory, pieces: list[str], with_provider_file: bool, name: str) -> None:
    root = tmp_path_factory.mktemp("yaml")
    write_config(root / "cfg", "".join(pieces), name)
    if with_provider_file:
        write_config(root / "cfg", PROVIDER, "providers.yaml")
    with no_reads_outside(root / "cfg", root):
        event(type(load_outcome(root / "cfg", file_level_ok=True)).__name__)


@fuzz(120)
@given(prefix=st.sampled_from(["", PROVIDER, PROVIDER + "---\n"]), data=st.binary(max_size=200))
def test_random_bytes(tmp_path_factory: pytest.TempPathFactory, prefix: str, data: bytes) -> None:
    root = tmp_path_factory.mktemp("bytes")
    write_config(root, prefix.encode() + data)
    load_outcome(root)


# -- 3. configs: the nastiest cases, one by one ------------------------------------------------
def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int) -> str:
    """Each level merges the previous one twice: exponential if merges are expanded blindly."""
    inner = "&m0 {k: 1}"
    for i in range(1, levels + 1):
        inner = f"&m{i} {{<<: [{inner}, *m{i - 1}]}}"
    return f"kind: Provider\nname: p\nspec: {{<<: [{inner}]}}\n"


def merge_bomb_unique(levels: int) -> str:
    """Like merge_bomb, but every level adds its own key, so no merged key repeats within a level."""
    inner = "&m0 {k0: 1}"
    for i in range(1, levels + 1):
        inner = f"&m{i} {{<<: [{inner}, *m{i - 1}], k{i}: {i}}}"
    return f"kind: Provider\nname: p\nspec: {{<<: [{inner}]}}\n"


NASTY = {
    "deep-flow-lists": "x: " + "[" * 10_000 + "]" * 10_000 + "\n",
    "deep-flow-maps": "x: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n",
    "deep-block-lists": "- " * 10_000 + "x\n",
    "deep-block-maps": "".join(" " * i + "a:\n" for i in range(2_000)) + " " * 2_000 + "b: 1\n",
    "just-under-depth-limit": PROVIDER + "---\nkind: Component\nname: deep\nspec: {type: Text, properties: {text: " + "[" * 95 + "]" * 95 + "}}\n",
    "billion-laughs": billion_laughs(),
    "billion-laughs-in-spec": PROVIDER + "---\n" + "kind: Component\nname: c\nspec:\n  " + billion_laughs().replace("\n", "\n  "),
    "merge-bomb": merge_bomb(12),  # the 40-level bombs run in a memory-capped subprocess (test_cli_on_hostile_configs)
    "merge-bomb-unique-keys": merge_bomb_unique(12),
    "python-apply": '!!python/object/apply:os.system ["touch /tmp/campaignctl-pwned"]\n',
    "python-apply-in-spec": 'kind: Component\nname: c\nspec: !!python/object/apply:os.system ["touch /tmp/campaignctl-pwned"]\n',
    "python-name": "kind: Component\nname: c\nspec: {type: !!python/name:os.system Text}\n",
    "python-module": "kind: !!python/module:os Component\n",
    "custom-tag": "kind: !Ref Component\nname: c\nspec: {}\n",
    "duplicate-keys": "kind: Provider\nname: a\nname: b\nspec: {type: swarms, endpoint: sandbox}\n",
    "merge-not-a-mapping": "kind: Provider\nname: p\nspec: {<<: 5, type: swarms, endpoint: sandbox}\n",
    "merge-list-of-scalars": "kind: Provider\nname: p\nspec: {<<: [1, 2], type: swarms, endpoint: sandbox}\n",
    "undefined-alias": "kind: Provider\nname: *nothing\n",
    "nul-byte": "kind: Provider\nname: p\x00q\nspec: {}\n",
    "lone-surrogate-escape": 'kind: Component\nname: c\nspec: {type: Text, properties: {text: "\\ud800"}}\n',
    "only-comments": "# nothing here\n# at all\n",
    "empty": "",
    "only-separators": "---\n...\n---\n...\n",
    "explicit-null-document": PROVIDER + "---\n~\n",
    "scalar-document": PROVIDER + "---\njust a string\n",
    "list-document": PROVIDER + "---\n- kind: Provider\n",
    "tabs": "kind: Provider\n\tname: p\n",
    "unterminated": 'kind: "Provider\n',
}


@pytest.mark.parametrize("case", sorted(NASTY))
def test_nasty_configs(tmp_path: Path, case: str) -> None:
    write_config(tmp_path / "cfg", NASTY[case])
    outcome = load_outcome(tmp_path / "cfg")
    assert not Path("/tmp/campaignctl-pwned").exists()
    if case in ("only-comments", "empty", "only-separators"):
        assert isinstance(outcome, Config) and not outcome.documents
    elif case == "just-under-depth-limit":
        assert isinstance(outcome, ConfigError)  # a list is not a text, but it was read
        assert "nesting" not in str(outcome)
    else:
        assert isinstance(outcome, ConfigError), case


def test_nul_byte_is_reported_at_its_line(tmp_path: Path) -> None:
    write_config(tmp_path, PROVIDER + "---\nkind: Component\nname: c\nspec: {type: Text, properties: {text: a\x00b}}\n")
    exc = load_outcome(tmp_path)
    assert isinstance(exc, ConfigError)
    assert [(d.line, d.col) for d in exc.diagnostics] == [(7, 40)], str(exc)


def test_trailing_separator_is_an_empty_document(tmp_path: Path) -> None:
    write_config(tmp_path, PROVIDER + "---\n")
    write_config(tmp_path, "---\n" + PROVIDER.replace("name: swarms", "name: other") + "...\n---\n# the end\n", "other.yaml")
    config = load_outcome(tmp_path)
    assert isinstance(config, Config), str(config)
    assert sorted(config.providers) == ["other", "swarms"]


def test_scalar_document_points_at_its_line(tmp_path: Path) -> None:
    write_config(tmp_path, PROVIDER + "---\n42\n")
    exc = load_outcome(tmp_path)
    assert isinstance(exc, ConfigError)
    assert [d.line for d in exc.diagnostics] == [5], str(exc)


def test_merge_keys_follow_yaml_rules(tmp_path: Path) -> None:
    """`<<` merges: the mapping's own keys win, then the merged mappings in order."""
    write_config(
        tmp_path,
        "kind: Provider\nname: other\nspec:\n  <<: [&base {type: swarms, endpoint: 'https://a.example', timeout: 5}, {timeout: 9, parallelism: 2}]\n"
        "  endpoint: sandbox\n",
    )
    config = load_outcome(tmp_path)
    assert isinstance(config, Config), str(config)
    assert config.providers["other"].spec == {"type": "swarms", "endpoint": "sandbox", "timeout": 5, "parallelism": 2}


def test_huge_scalar_under_the_limit(tmp_path: Path) -> None:
    """A 10 MB scalar (the limit is 10 MiB) loads, or fails with a diagnostic; it does not hang."""
    text = PROVIDER + "---\nkind: Component\nname: big\nspec: {type: Text, properties: {text: '" + "x" * 10_000_000 + "'}}\n"
    assert len(text.encode()) < MAX_FILE_BYTES
    write_config(tmp_path, text)
    load_outcome(tmp_path)


def test_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    write_config(tmp_path, "x: '" + "x" * (MAX_FILE_BYTES + 10) + "'\n")
    exc = load_outcome(tmp_path, file_level_ok=True)
    assert isinstance(exc, ConfigError) and "larger than" in str(exc)


@pytest.mark.parametrize("value", [".nan", ".inf", "-.Inf", "1" + "0" * 400, "-" + "9" * 30, "0x" + "F" * 40, str(2**63)])
def test_numbers_no_platform_takes_are_refused(tmp_path: Path, value: str) -> None:
    """NaN, infinities and integers beyond 64 bits passed the schema, then failed in plan or apply."""
    config_dir = copy_example("quickstart", tmp_path)
    campaign = config_dir / "campaign.yaml"
    campaign.write_text(campaign.read_text().replace("workerPayment: 0.05", f"workerPayment: {value}"))
    exc = load_outcome(config_dir)
    assert isinstance(exc, ConfigError), value
    assert [(Path(d.file).name, d.line) for d in exc.diagnostics] == [("campaign.yaml", 17)], str(exc)


def test_not_utf8(tmp_path: Path) -> None:
    write_config(tmp_path, PROVIDER.encode() + b"---\nkind: Component\nname: c\xe9\xff\n")
    exc = load_outcome(tmp_path)
    assert isinstance(exc, ConfigError) and "UTF-8" in str(exc)
    assert exc.diagnostics[0].line == 6
    write_config(tmp_path, PROVIDER.encode("utf-16"))  # with a BOM, but not UTF-8
    assert isinstance(load_outcome(tmp_path), ConfigError)


def test_windows_line_endings_and_bom(tmp_path: Path) -> None:
    config_dir = copy_example("quickstart", tmp_path)
    for file in config_dir.rglob("*.yaml"):
        file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes().replace(b"\n", b"\r\n"))
    assert isinstance(load_outcome(config_dir), Config)


# -- 4. configs: paths that try to leave the config directory ---------------------------------------
@pytest.fixture
def survey(tmp_path: Path) -> tuple[Path, Path]:
    """The Microworkers v2 example, plus an ``outside`` directory holding a secret CSV next to it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text(f"url,brand\n{CANARY},x\n" * 40, encoding="utf-8")
    (outside / "secret.jsonl").write_text(json.dumps({"url": CANARY, "brand": "x"}) + "\n", encoding="utf-8")
    (outside / "secret.yaml").write_text(f"kind: Provider\nname: {CANARY}\nspec: {{type: swarms, endpoint: sandbox}}\n")
    return copy_example("microworkers-survey", tmp_path), outside


def _set_tasks_file(config_dir: Path, value: str) -> None:
    campaigns = config_dir / "campaigns.yaml"
    text = campaigns.read_text(encoding="utf-8")
    assert "tasks: {file: data/rows.csv}" in text
    campaigns.write_text(text.replace("tasks: {file: data/rows.csv}", f"tasks: {{file: {json.dumps(value)}}}"), encoding="utf-8")


TRAVERSALS = [
    "../outside/secret.csv", "../../outside/secret.csv", "data/../../outside/secret.csv", "{outside}/secret.csv",
    "../../../../../../../../etc/passwd.csv", "/etc/passwd", "../../../../etc/passwd", "data/link.csv", "data/dirlink/secret.csv",
    "data/link.jsonl", "data/rows.csv\u0000.txt", "data/nul\u0000.csv", "data\\..\\..\\outside\\secret.csv", "data/missing.csv",
    "data", "data/", "data/loop.csv", "~/secret.csv", "file:///etc/passwd.csv", "%2e%2e/outside/secret.csv",
]


@pytest.mark.parametrize("value", TRAVERSALS)
def test_rows_file_stays_inside(survey: tuple[Path, Path], value: str) -> None:
    config_dir, outside = survey
    (config_dir / "data" / "link.csv").symlink_to(outside / "secret.csv")
    (config_dir / "data" / "link.jsonl").symlink_to(outside / "secret.jsonl")
    (config_dir / "data" / "dirlink").symlink_to(outside, target_is_directory=True)
    (config_dir / "data" / "loop.csv").symlink_to(config_dir / "data" / "loop.csv")
    _set_tasks_file(config_dir, value.format(outside=outside))
    with no_reads_outside(config_dir, outside, Path("/etc")):
        outcome = load_outcome(config_dir)
    assert isinstance(outcome, ConfigError), value
    assert CANARY not in str(outcome)


ROW_PIECES = [
    "id,url,brand\n", "url,brand\n", "id,id,url\n", "site001,https://a.example/,Acme\n", ",,\n", "a,b\n", "a,b,c,d\n",
    '"unterminated,x\n', "x\x00y,a,b\n", "\ufeffid,url,brand\n", "\r\n", "\n", "bad id!,u,b\n", "test:q,url\n",
    "x" * 200_000 + ",a,b\n", '{"id": "r1", "url": "u", "brand": "b"}\n', '{"id": "r1", "url": "\\ud800", "brand": "b"}\n',
    "[" * 100_000 + "\n", "{" * 100_000 + "\n", '{"id": {"a": 1}, "url": [1], "brand": null}\n', "[1, 2]\n", '"x"\n',
    '{"id": "r2", "url": NaN, "brand": Infinity}\n', '{"id": 1e999, "url": 1, "brand": true}\n', "null\n",
]


@fuzz(120)
@given(
    pieces=st.lists(st.sampled_from(ROW_PIECES) | st.text(max_size=30), max_size=8),
    repeat=st.integers(1, 40),
    suffix=st.sampled_from([".csv", ".jsonl"]),
    raw=st.binary(max_size=50),
)
def test_hostile_task_rows(work: Path, pieces: list[str], repeat: int, suffix: str, raw: bytes) -> None:
    """Task rows (CSV / JSONL) with hostile content: loaded, or file:line diagnostics; never a traceback."""
    config_dir = work / "microworkers-survey"
    campaigns = config_dir / "campaigns.yaml"
    original = campaigns.read_bytes()
    data = config_dir / "data" / f"fuzz{suffix}"
    try:
        campaigns.write_bytes(original.replace(b"data/rows.csv", f"data/fuzz{suffix}".encode()))
        data.write_bytes(("".join(pieces) * repeat).encode("utf-8", "surrogatepass") + raw)
        event(type(load_outcome(config_dir)).__name__)
    finally:
        campaigns.write_bytes(original)
        data.unlink(missing_ok=True)


def test_yaml_symlinks_out_of_the_config_are_not_read(survey: tuple[Path, Path]) -> None:
    config_dir, outside = survey
    (config_dir / "stolen.yaml").symlink_to(outside / "secret.yaml")
    (config_dir / "passwd.yaml").symlink_to("/etc/passwd")
    (config_dir / "zero.yaml").symlink_to("/dev/zero")  # would never end if read
    (config_dir / "linked-dir").symlink_to(outside, target_is_directory=True)
    (config_dir / "loop.yaml").symlink_to(config_dir / "loop.yaml")
    with no_reads_outside(config_dir, outside, Path("/etc"), Path("/dev")):
        outcome = load_outcome(config_dir, file_level_ok=True)
    assert isinstance(outcome, ConfigError)
    assert CANARY not in str(outcome) and "root:" not in str(outcome)


def test_fifo_is_not_read(tmp_path: Path) -> None:
    write_config(tmp_path, PROVIDER)
    os.mkfifo(tmp_path / "pipe.yaml")  # opening it would block forever
    outcome = load_outcome(tmp_path, file_level_ok=True)
    assert isinstance(outcome, ConfigError) and "regular file" in str(outcome)


# -- 5. the CLI on the nastiest configs -------------------------------------------------------------
CLI_CASES = {  # file name -> content: one config directory, every problem reported in one run
    "merge-bomb.yaml": merge_bomb(40),
    "merge-bomb-unique.yaml": merge_bomb_unique(40),
    "laughs.yaml": billion_laughs(),
    "deep.yaml": NASTY["deep-flow-lists"],
    "apply.yaml": NASTY["python-apply"],
    "name.yaml": NASTY["python-name"],
    "surrogate.yaml": 'kind: Job\nname: j\nprovider: swarms\nspec: {description: "\\ud800 \\u202e", tasks: []}\n',
    "nul.yaml": "kind: Job\nname: k\nprovider: swarms\nspec: {description: a\x00b, tasks: []}\n",
    "merge-5.yaml": "kind: Provider\nname: p\nspec: {<<: 5}\n",
    "non-utf8.yaml": "kind: Job\nname: j\xff\n",
    "huge.yaml": "x: '" + "x" * (MAX_FILE_BYTES + 1) + "'\n",
    "trailing.yaml": PROVIDER + "---\n",
}

BOMBS = ("merge-bomb.yaml", "merge-bomb-unique.yaml", "laughs.yaml", "deep.yaml")


def test_cli_on_hostile_configs(tmp_path: Path) -> None:
    """validate and plan: exit 1, every bad file named with file:line:col, no traceback, nothing run.

    The bombs go to `validate` in a subprocess with an address-space cap (a bomb that went off would
    fail there instead of eating the machine); the rest to `validate` and `plan` through run_cli."""
    for name, text in CLI_CASES.items():
        data = text.encode("latin-1") if name == "non-utf8.yaml" else text.encode("utf-8", "surrogatepass")
        write_config(tmp_path / ("bombs" if name in BOMBS else "rest"), data, name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SWARMS_", "MICROWORKERS_"))}
    env.update({"NO_COLOR": "1", "PYTHONWARNINGS": "error"})
    limit = 2 * 2**30
    proc = subprocess.run(
        [sys.executable, "-m", "campaignctl", "validate", str(tmp_path / "bombs")],
        env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60, cwd=ROOT, check=False,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)),
    )
    outputs = [("bombs", proc.returncode, proc.stdout + proc.stderr)]
    for command in ("validate", "plan"):
        result = run_cli(command, tmp_path / "rest")
        outputs.append(("rest", result.code, result.text))
    for directory, code, out in outputs:
        assert code == 1, out
        assert "Traceback" not in out and "MemoryError" not in out and CANARY not in out, out
        for name in CLI_CASES:
            if name != "trailing.yaml" and (name in BOMBS) == (directory == "bombs"):
                assert re.search(rf"{directory}/{re.escape(name)}:\d+:\d+: ", out), (name, out)
        assert "trailing.yaml" not in out, out
    assert not Path("/tmp/campaignctl-pwned").exists()


def test_cli_plan_prints_rtl_and_zero_width_text(tmp_path: Path) -> None:
    """Unicode that is valid but nasty (RTL override, zero-width, emoji, combining marks) plans fine."""
    config_dir = copy_example("quickstart", tmp_path)
    campaign = config_dir / "campaign.yaml"
    campaign.write_text(campaign.read_text().replace("title: Review model images", 'title: "Re\\u202eview \\u200b\\U0001F4A9 e\\u0301"'))
    result = run_cli("plan", config_dir)
    assert result.code == 0, result.text
    assert "\u202e" in result.out


# -- 6. a hostile platform ---------------------------------------------------------------------------
@dataclass
class Exchange:
    method: str
    path: str
    query: bytes
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class Recorder:
    """ASGI middleware keeping every request/response the real sandbox exchanged."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.log: list[Exchange] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        captured: dict[str, Any] = {"body": b""}

        async def keep(message: Any) -> None:
            if message["type"] == "http.response.start":
                captured["status"], captured["headers"] = message["status"], list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        await self.app(scope, receive, keep)
        self.log.append(Exchange(scope["method"], scope["path"], scope["query_string"], captured["status"], captured["headers"], captured["body"]))


Mutation = Any  # (status, headers, body) -> (status, headers, body)


class HostileApp:
    """Answers each request with what the real sandbox answered, except the target, which it mutates."""

    LIMIT = 400  # requests per plan; beyond: the client is looping

    def __init__(self, log: list[Exchange], target: int, mutation: Mutation) -> None:
        self.exact = {(e.method, e.path, e.query): e for e in log}
        self.by_path = {(e.method, e.path): e for e in log}
        self.target = log[target]
        self.mutation = mutation
        self.requests: list[tuple[str, str, bytes, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        while (await receive()).get("more_body"):
            pass
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
        self.requests.append((scope["method"], scope["path"], scope["query_string"], host))
        found = self.exact.get((scope["method"], scope["path"], scope["query_string"])) or self.by_path.get((scope["method"], scope["path"]))
        if len(self.requests) > self.LIMIT:
            status, headers, body = 500, [(b"content-type", b"text/plain")], b"request loop"
        elif found is None:
            status, headers, body = 404, [(b"content-type", b"application/json")], b'{"message": "no such endpoint"}'
        else:
            status, headers, body = found.status, [h for h in found.headers if h[0].lower() != b"content-length"], found.body
            if found is self.target:
                status, headers, body = self.mutation(status, headers, body)
        await send({"type": "http.response.start", "status": status, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


@dataclass
class Recorded:
    config_dir: Path
    log: list[Exchange]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Recorded]:
    """Each example applied to its embedded sandbox, and what a following plan read, request by request."""
    base = tmp_path_factory.mktemp("platforms")
    out: dict[str, Recorded] = {}
    real = embedded.embedded_app
    for name in EXAMPLE_NAMES:
        config_dir = copy_example(name, base)
        session = Session.load(config_dir)
        result, _ = run(session.apply(run(session.plan()), progress=False))
        assert not result.failed, result.failed
        recorder = Recorder(real(config_dir))
        embedded.embedded_app = lambda root, recorder=recorder: recorder  # type: ignore[assignment]
        try:
            plan = run(Session.load(config_dir).plan())
        finally:
            embedded.embedded_app = real
        assert not plan.has_changes
        assert recorder.log and all(e.method == "GET" and e.status == 200 for e in recorder.log)
        out[name] = Recorded(config_dir, recorder.log)
    return out


async def _no_sleep(self: ApiClient, attempt: int, response: Any, method: str, url: str, why: str) -> None:
    if response is not None and "Retry-After" in response.headers:
        delay = _parse_retry_after(response.headers["Retry-After"])
        assert delay >= 0 and not math.isnan(delay)
    self.stats.retries += 1


SELF = object()  # stands for "the URL of this very request" (a paging loop)
JSON_SCALARS = st.one_of(
    st.sampled_from([
        None, True, False, 0, -1, 1, 10**30, -(10**30), 1e308, 1.5, math.nan, math.inf, -math.inf, "", " ", "x", "null",
        "\ud800", "\u202e", "\x00", "<script>alert(1)</script>", "../../etc/passwd", "2026-13-99T99:99:99Z", "RUNNING",
        "FINISHED", "SUCCESS", "ERROR", "active", "cancelled", "finished", "swarms/task/rate-beach", "NaN",
        "http://evil.example/steal", "https://sandbox.evil.example/x", "//evil.example/x", "http://[::1", "http://", "/\x00",
        "x" * 100_000, SELF, "again",
    ]),
    st.text(max_size=10),
    st.integers(),
    st.floats(),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["id", "items", "next", "href", "_links", "status", "title", "code", "x"]) | st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
HTML_500 = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
STATUSES = [200, 201, 202, 204, 206, 301, 302, 304, 400, 401, 403, 404, 405, 409, 410, 418, 422, 429, 500, 502, 503, 504, 599]
CONTENT_TYPES = [b"application/json", b"text/html; charset=utf-8", b"text/plain", b"application/json; charset=utf-16",
                 b"application/json; charset=bogus", b"application/octet-stream", b""]


NASTY_STRINGS = st.sampled_from(["", " ", "\ud800", "\u202e\u200b", "\x00", "x" * 10_000, "null", "NaN", "-1", "1e999", "RUNNING",
                                 "FINISHED", "<b>html</b>", "2026-13-99T99:99:99Z", "swarms/task/rate-beach", "../..", "\U0001f4a9"]) | st.text(max_size=8)
NASTY_NUMBERS = st.sampled_from([None, 0, -1, 10**30, -(10**30), 1e308, math.nan, math.inf, -math.inf, 0.5, True, "1", [], {}])
NASTY_LINKS = st.sampled_from([
    "http://evil.example/steal", "https://sandbox.evil.example/x", "http://sandbox:81/swarms/tasks", "https://sandbox/swarms/tasks",
    "//evil.example/x", "http://[::1", "http://", "/\x00", "\x00", " ", "javascript:alert(1)", "file:///etc/passwd", "../../../x", "?", "#",
    "/swarms/tasks?limit=100&after=" + "9" * 5000,
])


def _replace_all(data: Any, kinds: Any, value: Any) -> Any:
    if isinstance(data, dict):
        return {k: _replace_all(v, kinds, value) for k, v in data.items()}
    if isinstance(data, list):
        return [_replace_all(v, kinds, value) for v in data]
    if isinstance(data, kinds) and not (kinds == str and data in ("SUCCESS",)):  # keep v1's status, else every reply is an error
        return value
    return data


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    _parent(data, path)[path[-1]] = value
    return data


def _resolve_self(value: Any, link: str) -> Any:
    if value is SELF:
        return link
    if isinstance(value, list):
        return [_resolve_self(v, link) for v in value]
    if isinstance(value, dict):
        return {k: _resolve_self(v, link) for k, v in value.items()}
    return value


@st.composite
def mutations(draw: st.DrawFn, log: list[Exchange]) -> tuple[int, str, Mutation]:
    target = draw(st.integers(0, len(log) - 1))
    exchange = log[target]
    link = exchange.path + ("?" + exchange.query.decode() if exchange.query else "")
    kind = draw(st.sampled_from(["json", "json", "json", "json", "every-string", "every-number", "link", "loop", "body", "status", "headers"]))
    status, body, ctype, extra = 200, exchange.body, b"application/json", []
    if kind == "json":
        data = json.loads(exchange.body)
        path = draw(st.sampled_from(list(_paths(data))))
        if path and draw(st.booleans()):
            del _parent(data, path)[path[-1]]
        else:
            data = _set(data, path, _resolve_self(draw(JSON_VALUES), link))
        body = json.dumps(data, allow_nan=True).encode()
        what = f"json {path!r}"
    elif kind in ("every-string", "every-number"):  # the same nasty value in every string (number) of the reply
        value = draw(NASTY_STRINGS if kind == "every-string" else NASTY_NUMBERS)
        data = _replace_all(json.loads(exchange.body), str if kind == "every-string" else (int, float), value)
        body = json.dumps(data, allow_nan=True).encode()
        what = f"{kind} {value!r}"[:80]
    elif kind == "link":  # paging that points elsewhere
        data = json.loads(exchange.body)
        target_link = draw(NASTY_LINKS)
        if isinstance(data, dict):
            data["_links"] = {"next": {"href": target_link}}
            data["nextPageToken"] = target_link
        body = json.dumps(data).encode()
        what = f"link {target_link!r}"
    elif kind == "loop":  # the reply names itself as its next page
        data = json.loads(exchange.body)
        if isinstance(data, dict):
            data["_links"] = {"next": {"href": link}}
            data["nextPageToken"] = "again"
        body = json.dumps(data).encode()
        what = "paging loop"
    elif kind == "body":
        body = draw(st.sampled_from([
            b"", b"null", b"[]", b"{}", b"0", b'"x"', b"true", b"[{}]", b"[null]", HTML_500, b"\xff\xfe\x00garbage", b"\x00" * 64,
            b"{" * 100_000, b"[" * 100_000, b'{"items": [' + b",".join([b'{"id": 1}'] * 50_000) + b"]}",
            b'{"x": "' + b"y" * 5_000_000 + b'"}', b'{"a": NaN, "b": Infinity}', b'{"a": 1}garbage', b'{"a": 1, "a": 2}',
            exchange.body + b"garbage", exchange.body * 2,
        ]) | st.integers(0, max(0, len(exchange.body) - 1)).map(lambda n: exchange.body[:n]) | st.binary(max_size=64))
        status = draw(st.sampled_from([200, 200, 500]))
        what = f"body {body[:40]!r}..."
    elif kind == "status":
        status = draw(st.sampled_from(STATUSES))
        body = draw(st.sampled_from([exchange.body, b"", HTML_500, b'{"message": "nope", "code": 42}', b'{"status": "ERROR"}', b"[1]"]))
        what = f"status {status}"
    else:
        status = draw(st.sampled_from([200, 429, 503]))
        ctype = draw(st.sampled_from(CONTENT_TYPES))
        extra = [(b"retry-after", draw(st.sampled_from([b"0", b"-5", b"nan", b"inf", b"1e400", b"soon", b"Wed, 21 Oct 2015 07:28:00 GMT",
                                                        b"Mon, 99 Foo 99999 99:99:99 GMT", b"", b"\xff"])))]
        extra += [(b"content-encoding", e) for e in draw(st.lists(st.sampled_from([b"gzip", b"deflate", b"br", b"identity", b"bogus"]), max_size=1))]
        what = f"headers {ctype!r} {extra!r} status {status}"

    def mutate(_status: int, _headers: list[tuple[bytes, bytes]], _body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        return status, ([(b"content-type", ctype)] if ctype else []) + extra, body

    return target, what, mutate


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def plan_against(recorded: Recorded, app: HostileApp, forget_state: bool) -> Plan | CampaignctlError:
    """Session.plan against ``app``; asyncio must not log an error (it prints a traceback on stderr)."""
    real, sleep = embedded.embedded_app, ApiClient._sleep_before_retry
    embedded.embedded_app = lambda root: app  # type: ignore[assignment]
    ApiClient._sleep_before_retry = _no_sleep  # type: ignore[method-assign]
    errors = _Records()
    logging.getLogger("asyncio").addHandler(errors)
    try:
        session = Session.load(recorded.config_dir)
        if forget_state:
            session.state = State()
        try:
            return run(session.plan())
        except CampaignctlError as exc:
            return exc
    finally:
        embedded.embedded_app = real
        ApiClient._sleep_before_retry = sleep  # type: ignore[method-assign]
        logging.getLogger("asyncio").removeHandler(errors)
        assert not errors.records, [r.getMessage() for r in errors.records]


def check_plan_outcome(outcome: Plan | CampaignctlError, app: HostileApp) -> None:
    assert len(app.requests) <= HostileApp.LIMIT, f"the client kept requesting: {app.requests[-5:]}"
    if isinstance(outcome, CampaignctlError):
        message = str(outcome)
        message.encode("utf-8")
        assert message.strip() and "Traceback" not in message
        if isinstance(outcome, ApiError):
            assert outcome.message.strip(), repr(outcome)
        return
    text = render_text(outcome, PLAIN)
    text.encode("utf-8")  # what plan prints on stdout
    json.dumps(outcome.to_dict(), default=str)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_hostile_platform(recorded: dict[str, Recorded], name: str) -> None:
    rec = recorded[name]

    @fuzz(70)
    @given(mutation=mutations(rec.log), forget_state=st.booleans())
    def check(mutation: tuple[int, str, Mutation], forget_state: bool) -> None:
        target, what, mutate = mutation
        app = HostileApp(rec.log, target, mutate)
        outcome = plan_against(rec, app, forget_state)
        event(f"{what.split()[0]} -> {type(outcome).__name__}")
        check_plan_outcome(outcome, app)

    check()


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
@pytest.mark.parametrize("body", [b"", b"null", b"[]", b"[" * 100_000, HTML_500, b'{"a": 1', b"\xff"], ids=["empty", "null", "array", "deep", "html", "truncated", "binary"])
def test_every_read_endpoint_answering_garbage(recorded: dict[str, Recorded], name: str, body: bytes) -> None:
    """Each endpoint plan reads, in turn, answers the same garbage (with 200 and with 500)."""
    rec = recorded[name]
    for target in range(len(rec.log)):
        for status in (200, 500):
            app = HostileApp(rec.log, target, lambda s, h, b, status=status: (status, [(b"content-type", b"application/json")], body))
            outcome = plan_against(rec, app, forget_state=False)
            check_plan_outcome(outcome, app)
            if body in (b"[" * 100_000, HTML_500, b'{"a": 1', b"\xff"):
                assert isinstance(outcome, ApiError), (rec.log[target].path, status, outcome)


class RawServer:
    """A TCP server answering every request with ``answer`` (raw bytes), then hanging up."""

    def __init__(self) -> None:
        self.answer = b""
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.settimeout(5)
                    data = b""
                    while b"\r\n\r\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    conn.sendall(self.answer)
                    conn.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

    def close(self) -> None:
        self.sock.close()


RAW_ANSWERS = [
    b"", b"garbage\r\n\r\n", b"\x00\xff" * 100, b"HTTP/1.1 200 OK\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}", b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}", b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", b"HTTP/1.1 200 OK\r\nContent-Length: \xff\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n{}",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * 70_000 + b"\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
    b"HTTP/1.1 999999999999 OK\r\nContent-Length: 2\r\n\r\n{}", b"HTTP/1.1 000 OK\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\n{}", b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/2 200 OK\r\nContent-Length: 2\r\n\r\n{}", b"ICY 200 OK\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * 70_000 + b"\r\n\r\n{}", b"HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n{}",
    b"HTTP/1.1 200 OK\nContent-Length: 2\n\n{}", b"HTTP/1.1 200 OK\r\n\xff\xfe: \x00\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope",
    b"HTTP/1.1 200 OK\r\nContent-Encoding: br, zstd, bogus\r\nContent-Length: 4\r\n\r\nnope",
    b"HTTP/1.1 500 Oops\r\nContent-Encoding: deflate\r\nContent-Length: 4\r\n\r\nnope",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 100 Continue\r\n\r\n" * 50, b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=\x00\r\nContent-Length: 2\r\n\r\n{}",
    b"HTTP/1.1 301 Moved\r\nLocation: http://evil.example/\r\nContent-Length: 0\r\n\r\n",
    b"HTTP/1.1 429 Slow down\r\nRetry-After: 1e400\r\nContent-Length: 0\r\n\r\n",
]


def test_raw_http_answers() -> None:
    """A platform speaking broken HTTP to the network transport: an ApiError (TransportError...) or a
    decoded body; never a ValueError, a DecodingError or a LimitOverrunError escaping."""
    server = RawServer()

    async def one(answer: bytes) -> Any:
        server.answer = answer
        client = ApiClient(server.url, timeout=3, retry=RetryPolicy(attempts=2, base_delay=0, max_delay=0, max_retry_after=0))
        try:
            return await client.json("GET", "/things")
        except ApiError as exc:
            assert str(exc).strip()
            return exc
        finally:
            await client.aclose()

    @fuzz(60)
    @given(answer=st.sampled_from(RAW_ANSWERS) | st.binary(max_size=80).map(lambda b: b"HTTP/1.1 200 OK\r\n" + b))
    def check(answer: bytes) -> None:
        run(one(answer))

    try:
        for answer in RAW_ANSWERS:
            run(one(answer))
        check()
    finally:
        server.close()


def test_parse_retry_after_never_negative_or_nan() -> None:
    @fuzz(300)
    @given(value=st.text(max_size=40) | st.sampled_from(["nan", "-inf", "inf", "1e400", "Mon, 99 Foo 99999 99:99:99 GMT", "Wed, 21 Oct 2015 07:28:00 -0000"]))
    def check(value: str) -> None:
        delay = _parse_retry_after(value)
        assert delay >= 0 and not math.isnan(delay)

    check()


# -- 7. secrets: the API key never leaks ------------------------------------------------------------
class ReflectingHandler(http.server.BaseHTTPRequestHandler):
    """A platform that echoes every request header and the URL back in its error pages."""

    status = 500

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        sent = self.rfile.read(length).decode("latin-1") if length else ""
        echo = f"{self.command} {self.path}\n{self.headers}\n{sent}"
        if "json" in self.path:
            body = json.dumps({"message": echo, "detail": echo, "error": echo, "status": "ERROR", "errors": [{"field": echo, "message": echo}]}).encode()
            ctype = "application/json"
        else:
            body = f"<html><body><pre>{echo}</pre></body></html>".encode()
            ctype = "text/html"
        self.send_response(self.status)
        self.send_header("Content-Type", ctype)
        self.send_header("X-Request-ID", echo.replace("\n", " ")[:200])
        self.send_header("Retry-After", "0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def reflecting_server(status: int) -> Iterator[str]:
    handler = type("Handler", (ReflectingHandler,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]  # clients hanging up
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def three_providers_at(directory: Path, url: str) -> Path:
    """One config with all three platform types pointed at ``url``, each with its key in the environment."""
    write_config(directory, "\n---\n".join([
        f"kind: Provider\nname: swarms\nspec: {{type: swarms, endpoint: '{url}/swarms', auth: {{tokenEnv: SWARMS_TOKEN}}}}",
        f"kind: Provider\nname: mw\nspec: {{type: microworkers, endpoint: '{url}/json/v2', auth: {{apiKeyEnv: MW_KEY}}}}",
        f"kind: Provider\nname: legacy\nspec: {{type: microworkers-v1, endpoint: '{url}/v1', auth: {{apiKeyEnv: MW1_KEY}}}}",
        "kind: Component\nname: stars\nspec: {type: Rating, properties: {steps: 5}}",
        "kind: Task\nname: t\nprovider: swarms\nspec: {components: [{use: stars}]}",
        "kind: WorkerGroup\nname: g\nprovider: legacy\nspec: {groupId: '1111'}",
        "kind: Template\nname: tpl\nprovider: mw\nspec: {title: T, htmlCode: '<p>hi</p>'}",
    ]) + "\n")
    return directory


CANARY_ENV = {"SWARMS_TOKEN": CANARY, "MW_KEY": CANARY, "MW1_KEY": CANARY}


def leaks(text: str) -> list[str]:
    """Pieces of the canary (6 characters or more) in ``text``: a secret cut short is still a leak."""
    return [CANARY[i : i + 6] for i in range(len(CANARY) - 5) if CANARY[i : i + 6] in text]


def test_echoed_secret_is_redacted_even_when_cut_short() -> None:
    """A platform echoing the key in its error body, error code and request id, anywhere in a long text."""
    from campaignctl.http import default_error_parser
    from campaignctl.platforms.microworkers.provider import mw_error
    from campaignctl.platforms.microworkers_v1.read import v1_error
    from campaignctl.platforms.swarms.provider import swarms_error

    clients = [ApiClient("https://api.test/v1", secrets=[CANARY], error_parser=p) for p in (default_error_parser, swarms_error, mw_error, v1_error)]

    @fuzz(80)
    @given(offset=st.integers(0, 320), status=st.sampled_from([200, 401, 404, 500, 503]), as_json=st.booleans())
    def check(offset: int, status: int, as_json: bool) -> None:
        echo = "x" * offset + CANARY + " and more text after it"
        if as_json:
            body = json.dumps({k: echo for k in ("code", "title", "message", "detail", "description", "error", "errors_list")} | {"status": "ERROR"})
        else:
            body = f"<html><body><pre>{echo}</pre></body></html>"
        request = httpx.Request("GET", f"https://api.test/v1/things?key={CANARY}")
        response = httpx.Response(status, content=body.encode(), headers={"X-Request-ID": echo, "Content-Type": "text/html"}, request=request)
        for client in clients:
            errors = [client.error_from(response)]
            try:
                client.decode(response)
            except ApiError as exc:
                errors.append(exc)
            for exc in errors:
                assert not leaks(str(exc)), (client.error_parser, str(exc))

    try:
        check()
    finally:
        for client in clients:
            run(client.aclose())


def debug_run(*args: str | Path, env: dict[str, str], code: int = 1) -> str:
    """`--debug` re-raises, so a traceback is expected: run it without run_cli's no-traceback check."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("SWARMS_", "MICROWORKERS_"))}
    full.update({"NO_COLOR": "1", **env})
    proc = subprocess.run([sys.executable, "-m", "campaignctl", "--debug", *map(str, args)], env=full, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=120, cwd=ROOT, check=False)
    assert proc.returncode == code, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


@pytest.mark.parametrize("status", [500, 401])
def test_reflected_secret_is_redacted(tmp_path: Path, status: int) -> None:
    """Three providers at a platform echoing the key everywhere; also checks that the calls still in
    flight when the first error ends the run end quietly (no asyncio traceback on stderr)."""
    with reflecting_server(status) as url:
        config_dir = three_providers_at(tmp_path / "cfg", url)
        plan_file = tmp_path / "plan.json"
        for args in (("plan", config_dir), ("-vv", "plan", config_dir, "-out", plan_file), ("apply", config_dir, "--auto-approve")):
            result = run_cli(*args, env=CANARY_ENV)
            assert result.code == 1, result.text
            assert f"HTTP {status}" in result.err, result.text
            assert "***" in result.err and not leaks(result.text), result.text  # the echoed key was there, and was redacted
        output = debug_run("plan", config_dir, env=CANARY_ENV)
        assert "Traceback" in output and "ApiError" in output and not leaks(output), output
    assert not plan_file.exists() or CANARY not in plan_file.read_text()
    assert_no_canary(tmp_path)


def test_wrong_key_and_faults_on_the_sandbox(tmp_path: Path) -> None:
    """The real sandbox refusing the key (401) and failing every call (5xx), with -vv and --debug."""
    wrong = start_server(tmp_path / "wrong", key="not-the-canary")
    faulty = start_server(tmp_path / "faulty", "--faults", "5xx=1,seed=3")
    try:
        for server, expect in ((wrong, "HTTP 401"), (faulty, "HTTP 50")):
            config_dir = copy_example("quickstart", tmp_path / expect.replace(" ", ""))
            env = point_at_server(config_dir, server)
            env["SWARMS_TOKEN"] = CANARY
            for args in (("plan", config_dir), ("-vv", "plan", config_dir, "-out", tmp_path / "p.json"), ("apply", config_dir, "--auto-approve")):
                result = run_cli(*args, env=env)
                assert result.code == 1 and expect in result.err, result.text
            output = debug_run("-vv", "plan", config_dir, env=env)
            assert expect in output and "Traceback" in output and not leaks(output), output
            assert_no_canary(config_dir)
    finally:
        stop_server(wrong)
        stop_server(faulty)
    assert_no_canary(tmp_path)


def test_secret_not_in_plan_state_or_logs(tmp_path: Path) -> None:
    """The canary is the real key: a saved plan, the state and debug logs of a full apply never hold it."""
    server = start_server(tmp_path / "srv")  # accepts CANARY
    try:
        config_dir = copy_example("quickstart", tmp_path)
        env = point_at_server(config_dir, server)
        plan_file = tmp_path / "saved-plan.json"
        result = run_cli("-vv", "plan", config_dir, "-out", plan_file, "--format", "json", env=env)
        assert result.code == 0, result.text
        result = run_cli("-vv", "apply", plan_file, env=env)
        assert result.code == 0, result.text
        result = run_cli("-vv", "plan", config_dir, "--detailed-exitcode", env=env)
        assert result.code == 0, result.text
        output = debug_run("plan", config_dir, env=env, code=0)  # debug logs of every call
        assert "DEBUG" in output and not leaks(output), output
        assert (config_dir / ".campaignctl" / "state.json").exists()
        assert_no_canary(config_dir)
        assert CANARY not in plan_file.read_text()
    finally:
        stop_server(server)
