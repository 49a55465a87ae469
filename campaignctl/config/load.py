"""Load a config directory and validate it offline, collecting every problem at once.

Stages: read files -> YAML documents -> envelope schema -> duplicates -> providers and kinds ->
spec schemas -> references and ``use:`` -> cycles -> platform rules. A stage reports what it
finds and later stages skip only the documents it could not make sense of.

The loader names no platform and imports no provider: what it needs of the platforms (each one's
kinds and references, and its rules) comes from the caller, as :class:`Platforms`
(``campaignctl.validation`` gives the registry's; every command loads a config through it).
"""
from __future__ import annotations

import contextlib
import copy
import difflib
import functools
import gc
import hashlib
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .. import schemas
from ..dag import DAG
from ..errors import ConfigError, Diagnostic
from .doc_cache import SETUP_KINDS, DocCache, save_all
from .foreach import expand as expand_foreach
from .model import NEUTRAL_KINDS, Config, Document, address_of
from .nodes import Mark, MarkedDict, MarkedList, dotted_path, mark_at
from .valid_cache import DIGEST as VALID_DIGEST
from .valid_cache import OFF, ValidCache, cache_dir, code_digest
from .yamlload import load_documents

if TYPE_CHECKING:
    from jsonschema import ValidationError

    from ..platforms import Kinds

log = logging.getLogger(__name__)

SKIP_DIRS = {".git", ".campaignctl", "node_modules", ".venv", "__pycache__"}
MAX_FILE_BYTES = 10 * 1024 * 1024


class Platforms(Protocol):
    """What the loader asks of the platforms (given by ``campaignctl.validation``, above both)."""

    def kinds(self, type_: str) -> Kinds | None:
        """The kinds, references and component lists of the platform of Provider documents of
        ``type: <type_>``, None for no such platform."""

    def check(self, config: Config, sound: list[tuple[str, Document]]) -> list[Diagnostic]:
        """The platform rules' problems with the resources whose own documents and dependencies
        are sound, each with its provider's type."""

    def code(self) -> bytes:
        """What stands for the code behind ``kinds`` and ``check`` in the validation cache's keys."""


