"""``campaignctl schema export DIR``: the JSON Schemas as a bundle for editors outside this repo.

Every file of ``schemas/`` (but the platforms' own entry schemas) is written under DIR with an
``$id`` (``--base-uri`` + its path; by default DIR's own ``file://`` URI, so the relative ``$ref``s
resolve offline at once; give the URL where DIR is published to share it). The entry schema
``campaignctl.json`` is made from the registry: a Provider's spec is held to its type's platform
part, and with a config (``--config PATH``, default "." when it holds Provider documents) the
schema of a Campaign, Task, Template... is picked by its ``provider``'s type, never by which fields
its spec has: a Microworkers Campaign with a typo in ``paymentPerTask`` is checked as a
Microworkers campaign. A resource of a provider the config does not name has only its envelope
checked.

The platforms' entry schemas (``schemas/<p>/campaignctl.json``, for a repo of one platform) are
:func:`platform_entry` of the registry.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .errors import CampaignctlError

if TYPE_CHECKING:
    from .platforms import Platform


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


#: the editor entry schema: the shared one in ``schemas/``, each platform's in its folder
ENTRY = "campaignctl.json"


def _kind_branch(kind: str, ref: str, provider: str | None = None, description: str | None = None) -> dict[str, Any]:
    """``allOf`` branch: a ``kind`` document (of ``provider``, when given) has its spec checked by ``ref``."""
    props: dict[str, Any] = {"kind": {"const": kind}}
    if provider is not None:
        props["provider"] = {"const": provider}
    branch: dict[str, Any] = {"description": description} if description else {}
    branch["if"] = {"properties": props, "required": list(props)}
    branch["then"] = {"properties": {"spec": {"$ref": ref}}}
    return branch


def platform_kinds(platform: Platform) -> tuple[str, ...]:
    """The kinds of resource a platform's provider manages (its schema folder has one file each)."""
    from .platforms import load

    return tuple(load(platform.provider).kinds)


def platform_entry(platform: Platform) -> dict[str, Any]:
    """``schemas/<schemas>/campaignctl.json``: the editor entry schema of a repo whose providers are
    all of this platform: the shared entry schema, the platform's part of the Provider spec, the
    kinds of no provider it brings and its resource kinds (a test holds the files to this)."""
    where = f"schemas/{platform.schemas}/{ENTRY}"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"campaignctl document (providers of type {platform.type})",
        "description": (
            f"Editor entry point of a config repo whose providers are all of type {platform.type}: the shared "
            f"kinds (../{ENTRY}), and this platform's part of the Provider spec and its kinds. Put the modeline\n"
            f"# yaml-language-server: $schema=<relative path>/{where}\n"
            f"on the first line of a YAML file (it applies to every document of the file). A repo with providers "
            f"of several platforms: `campaignctl schema export DIR` writes an entry schema that picks each "
            f"document's schema by its provider's type."
        ),
        "$ref": f"../{ENTRY}",
        "allOf": [
            _kind_branch("Provider", "Provider.json", description=f"its spec is of type {platform.type} (the shared fields: ../Provider.json)"),
            *(_kind_branch(kind, f"{kind}.json") for kind in platform.shared_kinds),
            *(_kind_branch(kind, f"{kind}.json") for kind in platform_kinds(platform)),
        ],
    }


def by_provider(entry: dict[str, Any], providers: dict[str, str]) -> dict[str, Any]:
    """The shared ``campaignctl.json`` made the entry of a config of any platforms, from the
    registry: a Provider's spec is held to the part of its type's platform; the kinds of no provider
    a platform brings to their schema; and a resource (Campaign, Task, Template...) of a provider of
    ``providers`` (name -> type) to its kind's schema in that type's folder, picked by the provider,
    never by which fields the spec has. A resource of a provider the config does not name (or of a
    type the registry does not know) has only its envelope checked."""
    from .platforms import PLATFORMS
    from .schemas import provider_rules

    branches: list[Any] = [
        *entry.get("allOf", []),
        {"description": "a Provider: its type is one of the registry's, and its spec is held to that platform's part",
         "if": {"properties": {"kind": {"const": "Provider"}}, "required": ["kind"]},
         "then": {"properties": {"spec": provider_rules()}}},
    ]
    for platform in PLATFORMS.values():
        branches += [_kind_branch(kind, f"{platform.schemas}/{kind}.json") for kind in platform.shared_kinds]
    for name, type_ in sorted(providers.items()):
        owner = PLATFORMS.get(type_)
        if owner is None:
            continue
        branches += [
            _kind_branch(kind, f"{owner.schemas}/{kind}.json", name, f"a {kind} of provider {name!r} (type {type_})")
            for kind in platform_kinds(owner)
        ]
    return {**entry, "allOf": branches}


def bundled(rel: str) -> bool:
    """Whether ``schemas/<rel>`` goes into a bundle: every schema but the platforms' entry schemas
    (the bundle's own ``campaignctl.json`` is its entry; theirs build on the shared one it replaces)."""
    return rel == ENTRY or rel.rpartition("/")[2] != ENTRY


def export(directory: Path, base_uri: str | None, providers: dict[str, str]) -> list[Path]:
    from .schemas import schema_dir

    root = schema_dir()
    base = base_uri or directory.resolve().as_uri()
    base = base if base.endswith("/") else base + "/"
    written = []
    for source in sorted(root.rglob("*.json")):
        rel = source.relative_to(root).as_posix()
        if not bundled(rel):
            continue
        data = json.loads(source.read_text(encoding="utf-8"))
        if rel == ENTRY:
            data = by_provider(data, providers)
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
    """Write the schemas to DIRECTORY, each with an $id, for yaml-language-server editors.

    Its entry schema picks each document's schema by its provider's type (the config's Provider
    documents), for repos with providers of several platforms. Point a YAML file at it with the
    modeline `# yaml-language-server: $schema=<DIR>/campaignctl.json`.
    """
    providers = provider_types(config if config is not None else Path("."))
    if config is not None and not providers:
        raise CampaignctlError(f"{config}: no Provider document found (each Campaign's schema is picked by its provider's type)")
    try:
        written = export(directory, base_uri, providers)
    except OSError as exc:
        from .fsutil import describe

        raise CampaignctlError(f"cannot write the schemas: {describe(exc)}") from None
    named = ", ".join(f"{n} ({t})" for n, t in sorted(providers.items())) or "none (a resource gets its envelope checked only)"
    click.echo(f"Wrote {len(written)} schema(s) to {directory}; resources picked by provider: {named}.", err=True)


__all__ = ["by_provider", "export", "platform_entry", "platform_kinds", "provider_types", "schema"]
