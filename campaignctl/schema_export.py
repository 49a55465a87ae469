"""``campaignctl schema export DIR``: the JSON Schemas as a bundle for editors outside this repo.

Every file of ``schemas/`` is written under DIR with an ``$id`` (``--base-uri`` + its path; by
default DIR's own ``file://`` URI, so the relative ``$ref``s resolve offline at once; give the URL
where DIR is published to share it). With a config (``--config PATH``, default "." when it holds
Provider documents) the entry schema ``campaignctl.json`` picks the schema of a Campaign, Task,
Job... by its ``provider``'s type, through the registry: a Microworkers Campaign with a typo in
``paymentPerTask`` is checked as a Microworkers campaign, not as a SWARMS one. Documents of a
provider the config does not name keep the field-based guess.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .errors import CampaignctlError


def provider_types(root: Path) -> dict[str, str]:
    """Provider name -> spec.type of the Provider documents under ``root`` (a file or directory).

    Lenient on purpose: a file that does not parse is skipped (validate reports it), so an editor
    bundle can be made while the config is being fixed."""
    import yaml  # here, not at the top: every command imports this module (to register it), few read YAML with it

    files = [root] if root.is_file() else sorted(p for p in root.rglob("*.y*ml") if ".campaignctl" not in p.parts)
    found: dict[str, str] = {}
    for file in files:
        try:
            docs = list(yaml.safe_load_all(file.read_text(encoding="utf-8")))
        except (yaml.YAMLError, OSError, UnicodeDecodeError):
            continue
        for doc in docs:
            if isinstance(doc, dict) and doc.get("kind") == "Provider" and isinstance(doc.get("spec"), dict):
                if isinstance(doc.get("name"), str) and isinstance(doc["spec"].get("type"), str):
                    found[doc["name"]] = doc["spec"]["type"]
    return found


def _platform_refs(node: Any, folders: set[str]) -> bool:
    """Whether ``node`` ``$ref``s a platform's schema folder anywhere."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.split("/", 1)[0] in folders and "/" in ref:
            return True
        return any(_platform_refs(v, folders) for v in node.values())
    if isinstance(node, list):
        return any(_platform_refs(v, folders) for v in node)
    return False


def by_provider(entry: dict[str, Any], providers: dict[str, str], schema_root: Path) -> dict[str, Any]:
    """``campaignctl.json`` with the platform kinds picked by the document's provider."""
    from .platforms import PLATFORMS

    folders = {p.schemas for p in PLATFORMS.values()}
    known = sorted(n for n, t in providers.items() if t in PLATFORMS)
    if not known:
        return entry
    branches: list[Any] = []
    for branch in entry.get("allOf", []):
        if isinstance(branch, dict) and "if" in branch and _platform_refs(branch.get("then"), folders):
            # the field-based guess stays for the documents of a provider the config does not name
            test = dict(branch["if"])
            test["properties"] = {**test.get("properties", {}), "provider": {"not": {"enum": known}}}
            branch = {**branch, "if": test}
        branches.append(branch)
    for name in known:
        folder = PLATFORMS[providers[name]].schemas
        for kind_file in sorted((schema_root / folder).glob("*.json")):
            kind = kind_file.stem
            branches.append({
                "description": f"a {kind} of provider {name!r} (type {providers[name]})",
                "if": {"properties": {"kind": {"const": kind}, "provider": {"const": name}}, "required": ["kind", "provider"]},
                "then": {"properties": {"spec": {"$ref": f"{folder}/{kind_file.name}"}}},
            })
    return {**entry, "allOf": branches}


def export(directory: Path, base_uri: str | None, providers: dict[str, str]) -> list[Path]:
    from .schemas import schema_dir

    root = schema_dir()
    base = base_uri or directory.resolve().as_uri()
    base = base if base.endswith("/") else base + "/"
    written = []
    for source in sorted(root.rglob("*.json")):
        rel = source.relative_to(root).as_posix()
        data = json.loads(source.read_text(encoding="utf-8"))
        if rel == "campaignctl.json":
            data = by_provider(data, providers, root)
        data = {"$schema": data.get("$schema"), "$id": base + rel, **{k: v for k, v in data.items() if k not in ("$schema", "$id")}}
        if data["$schema"] is None:
            del data["$schema"]
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(target)
    return written


@click.group("schema")
def schema() -> None:
    """The JSON Schemas of the config language (for editors)."""


@schema.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--config", "config", type=click.Path(exists=True, path_type=Path), help="The config whose Provider documents pick each resource's schema (default: \".\" when it has any).")
@click.option("--base-uri", metavar="URI", help="Where DIR will be served: each schema's $id is URI + its path (default: DIR's file:// URI).")
def export_cmd(directory: Path, config: Path | None, base_uri: str | None) -> None:
    """Write every schema to DIRECTORY, each with an $id, for yaml-language-server editors.

    Point a YAML file at it with the modeline `# yaml-language-server: $schema=<DIR>/campaignctl.json`.
    """
    providers = provider_types(config if config is not None else Path("."))
    if config is not None and not providers:
        raise CampaignctlError(f"{config}: no Provider document found (each Campaign's schema is picked by its provider's type)")
    try:
        written = export(directory, base_uri, providers)
    except OSError as exc:
        from .fsutil import describe

        raise CampaignctlError(f"cannot write the schemas: {describe(exc)}") from None
    named = ", ".join(f"{n} ({t})" for n, t in sorted(providers.items())) or "none: the field-based guess"
    click.echo(f"Wrote {len(written)} schema(s) to {directory}; resources picked by provider: {named}.", err=True)


__all__ = ["by_provider", "export", "provider_types", "schema"]
