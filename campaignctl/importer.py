"""``campaignctl import``: YAML documents and state for live objects a config does not manage yet.

The generic flow (:class:`Importer`); the platform knowledge is in each provider's
``read_account`` (every live object on the account) and ``export_documents`` (live objects ->
:class:`ExportedDoc`):

1. load the config at PATH (it must name the Provider); the output directory must lie inside PATH,
   where ``load_config`` reads it, because the state of PATH records what is imported;
2. under the state lock, read what PATH already manages on that provider with the provider's own
   ``read`` (by state id, by address marker, adopted by title): those objects are left alone;
3. ``read_account`` lists everything else on the account; ``export_documents`` turns it into
   documents, one file per top-level object family, names derived from titles (slugified, unique
   in the config), references by name, shared Components and Schedules where the live object maps
   onto them, task rows in data files next to the YAML;
4. every spec is checked against the kind's JSON Schema: a field the schema cannot hold is left
   out and listed in ``ignoreChanges`` (said per object), a document that cannot be written at all
   is not imported (said too, and what referenced it is adjusted the same way);
5. no existing file is ever overwritten (the whole import is refused before anything is written);
   the files are written, the config is loaded again (it must validate, else the files are removed);
6. every imported object is recorded in state (address -> id, attributes as read);
7. the imported addresses are planned once more; an object that would still change is reported.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import yaml

from . import schemas
from .address import kind_of
from .config.load import SKIP_DIRS, display_path
from .config.model import NEUTRAL_KINDS, Config
from .errors import CampaignctlError, ConfigError
from .inputs import embedded_sandbox
from .providers import provider_class
from .providers.base import Live, Provider, ReadInputs, Resource
from .providers.export import ExportContext, ExportedDoc, slugify
from .session import run
from .validation import load_config

#: statuses of objects that are done with (any platform, compared upper-case): import leaves them
#: out unless ``--include-finished``; a SWARMS object flagged ``archived`` too (and Microworkers'
#: ARCHIVE folder is never listed). campaignctl's own delete ends in one of them (SWARMS cancel,
#: Microworkers stop), so an object it replaced or deleted does not come back as a new document.
ENDED_STATUSES = frozenset({"FINISHED", "STOPPED", "CANCELLED", "CANCELED", "ARCHIVED"})


def has_ended(live: Live) -> bool:
    """Whether ``live`` is stopped, finished, archived or cancelled."""
    return str(live.status or "").upper() in ENDED_STATUSES or bool(live.raw.get("archived"))


# -- YAML ----------------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


class _FlowDict(dict):
    pass


class _FlowList(list):
    pass


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_FlowDict, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v, flow_style=True))
_Dumper.add_representer(_FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True))


def _flow(value: Any, depth: int = 0) -> Any:
    """Short collections of scalars below the spec's own fields on one line (``{url: ...}``, ``[a, b]``)."""
    if isinstance(value, dict):
        items = {k: _flow(v, depth + 1) for k, v in value.items()}
        scalars = all(not isinstance(v, (dict, list)) for v in value.values())
        return _FlowDict(items) if depth >= 2 and scalars and _short(value) else items
    if isinstance(value, list):
        seq = [_flow(v, depth + 1) for v in value]
        scalars = all(not isinstance(v, (dict, list)) for v in value)
        return _FlowList(seq) if depth >= 2 and scalars and _short(value) else seq
    return value


def _short(value: Any) -> bool:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return len(text) <= 90 and "\\n" not in text


def dump_document(data: dict[str, Any]) -> str:
    return yaml.dump(_flow(data), Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=110)


def render_file(docs: list[ExportedDoc], header: str) -> str:
    parts = []
    for doc in docs:
        lines = [f"# {doc.source}"] if doc.source else []
        lines += [f"# note: {n}" for n in doc.notes]
        parts.append("\n".join(lines) + ("\n" if lines else "") + dump_document(doc.envelope()))
    return header + "---\n".join(parts)


# -- the flow ------------------------------------------------------------------------------------
@dataclass
class ImportResult:
    docs: list[ExportedDoc]
    written: list[Path]
    skipped: list[tuple[str, str]]
    leftovers: dict[str, list[str]]  # address -> fields a plan would still change


