"""Shell completion (bash, zsh, fish, through click): ``campaignctl completion SHELL`` prints the
script to source; CAMPAIGN arguments complete to the config's campaign names and addresses,
ADDRESS arguments to the addresses in state, ``--target``/``--exclude`` to the config's addresses.

The config is the command's PATH (or ``--dir``) when it is already typed, else ".". Completion
never fails: a config that does not load completes to nothing."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # imported where a completion is asked for: not by every command
    from click.shell_completion import CompletionItem

SHELLS = ("bash", "zsh", "fish")


def _config_dir(ctx: click.Context) -> Path:
    for key in ("path", "dir_alias"):
        value = ctx.params.get(key)
        if value:
            return Path(value)
    return Path(".")


def _config(ctx: click.Context) -> Any:
    from .validation import load_config

    try:
        return load_config(_config_dir(ctx))
    except Exception:  # noqa: BLE001 - completion offers nothing rather than a traceback in the shell
        return None


def campaigns(ctx: click.Context, _: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    config = _config(ctx)
    if config is None:
        return []
    found = {a: d for a, d in config.resources.items() if d.kind == "Campaign"}
    words = sorted({d.name for d in found.values()} | set(found))
    return [CompletionItem(w) for w in words if w.startswith(incomplete)]


def addresses(ctx: click.Context, _: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    config = _config(ctx)
    if config is None:
        return []
    return [CompletionItem(a) for a in sorted(config.resources) if a.startswith(incomplete)]


def state_addresses(ctx: click.Context, _: click.Parameter, incomplete: str) -> list[CompletionItem]:
    from click.shell_completion import CompletionItem

    from .session import backend_for

    config = _config(ctx)
    if config is None:
        return []
    try:
        state = backend_for(config).read()
    except Exception:  # noqa: BLE001 - as above
        return []
    return [CompletionItem(a) for a in sorted(state.resources) if a.startswith(incomplete)]


@click.command("completion")
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL; e.g. in ~/.bashrc: eval "$(campaignctl completion bash)"."""
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    assert cls is not None  # one of SHELLS
    root = ctx.find_root().command
    click.echo(cls(root, {}, "campaignctl", "_CAMPAIGNCTL_COMPLETE").source())


__all__ = ["addresses", "campaigns", "completion", "state_addresses"]
