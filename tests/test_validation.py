"""campaignctl.validation: the config loaded, then held to its platforms' rules (issue 22: config
imports no provider; what it needs of the platforms comes from here)."""
from __future__ import annotations

import ast
import shutil
from pathlib import Path
from typing import Any

import pytest

from campaignctl import validation
from campaignctl.config import load
from campaignctl.config.model import Config, Document, address_of
from campaignctl.errors import ConfigError, Diagnostic
from campaignctl.platforms import PLATFORMS, Kinds, kinds_of
from campaignctl.platforms import load as load_target
from tests.helpers import ROOT, copy_example

PACKAGE = ROOT / "campaignctl"


def test_each_platform_declares_its_kinds_in_a_light_module_its_provider_takes_them_from() -> None:
    for platform in PLATFORMS.values():
        module, _, _ = platform.kinds.partition(":")
        assert module == f"campaignctl.platforms.{platform.package}.kinds"
        kinds = load_target(platform.kinds)
        assert isinstance(kinds, Kinds) and kinds is kinds_of(platform.type)
        cls = load_target(platform.provider)
        # one source of truth: the very objects, not copies
        assert cls.kinds is kinds.kinds and cls.references is kinds.references
        assert cls.component_lists is kinds.component_lists
        # light: nothing but the registry's Kinds (its own package, imported first anyway)
        tree = ast.parse((PACKAGE / "platforms" / platform.package / "kinds.py").read_text())
        imports = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        assert imports == ["from __future__ import annotations", "from .. import Kinds"], platform.type
    assert kinds_of("no-such-platform") is None


def test_every_command_loads_a_config_through_validation() -> None:
    """The platform rules are reported wherever a config is loaded: nothing in campaignctl but
    campaignctl.validation calls the loader itself (which needs the platforms given to it)."""
    offenders = []
    for file in sorted(PACKAGE.rglob("*.py")):
        if file in (PACKAGE / "validation.py", PACKAGE / "config" / "load.py"):
            continue
        for node in ast.walk(ast.parse(file.read_text(), str(file))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("config.load"):
                offenders += [f"{file.relative_to(ROOT)}:{node.lineno}" for a in node.names if a.name == "load_config"]
            elif isinstance(node, ast.Attribute) and node.attr == "load_config" and ast.unparse(node.value).endswith("load"):
                offenders.append(f"{file.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders
    with pytest.raises(TypeError, match="platforms"):
        load.load_config(ROOT / "examples" / "quickstart")  # type: ignore[call-arg]


class Recording:
    """The registry's platforms, recording what the loader asks them to check."""

    def __init__(self) -> None:
        self.sound: list[list[str]] = []

    def kinds(self, type_: str) -> Kinds | None:
        return validation.PLATFORMS.kinds(type_)

    def check(self, config: Config, sound: list[tuple[str, Document]]) -> list[Diagnostic]:
        self.sound.append(sorted(doc.address for _, doc in sound))
        return [doc.field_mark("name").diag("a rule") for _, doc in sound if doc.name == "rate-forest"]

    def code(self) -> bytes:
        return validation.PLATFORMS.code()


def test_the_rules_run_on_the_sound_resources_and_are_reported_with_the_rest(tmp_path: Path) -> None:
    repo = copy_example("quickstart", tmp_path)
    tasks = repo / "tasks.yaml"
    tasks.write_text(tasks.read_text().replace("name: rate-beach\nprovider: swarms\nspec:\n", "name: rate-beach\nprovider: swarms\nspec:\n  colour: red\n", 1))
    platforms = Recording()
    with pytest.raises(ConfigError) as caught:
        load.load_config(repo, platforms=platforms)
    # rate-beach is broken, and so is what references it (rate-batch-1, then image-rating)
    assert platforms.sound == [sorted(address_of("swarms", k, n) for k, n in (
        ("Task", "rate-forest"), ("Task", "describe-photo"), ("Job", "describe-batch-1")))]
    messages = [(d.file, d.line, d.message) for d in caught.value.diagnostics]
    assert messages == sorted(messages) and len(messages) == 2
    assert messages[0][1] < messages[1][1] and "unknown field 'colour'" in messages[0][2]
    assert messages[1][2] == "a rule" and messages[1][0].endswith("tasks.yaml")


def test_the_platforms_code_is_in_the_key_of_the_remembered_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMPAIGNCTL_CACHE_DIR", str(tmp_path / "cache"))
    repo = copy_example("quickstart", tmp_path)
    ran: list[int] = []
    real = load._validate

    def counting(*args: Any) -> list[Diagnostic]:
        ran.append(1)
        return real(*args)

    monkeypatch.setattr(load, "_validate", counting)
    validation.load_config(repo)
    validation.load_config(repo)
    assert len(ran) == 1  # remembered
    monkeypatch.setattr(validation.RegistryPlatforms, "code", lambda self: b"other rules")
    validation.load_config(repo)
    assert len(ran) == 2  # other platform code: checked again


def test_the_platforms_code_covers_the_rules_in_every_platform_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "campaignctl"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))

    def digest() -> bytes:
        validation._platforms_code.cache_clear()
        return validation._platforms_code()

    monkeypatch.setattr(validation, "HERE", copy)
    try:
        before = digest()
        (copy / "cli.py").write_text((copy / "cli.py").read_text() + "\n# not a rule\n")
        assert digest() == before
        for platform in PLATFORMS.values():
            provider = copy.parent.joinpath(*platform.provider.partition(":")[0].split(".")).with_suffix(".py")
            provider.write_text(provider.read_text() + "\n# a rule changed\n")
            assert digest() != before, platform.type
            before = digest()
        shared = copy / "providers" / "schedule.py"
        shared.write_text(shared.read_text() + "\n# a shared rule changed\n")
        assert digest() != before
    finally:
        monkeypatch.undo()
        validation._platforms_code.cache_clear()