class Importer:
    def __init__(self, path: Path, provider: str, out: Path | None = None, parallelism: int = 8,
                 env: Mapping[str, str] | None = None, include_finished: bool = False) -> None:  # fmt: skip
        from .inputs import backend_for

        self.include_finished = include_finished
        self.ended = 0  # objects left out for being stopped, finished, archived or cancelled

        if path.exists() and not path.is_dir():
            raise CampaignctlError(f"{path}: import writes into a config directory; give the directory, not a file")
        self.path = path
        self.config = load_config(path)
        doc = self.config.providers.get(provider)
        if doc is None:
            known = ", ".join(sorted(self.config.providers)) or "none"
            raise CampaignctlError(f"{path} has no Provider document named {provider!r} (defined: {known})")
        self.provider_name = provider
        self.provider_type = str(doc.spec["type"])
        cls = provider_class(self.provider_type)
        assert cls is not None  # validated
        self.cls = cls
        self.env = env
        self.parallelism = parallelism
        self.provider = cls(doc, self.config.root, env)
        self.provider.credentials()  # fail early when a secret is missing
        self.out = out if out is not None else path / "imported" / provider
        root = self.config.root.resolve()
        target = self.out.resolve()
        if not target.is_relative_to(root):
            raise CampaignctlError(
                f"--out {self.out} is outside the config directory {path}: imported documents must be part of the "
                "config whose state records them"
            )
        hidden = [p for p in target.relative_to(root).parts if p.startswith(".") or p in SKIP_DIRS]
        if hidden:
            raise CampaignctlError(f"--out {self.out}: campaignctl does not read YAML under {hidden[0]!r}; choose another directory")
        self.backend = backend_for(self.config)

    # -- reading ---------------------------------------------------------------------------
    async def _managed(self, provider: Provider, config: Config, known: dict[str, Any]) -> dict[str, Live]:
        wanted: dict[str, str] = {}
        desired: dict[str, dict[str, Any]] = {}
        for address, doc in config.resources_of(self.provider_name).items():
            desired[address] = provider.desired(doc, config)  # what objects are adopted by (names, titles)
            wanted[address] = doc.kind
        return await provider.read(ReadInputs(known, wanted, desired=desired, documents=config.resources))

    def _known(self, state: Any) -> dict[str, Any]:
        return {a: e.get("id") for a, e in state.resources.items() if e.get("provider") == self.provider_name}

    async def _collect(self, known: dict[str, Any]) -> list[ExportedDoc]:
        provider = self.provider
        await provider.open(self.parallelism, embedded_sandbox(provider))
        try:
            live = await self._managed(provider, self.config, known)
            managed: dict[tuple[str, str], str] = {}
            for address, obj in live.items():
                managed[(obj.kind, str(obj.id))] = address
                for old in obj.deposed:  # left-overs the next apply removes
                    managed[(obj.kind, str(old))] = address
            for address, remote_id in known.items():  # in state but not found: still not ours to import
                kind = kind_of(address, provider.kinds)
                managed.setdefault((kind, str(remote_id)), address)
            account = await provider.read_account(managed)
        finally:
            await provider.close()
        if not self.include_finished:
            ended = [address for address, obj in account.items() if has_ended(obj)]
            self.ended = len(ended)
            for address in ended:
                del account[address]
        self.ctx = ExportContext(self.provider_name, self.config)
        if not account:
            return []
        return provider.export_documents(account, self.ctx)

    # -- checking --------------------------------------------------------------------------
    def _sanitise(self, docs: list[ExportedDoc]) -> None:
        """Fit every spec to its JSON Schema (fields left out are ignored in plans) and drop what
        references documents that are not imported after all."""
        aliases = self.cls.ignore_names
        existing = {(d.kind, d.name) for d in self.config.resources_of(self.provider_name).values()}
        for _ in range(20):
            changed = False
            alive = existing | {(d.kind, d.name) for d in docs if d.provider and not d.skipped}
            for doc in docs:
                if doc.skipped or doc.provider is None:
                    continue
                for ref_field, target in self.cls.references.get(doc.kind, {}).items():
                    if target in NEUTRAL_KINDS or ref_field not in doc.spec:
                        continue
                    value = doc.spec[ref_field]
                    names = value if isinstance(value, list) else [value]
                    gone = [n for n in names if (target, n) not in alive]
                    if not gone:
                        continue
                    changed = True
                    keep = [n for n in names if (target, n) in alive]
                    if isinstance(value, list) and keep:
                        doc.spec[ref_field] = keep
                    else:
                        del doc.spec[ref_field]
                    doc.ignore(*aliases.get(ref_field, [ref_field]), note=(
                        f"{ref_field}: {', '.join(map(str, gone))} is not imported, so the config cannot name it; "
                        f"{ref_field} is left to the platform (ignoreChanges)"))
                changed |= self._fit_schema(doc, aliases)
            if not changed:
                return

    def _fit_schema(self, doc: ExportedDoc, aliases: dict[str, list[str]]) -> bool:
        rel = f"{self.provider_type}/{doc.kind}.json"
        if not schemas.has_schema(rel):
            return False
        errors = list(schemas.validator(rel).iter_errors(doc.spec))
        if not errors:
            return False
        drop_items: dict[str, set[int]] = {}
        drop_fields: dict[str, str] = {}
        for error in errors:
            path = list(error.absolute_path)
            if not path:
                if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                    allowed = set(error.schema.get("properties") or {})
                    for key in [k for k in doc.spec if k not in allowed]:
                        drop_fields[key] = error.message
                    continue
                why = "; ".join([error.message, *doc.notes])
                doc.skipped = f"the config cannot describe it: {why}"
                return True
            top = str(path[0])
            if len(path) >= 2 and isinstance(path[1], int) and isinstance(doc.spec.get(top), list):
                drop_items.setdefault(top, set()).add(path[1])
            else:
                drop_fields[top] = error.message
        for top, indexes in drop_items.items():
            if top in drop_fields:
                continue
            items = doc.spec[top]
            doc.spec[top] = [x for i, x in enumerate(items) if i not in indexes]
            doc.ignore(*aliases.get(top, [top]), note=(
                f"{top}: item(s) {', '.join(str(i) for i in sorted(indexes))} cannot be written in the config "
                f"(the schema refuses them); {top} is left to the platform (ignoreChanges)"))
        for top, message in drop_fields.items():
            doc.spec.pop(top, None)
            doc.ignore(*aliases.get(top, [top]), note=f"{top}: {message}; left out and ignored in plans (ignoreChanges)")
        return True

    # -- writing ---------------------------------------------------------------------------
    def _files(self, docs: list[ExportedDoc]) -> dict[Path, str]:
        by_file: dict[str, list[ExportedDoc]] = {}
        for doc in docs:
            by_file.setdefault(doc.file, []).append(doc)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        header = f"# Imported by `campaignctl import --provider {self.provider_name}` ({self.provider_type}) on {stamp}.\n"
        files: dict[Path, str] = {}
        for name, group in by_file.items():
            files[self.out / name] = render_file(group, header)
            for doc in group:
                for rel, text in doc.data_files.items():
                    files[self.out / rel] = text
        return files

    def run(self) -> ImportResult:
        state = self.backend.read()
        known = self._known(state)
        docs = run(self._collect(known))
        self._sanitise(docs)
        skipped = list(self.ctx.skipped) + [
            (f"{self.provider_name} {d.source}" if d.source else d.address, d.skipped) for d in docs if d.skipped
        ]
        docs = [d for d in docs if not d.skipped]
        if not [d for d in docs if d.live is not None]:
            return ImportResult([], [], skipped, {})
        files = self._files(docs)
        existing = sorted(display_path(p) for p in files if p.exists())
        if existing:
            raise CampaignctlError(
                "refusing to overwrite existing file(s): " + ", ".join(existing)
                + "; nothing was imported. Move them away or choose another directory with --out"
            )
        written: list[Path] = []
        try:
            for path, text in files.items():
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "x", encoding="utf-8") as fh:  # never overwrite, even in a race
                    fh.write(text)
                written.append(path)
            config = load_config(self.path)
            missing = [d.address for d in docs if d.live is not None and d.address not in config.resources]
            if missing:
                raise CampaignctlError(f"the written documents are not part of the config: {', '.join(missing[:5])}")
        except ConfigError as exc:
            _remove(written, self.out)
            raise CampaignctlError(
                "internal error: the imported documents do not validate, so nothing was imported:\n"
                + "\n".join(str(d) for d in exc.diagnostics)
            ) from None
        except BaseException:
            _remove(written, self.out)
            raise
        addresses = _final_addresses(docs)
        for doc in docs:
            if doc.live is None:
                continue
            state.resources[doc.address] = {
                "provider": self.provider_name,
                "kind": doc.kind,
                "name": doc.name,
                "id": doc.live.id,
                "attrs": _rewrite(doc.live.attrs, addresses),
                "protect": False,
            }
        self.backend.commit(state)
        leftovers = run(self._check(config, self._known(state), [d for d in docs if d.live is not None]))
        return ImportResult(docs, written, skipped, leftovers)

    async def _check(self, config: Config, known: dict[str, Any], docs: list[ExportedDoc]) -> dict[str, list[str]]:
        """Plan the imported addresses again: what would still change cannot be represented."""
        doc = config.providers[self.provider_name]
        provider = self.cls(doc, config.root, self.env)
        await provider.open(self.parallelism, embedded_sandbox(provider))
        try:
            live = await self._managed(provider, config, known)
        finally:
            await provider.close()
        out: dict[str, list[str]] = {}
        for item in docs:
            cdoc = config.resources[item.address]
            res = Resource(item.address, item.kind, item.name, provider.desired(cdoc, config), live.get(item.address),
                           ignore_changes=cdoc.ignore_changes, doc=cdoc)  # fmt: skip
            try:
                change, _ = provider.plan_change(res)
            except Exception as exc:
                out[item.address] = [f"cannot be planned: {exc}"]
                continue
            if change.actions != ["no-op"] or change.errors:
                out[item.address] = [f.path for f in change.fields] + list(change.errors) or change.actions
        return out


