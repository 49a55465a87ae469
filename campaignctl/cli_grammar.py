"""One grammar for every command: the config is the PATH argument (``--dir`` stays as its alias),
and the root's options (``--debug``, ``-v``, ``--color/--no-color``, ``--workspace``,
``--deadline``) are also accepted after the subcommand (``campaignctl plan . --no-color -v``).
"""
from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def config_arg(f: Callable[..., Any]) -> Callable[..., Any]:
    """An optional ``PATH`` argument (the config directory, default ".") and its alias ``--dir``,
    passed to the command as ``path``."""

    @functools.wraps(f)
    def command(*args: Any, **kwargs: Any) -> Any:
        positional, alias = kwargs.pop("path"), kwargs.pop("dir_alias")
        if positional is not None and alias is not None and Path(positional) != Path(alias):
            raise click.UsageError(f"PATH {positional} and --dir {alias} name different configs: give one of them")
        return f(*args, path=positional or alias or Path("."), **kwargs)

    command = click.option(
        "--dir", "dir_alias", type=click.Path(path_type=Path), metavar="PATH", help="The config directory: the same as PATH (the older spelling)."
    )(command)
    return click.argument("path", required=False, type=click.Path(path_type=Path))(command)


def set_log_level(debug: bool, verbose: int) -> None:
    """The root options' logging: WARNING, INFO with -v, DEBUG with -vv or --debug (on stderr)."""
    level = logging.DEBUG if debug or verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _app(ctx: click.Context) -> Any:
    """The command's App (campaignctl.cli.App): what the root group put in its context."""
    return ctx.find_root().obj


def _debug(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    app = _app(ctx)
    if value and app is not None:
        app.debug = True
        set_log_level(True, 0)


def _verbose(ctx: click.Context, _: click.Parameter, value: int) -> None:
    app = _app(ctx)
    if value and app is not None:
        app.verbose = max(getattr(app, "verbose", 0), value)
        set_log_level(app.debug, app.verbose)


def _color(ctx: click.Context, _: click.Parameter, value: bool | None) -> None:
    app = _app(ctx)
    if value is not None and app is not None:
        app.color_flag = value
        ctx.color = value  # what click.echo reads: keep (or drop) the colour codes through a pipe


def _workspace(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    app = _app(ctx)
    if value and app is not None:
        app.workspace = value
        os.environ["CAMPAIGNCTL_WORKSPACE"] = value


def _deadline(ctx: click.Context, _: click.Parameter, value: float | None) -> None:
    if value is not None:
        from .limits import set_deadline

        set_deadline(value)


def _global_options() -> list[click.Option]:
    hidden: dict[str, Any] = {"expose_value": False, "is_eager": True, "hidden": True}
    return [
        click.Option(["--debug"], is_flag=True, callback=_debug, **hidden),
        click.Option(["-v", "--verbose"], count=True, callback=_verbose, **hidden),
        click.Option(["--color/--no-color"], default=None, callback=_color, **hidden),
        click.Option(["--workspace"], callback=_workspace, **hidden),
        click.Option(["--deadline"], type=click.FloatRange(min=0, min_open=True), callback=_deadline, **hidden),
    ]


def accept_global_options(group: click.Group) -> None:
    """Give every command under ``group`` the root's options too (hidden from its --help: the root's
    --help lists them), unless it has an option of that name itself."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            accept_global_options(command)
            continue
        taken = {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
        command.params.extend(o for o in _global_options() if not taken & {*o.opts, *o.secondary_opts})


__all__ = ["accept_global_options", "config_arg", "set_log_level"]