def discover(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if name.endswith((".yaml", ".yml")) and not name.startswith("."):  # .pre-commit-config.yaml, .github ...
                found.append(Path(dirpath) / name)
    return found


def display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - another drive on Windows
        return str(path)


@contextlib.contextmanager
def loading_for_process(stay_paused: bool = False) -> Iterator[None]:
    """For a command's process, which loads its config once and keeps it to the end: no garbage
    collection while it loads (parsing pauses the collector, but what it allocated still counts,
    and the first young collection afterwards scanned every parsed object: 80 ms on 6,351
    resources), then, if it loaded, the loaded objects out of the collector's sight
    (``gc.freeze``) and young objects collected less often. ``stay_paused``: if it loaded, the
    collector stays off, for the caller to turn on again (see ``Session.for_cli``)."""
    gc.set_threshold(100_000, 20, 10)
    collecting = gc.isenabled()
    gc.disable()
    loaded = False
    try:
        yield
        gc.freeze()
        loaded = True
    finally:
        if collecting and not (loaded and stay_paused):
            gc.enable()


def load_config(
    path: str | Path, on_parsed: Callable[[Config], None] | None = None, on_early: Callable[[Config], None] | None = None,
    *, platforms: Platforms,
) -> Config:
    """Load and validate the config at ``path`` (a directory or one file), its resources held to
    what ``platforms`` says of each (commands call ``campaignctl.validation.load_config``, which
    gives the registry's). Raises ConfigError.

    ``on_parsed`` is called with the config once every file parsed cleanly, before the checks
    that need all documents at once (references, cycles, platform rules); it must not rely on
    those (see campaignctl.prefetch). ``on_early``, when the document cache holds (nearly) every
    document (see ``_parse_early``), is called before the rest is parsed with a config of only the
    Provider and Backend documents (envelopes checked, nothing else): enough to start reading."""
    root = Path(path)
    if not root.exists():
        raise ConfigError(Diagnostic(str(path), 0, 0, "no such file or directory"))
    config_root = root if root.is_dir() else root.parent
    diags: list[Diagnostic] = []
    documents: list[Document] = []
    digests: dict[str, str] = {}
    loaded: list[tuple[str, list[Any]]] = []  # (shown name, its parsed documents), file by file
    caches: list[DocCache] = []  # their parsed chunks, written once every file is parsed
    files = discover(root)
    directory = cache_dir()
    passed = ValidCache(directory)
    if not files:
        raise ConfigError(Diagnostic(display_path(root), 0, 0, "no *.yaml or *.yml files found"))
    texts: list[tuple[Path, str, str, DocCache]] = []  # each readable file: (path, shown name, text, its cache)
    for file in files:
        shown = display_path(file)
        try:
            target = file.resolve()
            if root.is_dir() and not target.is_relative_to(config_root.resolve()):
                diags.append(Diagnostic(shown, 0, 0, f"links to {target}, outside the config directory; campaignctl reads only files inside it"))
                continue
            if target.exists() and not target.is_file():
                diags.append(Diagnostic(shown, 0, 0, "not a regular file (a pipe or a device); campaignctl reads only regular files"))
                continue
            with file.open("rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)  # the limit bounds what is read, not only what is parsed
        except OSError as exc:
            diags.append(Diagnostic(shown, 0, 0, f"cannot read: {exc.strerror}"))
            continue
        except RuntimeError:  # Path.resolve on a symlink loop
            diags.append(Diagnostic(shown, 0, 0, "cannot read: a symlink loop"))
            continue
        digests[file.relative_to(config_root).as_posix()] = hashlib.sha256(data).hexdigest()
        if len(data) > MAX_FILE_BYTES:
            diags.append(Diagnostic(shown, 1, 1, f"file larger than {MAX_FILE_BYTES // 2**20} MiB"))
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            col = len(data[data.rfind(b"\n", 0, exc.start) + 1 : exc.start].decode("utf-8", "replace")) + 1
            diags.append(Diagnostic(shown, line, col, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"))
            continue
        texts.append((file, shown, text, DocCache(directory, file, shown)))
    early = _parse_early(config_root, texts, passed, on_early) if on_early is not None and not diags else {}
    for file, shown, text, parsed in texts:
        found = early.pop(file, None)
        raw_docs, problems = found if found is not None else load_documents(text, shown, parsed)
        caches.append(parsed)
        diags += problems
        loaded.append((shown, raw_docs))
    helper = SchemaHelper.start([raw for _, raw_docs in loaded for raw in raw_docs], passed, caches)
    if helper is not None:
        try:
            helper.finish()
        finally:
            helper.close()
    for (shown, raw_docs), parsed in zip(loaded, caches, strict=True):
        # a text whose every envelope passed before passes again: one key for the file, not one per document
        digest = parsed.parsed_digest()
        whole = passed.key("document.json#file", None, digest) if digest is not None else None
        if whole in passed:
            documents += [_document(raw, shown) for raw in raw_docs]
            continue
        before = len(diags)
        for raw in raw_docs:
            doc = _envelope(raw, shown, diags, passed)
            if doc is not None:
                documents.append(doc)
        if len(diags) == before:
            passed.add(whole)
    documents = expand_foreach(documents, diags, digests, config_root, platforms.kinds)  # forEach templates -> their members
    config = Config(config_root, documents, digests)
    if on_parsed is not None and not diags:
        on_parsed(config)
    # the checks of a whole config (references, cycles, platform rules, task rows) remembered like a
    # document's schema: by the digest of every file and data file, once they all passed
    checked = _checks_key(config, passed, platforms) if not diags else None
    if checked is None or checked not in passed:
        diags += _validate(config, passed, platforms)
        if not diags:
            passed.add(checked)
    passed.save()
    if diags:
        raise ConfigError(sorted(set(diags)))
    return config


#: a Provider or Backend document in a text (``kind: Provider``, quoted or not): a changed file
#: that may hold one is parsed early; one this misses is parsed later (the prefetch then reads
#: less, and the plan reads the rest itself)
_SETUP_KIND = re.compile(r"""\bkind['"]?\s*:\s*['"]?(?:Provider|Backend)\b""")


def _parse_early(
    config_root: Path, texts: list[tuple[Path, str, str, DocCache]], passed: ValidCache, on_early: Callable[[Config], None],
) -> dict[Path, tuple[list[Any], list[Diagnostic]]]:
    """When the document cache holds nearly every document (a file it last saw as it is now, or a
    few edited documents: too few to fork the SchemaHelper for, which must fork before any thread
    starts), parse first the files that hold the Provider and Backend documents and call
    ``on_early`` with a config of those documents; the files parsed (and what their parse said),
    which the loader does not parse again."""
    setup = []
    fresh = 0
    for item in texts:
        _, _, text, cache = item
        holds = cache.remembered(text)
        if holds is None:  # changed, or never seen: how much of it must be parsed and checked anew
            new = cache.missing(text)
            fresh += len(new)
            if SchemaHelper.worth_it(fresh):
                return {}
            # a file that held none before can hold one only in its new chunks (a regex over 4 MB: 80 ms)
            before = cache.held_setup()
            holds = before or any(_SETUP_KIND.search(chunk) for chunk in (new if before is False else [text]))
        if holds:
            setup.append(item)
    parsed: dict[Path, tuple[list[Any], list[Diagnostic]]] = {}
    documents = []
    for file, shown, text, cache in setup:
        raw_docs, problems = parsed[file] = load_documents(text, shown, cache)
        for raw in raw_docs:
            if isinstance(raw, dict) and raw.get("kind") in SETUP_KINDS:
                doc = _envelope(raw, shown, [], passed)
                if doc is None:  # the loader reports it, in its place
                    return parsed
                documents.append(doc)
        if problems:
            return parsed
    on_early(Config(config_root, documents, {}))
    return parsed


@functools.cache
def _checks_code() -> bytes:
    """What stands for the loader's code in the cache key of the whole-config checks: campaignctl's
    version and the source of the config loader (the platforms' code is ``Platforms.code``, the
    schemas are in every key)."""
    here = Path(__file__).resolve().parent
    return code_digest("config checks", *sorted(here.glob("*.py")))


def _checks_key(config: Config, passed: ValidCache, platforms: Platforms) -> bytes | None:
    """The validation cache key of ``_validate``'s checks of ``config``: every config file and
    data file by path and content (``Config.digest``), where the config is, and the code (the
    loader's and the platforms')."""
    if passed.path is None:  # no cache: not even the data files' digests
        return None
    code = _checks_code() + platforms.code()
    source = code + os.fsencode(config.root.resolve()) + b"\0" + config.digest.encode()
    return passed.key("config-checks", None, source)


def _envelope(raw: Any, file: str, diags: list[Diagnostic], passed: ValidCache = OFF) -> Document | None:
    if not isinstance(raw, MarkedDict):
        mark = getattr(raw, "mark", None) or Mark.at(file, 1, 1)
        diags.append(mark.diag("a document must be a mapping with kind, name and spec"))
        return None
    problems = schema_diagnostics("document.json", raw, raw, [], passed)
    diags += problems
    if problems or not isinstance(raw.get("spec"), dict):
        return None
    return _document(raw, file)


def _document(raw: MarkedDict, file: str) -> Document:
    """The Document of an envelope known valid."""
    return Document(
        kind=raw["kind"],
        name=raw["name"],
        provider=raw.get("provider"),
        spec=raw["spec"],
        raw=raw,
        file=file,
        protect=bool(raw.get("protect", False)),
        ignore_changes=list(raw.get("ignoreChanges", [])),
        moved_from=raw.get("movedFrom"),
    )


def schema_diagnostics(
    rel: str, instance: Any, root: Any, prefix: list[str | int], passed: ValidCache = OFF
) -> list[Diagnostic]:
    """Every JSON Schema violation of ``instance`` as a diagnostic at the offending node. With
    ``passed``, an instance that passed before (same schemas, same content) is not checked again."""
    return _diagnostics(_schema_errors(rel, instance, passed, _source(root, prefix)), root, prefix)


def _source(root: Any, prefix: list[str | int]) -> bytes | None:
    """What stands for the content of ``root``'s node at ``prefix`` in validation cache keys: the
    digest of the document's YAML text (set by the loader) and the path, or None."""
    source = getattr(root, "source", None)
    if source is not None:
        source += "\0".join(map(str, prefix)).encode("utf-8", "surrogatepass")
    return source


def _schema_errors(rel: str, instance: Any, passed: ValidCache, source: bytes | None = None) -> list[ValidationError]:
    key = passed.key(rel, instance, source)
    if key in passed:
        return []
    errors = list(schemas.validator(rel).iter_errors(instance))
    if not errors:
        passed.add(key)
    return errors


def _diagnostics(errors: Any, root: Any, prefix: list[str | int]) -> list[Diagnostic]:
    errors = list(errors)
    # a misspelt required field is one mistake: report "unknown field 'titel' (did you mean 'title'?)"
    # and not also "missing required field 'title'"
    misspelt: set[tuple[tuple[str | int, ...], str]] = set()
    for error in errors:
        extra, allowed = _unknown_fields(error)
        for name in extra:
            misspelt.update((tuple(error.absolute_path), h) for h in difflib.get_close_matches(name, allowed, n=1))
    return [
        _describe(error, root, prefix)
        for error in errors
        if (tuple(error.absolute_path), _missing_field(error)) not in misspelt
    ]


def _unknown_fields(error: ValidationError) -> tuple[list[str], list[str]]:
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return [], []
    allowed = list((error.schema.get("properties") or {}).keys())
    return [k for k in error.instance if k not in allowed], allowed


def _missing_field(error: ValidationError) -> str | None:
    match = re.match(r"'(.+)' is a required property", error.message) if error.validator == "required" else None
    return match.group(1) if match else None


def _describe(error: ValidationError, root: Any, prefix: list[str | int], note: str = "") -> Diagnostic:
    path = [*prefix, *error.absolute_path]
    where = dotted_path(path)
    mark = mark_at(root, path)
    message = error.message
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        extra, allowed = _unknown_fields(error)
        if extra:
            name = extra[0]
            mark = mark_at(root, [*path, name], key=True)
            hint = difflib.get_close_matches(name, allowed, n=1)
            message = f"unknown field {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
            if len(extra) > 1:
                message += f"; also unknown: {', '.join(map(repr, extra[1:]))}"
            message += f"; allowed: {', '.join(allowed)}"
    elif error.validator == "required":
        missing = _missing_field(error)
        if missing:
            message = f"missing required field {missing!r}"
            mark = mark_at(root, path, key=True)  # at `spec:`, not at the first key inside it
    elif error.validator == "enum" and isinstance(error.instance, str):
        options = [str(o) for o in error.validator_value]
        hint = difflib.get_close_matches(error.instance, options, n=1)
        message = f"{error.instance!r} is not one of {', '.join(options)}" + (
            f" (did you mean {hint[0]!r}?)" if hint else ""
        )
    elif error.validator == "type":
        message = f"expected {error.validator_value}, got {_json_type(error.instance)} {_short(error.instance)}"
    elif error.validator == "not" and isinstance(error.validator_value, dict) and error.validator_value.get("description"):
        message = str(error.validator_value["description"])
    text = f"{where}{note}: {message}" if where else message
    return (mark or Mark.at("?", 0, 0)).diag(text)


def _json_type(value: Any) -> str:
    # isinstance, not type(): the loader's MarkedDict/MarkedList are an object and an array to the user
    for cls, name in ((bool, "boolean"), (dict, "object"), (list, "array"), (str, "string"), (int, "integer"), (float, "number")):
        if isinstance(value, cls):
            return name
    return "null" if value is None else type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."




# -- semantic validation ---------------------------------------------------------------------


def spec_schema(kind: str, provider_type: str | None) -> str:
    """The schema of a document's spec: ``<Kind>.json`` for a kind of no provider (``Schedule.json``;
    ``<folder>/<Kind>.json`` for one a platform brings, such as ``Component``), else the one in its
    provider's platform folder (``<folder>/Task.json``): see :func:`campaignctl.schemas.kind_schema`."""
    return schemas.kind_schema(kind, None if kind in NEUTRAL_KINDS else provider_type)


class SchemaHelper:
    """A second core for the schemas of a config nothing remembers as valid (a first run, a CI
    runner's empty cache). Once every file is parsed, a forked child writes the document cache
    (pickling every parsed chunk) and validates a share of the documents (envelope and spec) while
    this process validates the rest; the child sends back the validation cache keys of what
    passed, and the checks that follow find those valid and validate, and report, only the
    others. The keys are of content, so the result is the same with or without it; a child that
    fails or dies leaves its share to this process (and the document cache to the next run).

    Only on Linux (fork without exec is unsafe elsewhere), with 2 usable CPUs or more, the
    validation cache on (the keys are how answers come back), no other thread running (the
    prefetch starts its thread after this, or before it only when too few documents are new for
    the helper: see ``_parse_early``) and ``MIN_CHECKS`` schemas or more to validate
    among the documents parsed in this run (one from the document cache was checked before): the
    fork and the child's page copies cost a few milliseconds. Without it this process writes the
    document cache itself. A cold apply of the scale benchmark's 6,354 documents made its first
    write 3.5 s after it started without a helper, 2.6 s with it. ``CAMPAIGNCTL_SCHEMA_HELPER=off``
    turns it off."""

    MIN_CHECKS = 800
    #: the child's share of the schemas to validate: it also pickles every parsed chunk for the
    #: document cache (~0.5 s for 6,354 documents, its copy-on-write page faults included), and
    #: each schema costs it more than here; 0.35 against 0.43, cold, 12 runs alternating: load
    #: 2.6-3.3 s (median 2.9) against 2.7-3.4 s (median 3.1)
    SHARE = 0.35

    def __init__(self, pid: int, read_fd: int, mine: list[tuple[str, Any, bytes | None]], passed: ValidCache) -> None:
        self.pid, self.read_fd, self.mine, self.passed = pid, read_fd, mine, passed

    @classmethod
    def worth_it(cls, fresh: int) -> bool:
        """Whether ``fresh`` documents parsed anew (two schemas each at most) may make MIN_CHECKS:
        a document the document cache gave was parsed, and checked, by an earlier run. Never with
        ``CAMPAIGNCTL_SCHEMA_HELPER=off`` (to measure what it is worth: one process does it all)."""
        return fresh * 2 >= cls.MIN_CHECKS and cls.switched_on()

    @staticmethod
    def switched_on() -> bool:
        return os.environ.get("CAMPAIGNCTL_SCHEMA_HELPER", "on").strip().lower() not in ("off", "0", "false", "no")

    @classmethod
    def start(cls, raws: list[Any], passed: ValidCache, caches: list[DocCache]) -> SchemaHelper | None:
        """Fork the child if it is worth it; else write the document caches here (None)."""
        # a warm run does not compute every document's keys here for nothing (~35 ms for 6,354)
        possible = (
            cls.worth_it(sum(cache.fresh for cache in caches))
            and passed.path is not None and sys.platform.startswith("linux") and hasattr(os, "fork")
            and len(os.sched_getaffinity(0)) >= 2 and threading.active_count() == 1
        )  # fmt: skip
        todo = cls._todo(raws, passed) if possible else []  # the keys of every document: only if it may fork
        if len(todo) < cls.MIN_CHECKS:
            _save(caches)
            return None
        cut = int(len(todo) * cls.SHARE)
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError as exc:  # no process to spare: all of it here
            log.debug("no validation helper: %s", exc)
            os.close(read_fd)
            os.close(write_fd)
            _save(caches)
            return None
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.close(read_fd)
                _save(caches)
                before = set(passed.added)
                _check_all(todo[:cut], passed)
                with os.fdopen(write_fd, "wb") as out:
                    out.write(b"".join(k for k in passed.added if k not in before))
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        return cls(pid, read_fd, todo[cut:], passed)

    @staticmethod
    def _todo(raws: list[Any], passed: ValidCache) -> list[tuple[str, Any, bytes | None]]:
        """(schema, instance, source) of each envelope and spec not known valid, as the checks ask."""
        types = {}  # what the Provider documents say (the checks read it again, validated)
        for raw in raws:
            if isinstance(raw, dict) and raw.get("kind") == "Provider" and isinstance(raw.get("spec"), dict):
                types[raw.get("name")] = raw["spec"].get("type")
        todo = []
        for raw in raws:
            if not isinstance(raw, MarkedDict) or getattr(raw, "source", None) is None:
                continue
            for rel, instance, prefix in _schemas_of(raw, types):
                source = _source(raw, prefix)
                if passed.key(rel, instance, source) not in passed:
                    todo.append((rel, instance, source))
        return todo

    def finish(self) -> None:
        """Validate this process's share, then take the child's keys (waiting for it)."""
        _check_all(self.mine, self.passed)
        with os.fdopen(self.read_fd, "rb") as pipe:
            self.read_fd = -1
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        if os.waitstatus_to_exitcode(status) != 0 or len(data) % VALID_DIGEST:
            log.debug("the validation helper failed (exit status %s): its share is validated here", status)
            return
        for start in range(0, len(data), VALID_DIGEST):
            self.passed.add(data[start : start + VALID_DIGEST])

    def close(self) -> None:
        """End the child if ``finish`` did not (an error or an interrupt on the way)."""
        if self.read_fd >= 0:
            os.close(self.read_fd)
            self.read_fd = -1
        if self.pid:
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            self.pid = 0


def _schemas_of(raw: MarkedDict, provider_types: dict[Any, Any]) -> list[tuple[str, Any, list[str | int]]]:
    """The schemas the checks will hold a parsed document to: its envelope, and its spec when the
    kind is of no provider or its provider names a type."""
    out: list[tuple[str, Any, list[str | int]]] = [("document.json", raw, [])]
    kind, spec = raw.get("kind"), raw.get("spec")
    if isinstance(kind, str) and isinstance(spec, dict):
        ptype = provider_types.get(raw.get("provider"))
        if kind in NEUTRAL_KINDS or isinstance(ptype, str):
            out.append((spec_schema(kind, ptype), spec, ["spec"]))
    return out


def _check_all(todo: list[tuple[str, Any, bytes | None]], passed: ValidCache) -> None:
    """Validate each (schema, instance, source); what passes goes into ``passed``."""
    for rel, instance, source in todo:
        try:
            _schema_errors(rel, instance, passed, source)
        except Exception:  # noqa: BLE001 - a schema this config has not: the checks report it
            continue


def _save(caches: list[DocCache]) -> None:
    save_all(caches)


def _validate(config: Config, passed: ValidCache, platforms: Platforms) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    seen: dict[str, Document] = {}
    valid: list[Document] = []
    for doc in config.documents:
        key = doc.address
        if key in seen:
            first = seen[key]
            diags.append(
                doc.field_mark("name").diag(
                    f"duplicate {doc.kind} {doc.name!r}"
                    + (f" for provider {doc.provider!r}" if doc.provider else "")
                    + f" (first defined at {first.file}:{first.field_mark('name').line})"
                )
            )
            continue
        seen[key] = doc
        valid.append(doc)

    provider_types: dict[str, str] = {}
    broken: set[str] = set()  # addresses of documents with a problem of their own
    for doc in valid:
        if doc.kind in NEUTRAL_KINDS:
            problems = schema_diagnostics(spec_schema(doc.kind, None), doc.spec, doc.raw, ["spec"], passed)
            diags += problems
            if problems:
                broken.add(doc.address)
            if doc.kind == "Provider" and not problems:
                provider_types[doc.name] = doc.spec["type"]
    backends = [d for d in valid if d.kind == "Backend"]
    for extra in backends[1:]:  # one state per repo: a second Backend is a mistake, not a choice
        first = backends[0]
        diags.append(extra.field_mark("kind").diag(
            f"a config repo has at most one Backend document; {first.name!r} is defined at {first.file}:{first.field_mark('kind').line}"
        ))

    resources: list[Document] = []
    for doc in valid:
        if doc.kind in NEUTRAL_KINDS:
            continue
        if doc.provider not in provider_types:
            if doc.provider not in config.providers:
                known = sorted(config.providers)
                hint = difflib.get_close_matches(str(doc.provider), known, n=1)
                diags.append(
                    doc.field_mark("provider").diag(
                        f"undefined provider {doc.provider!r}"
                        + (f" (did you mean {hint[0]!r}?)" if hint else "")
                        + (f"; defined: {', '.join(known)}" if known else "; add a document of kind Provider")
                    )
                )
            broken.add(doc.address)
            continue
        ptype = provider_types[doc.provider]
        platform = platforms.kinds(ptype)
        if platform is None or doc.kind not in platform.kinds:
            kinds = ", ".join(platform.kinds) if platform else ""
            diags.append(
                doc.field_mark("kind").diag(
                    f"provider {doc.provider!r} (type {ptype}) has no kind {doc.kind}" + (f"; it manages {kinds}" if kinds else "")
                )
            )
            broken.add(doc.address)
            continue
        problems = schema_diagnostics(spec_schema(doc.kind, ptype), doc.spec, doc.raw, ["spec"], passed)
        diags += problems
        if problems:
            broken.add(doc.address)
        else:
            resources.append(doc)

    graph: DAG[str] = DAG()
    for doc in valid:
        graph.add(doc.address)
    diags += _check_components(config, graph, broken, passed)
    for doc in resources:
        platform = platforms.kinds(provider_types[doc.provider])  # type: ignore[index]
        assert platform is not None
        problems = _check_references(config, doc, platform.references.get(doc.kind, {}), graph)
        if doc.kind in platform.component_lists:
            problems += _resolve_uses(config, doc, platform.component_lists[doc.kind], graph, broken, passed)
        diags += problems
        if problems:
            broken.add(doc.address)
    cycle = graph.find_cycle()
    if cycle:
        first = next(d for d in valid if d.address == cycle[0])
        diags.append(first.field_mark("name").diag("reference cycle: " + " -> ".join(cycle)))
        broken.update(cycle)
    # platform rules, for every resource whose own documents and dependencies are sound
    sound = [
        (provider_types[doc.provider], doc)  # type: ignore[index]
        for doc in resources
        if not (broken and graph.closure([doc.address]) & broken)
    ]
    diags += platforms.check(config, sound)
    return diags


def _names(value: Any) -> list[tuple[int | None, Any]]:
    if isinstance(value, list):
        return list(enumerate(value))
    return [(None, value)]


def _check_references(config: Config, doc: Document, refs: dict[str, str], graph: DAG[str]) -> list[Diagnostic]:
    diags = []
    for field, target_kind in refs.items():
        if field not in doc.spec:
            continue
        for index, name in _names(doc.spec[field]):
            path: list[str | int] = [field] if index is None else [field, index]
            if target_kind in NEUTRAL_KINDS:
                pool = config.of_kind(target_kind)
                target = address_of(None, target_kind, str(name))
            else:
                pool = config.named(doc.provider or "", target_kind)
                target = address_of(doc.provider, target_kind, str(name))
            if name not in pool:
                hint = difflib.get_close_matches(str(name), list(pool), n=1)
                diags.append(
                    doc.mark(*path).diag(
                        f"spec.{dotted_path(path)}: unknown {target_kind} {name!r}"
                        + (f" (did you mean {hint[0]!r}?)" if hint else "")
                        + ("" if pool else f"; no {target_kind} is defined" + (f" for provider {doc.provider!r}" if target_kind not in NEUTRAL_KINDS else ""))
                    )
                )
                continue
            graph.add(doc.address, [target])
    return diags


def _use_chain(pool: dict[str, Document], name: Any) -> list[str]:
    """``name`` and the Components it derives from with ``use:`` (stops at an unknown name or a cycle)."""
    chain: list[str] = []
    while isinstance(name, str) and name in pool and name not in chain:
        chain.append(name)
        name = pool[name].spec.get("use")
    return chain


def _check_components(config: Config, graph: DAG[str], broken: set[str], passed: ValidCache) -> list[Diagnostic]:
    """Components may derive from another with ``use:``; check names, record the edges, check the result."""
    diags = []
    pool = config.of_kind("Component")
    for doc in pool.values():
        base = doc.spec.get("use")
        if base is None or doc.address in broken:
            continue
        if base not in pool:
            hint = difflib.get_close_matches(str(base), list(pool), n=1)
            diags.append(
                doc.mark("use").diag(f"spec.use: unknown Component {base!r}" + (f" (did you mean {hint[0]!r}?)" if hint else ""))
            )
            broken.add(doc.address)
            continue
        graph.add(doc.address, [address_of(None, "Component", base)])
    for doc in sorted(pool.values(), key=lambda d: len(_use_chain(pool, d.name))):  # bases first
        base = doc.spec.get("use")
        if base is None or doc.address in broken:
            continue
        chain = _use_chain(pool, doc.name)
        if pool[chain[-1]].spec.get("use") is not None:
            continue  # a cycle (reported by the graph) or an unknown name (reported above)
        if any(address_of(None, "Component", n) in broken for n in chain[1:]):
            continue  # the base's own problem is reported at the base
        resolved = resolve_component(config, doc.spec)
        for problem in _schema_errors(spec_schema("Component", None), resolved, passed):
            diags.append(_describe(problem, doc.raw, ["spec"], f" (after use: {base})"))
            broken.add(doc.address)
    return diags


def resolve_component(config: Config, item: dict[str, Any], trail: tuple[str, ...] = ()) -> dict[str, Any]:
    """A component with every ``use:`` replaced by the named Component, overrides applied."""
    if "use" not in item:
        return {k: copy.deepcopy(v) for k, v in item.items()}
    name = item["use"]
    if name in trail:
        raise ValueError("reference cycle: " + " -> ".join(f"component/{n}" for n in (*trail, name)))
    base = resolve_component(config, config.of_kind("Component")[name].spec, (*trail, name))
    out = {k: v for k, v in base.items()}
    for key, value in item.items():
        if key == "use":
            continue
        if key == "properties" and isinstance(value, dict):
            out["properties"] = {**(out.get("properties") or {}), **copy.deepcopy(value)}
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolve_uses(
    config: Config, doc: Document, field: str, graph: DAG[str], broken: set[str], passed: ValidCache
) -> list[Diagnostic]:
    diags: list[Diagnostic] = []
    pool = config.of_kind("Component")
    for index, item in enumerate(doc.spec.get(field) or []):
        if not isinstance(item, dict) or "use" not in item:
            continue
        name = item["use"]
        if name not in pool:
            hint = difflib.get_close_matches(str(name), list(pool), n=1)
            diags.append(
                doc.mark(field, index, "use").diag(
                    f"spec.{field}[{index}].use: unknown Component {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")
                )
            )
            continue
        graph.add(doc.address, [address_of(None, "Component", name)])
        chain = _use_chain(pool, name)
        if pool[chain[-1]].spec.get("use") is not None or any(address_of(None, "Component", n) in broken for n in chain):
            continue  # a cycle, an unknown name or a broken Component: reported where it is
        resolved = resolve_component(config, item)
        for problem in _schema_errors(spec_schema("Component", None), resolved, passed):
            # positioned at the override if the problem is in one, else at the item
            diags.append(_describe(problem, doc.raw, ["spec", field, index], f" (after use: {name})"))
    return diags


__all__ = ["MarkedList", "load_config", "resolve_component", "schema_diagnostics"]