def _final_addresses(docs: list[ExportedDoc]) -> dict[str, str]:
    return {d.live.address: d.address for d in docs if d.live is not None}


def _rewrite(value: Any, addresses: dict[str, str]) -> Any:
    if isinstance(value, str):
        return addresses.get(value, value)
    if isinstance(value, list):
        return [_rewrite(v, addresses) for v in value]
    if isinstance(value, dict):
        return {k: _rewrite(v, addresses) for k, v in value.items()}
    return value


def _remove(paths: list[Path], top: Path) -> None:
    for path in reversed(paths):
        path.unlink(missing_ok=True)
    for directory in sorted({p.parent for p in paths}, key=lambda p: len(p.parts), reverse=True):
        while directory != top.parent and directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
            directory = directory.parent


def report(result: ImportResult, importer: Importer) -> None:
    """What was imported and where, on stderr."""
    def echo(text: str) -> None:
        click.echo(text, err=True)

    name = importer.provider_name
    if importer.ended:
        echo(f"Skipped {importer.ended} stopped, finished, archived or cancelled object(s) on provider {name} "
             "(--include-finished imports them too).")
    if not result.docs and result.skipped:
        echo(f"Nothing imported from provider {name}.")
    elif not result.docs:
        other = " other" if importer.ended else ""
        echo(f"Nothing to import: every{other} live object on provider {name}'s account is managed by {importer.path} already.")
    else:
        imported = [d for d in result.docs if d.live is not None]
        echo(f"Imported {len(imported)} object(s) from provider {name} into {display_path(importer.out)}:")
        width = max(len(d.address) for d in result.docs)
        for doc in result.docs:
            where = display_path(importer.out / doc.file)
            echo(f"  {doc.address:<{width}}  -> {where}  ({doc.source})")
            for note in doc.notes:
                echo(f"      note: {note}")
        data = [p for p in result.written if p.suffix not in (".yaml", ".yml")]
        for path in data:
            echo(f"  task data -> {display_path(path)}")
        echo(f"Recorded {len(imported)} address(es) in state ({importer.backend.describe()}).")
    if result.skipped:
        echo("Not imported:")
        for what, why in result.skipped:
            echo(f"  {what}: {why}")
    for address, fields in sorted(result.leftovers.items()):
        echo(f"Warning: {address} still differs from the platform after import ({', '.join(map(str, fields))}); "
             "campaignctl cannot express this in the config: review it before the next apply")
    if result.docs and not result.leftovers:
        echo(f"Next: `campaignctl plan {importer.path}` shows no changes for the imported objects.")


__all__ = ["ExportContext", "ExportedDoc", "ImportResult", "Importer", "report", "slugify"]
