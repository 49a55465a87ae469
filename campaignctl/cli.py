"""The ``campaignctl`` command line. Plans go to stdout; logs, progress and errors to stderr.

Exit codes: 0 success (with ``--detailed-exitcode``: no changes), 1 error, 2 changes pending
(``--detailed-exitcode`` only).
"""
from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__
from .cli_grammar import accept_global_options, config_arg
from .completion import state_addresses
from .errors import CampaignctlError, ConfigError, PlanError
from .plan import FORMATS as PLAN_FORMATS


class App:
    def __init__(self, debug: bool, verbose: int, color: bool | None, workspace: str | None = None) -> None:
        self.debug = debug
        self.color_flag = color
        self.workspace = workspace

    def color(self, stream: Any) -> bool:
        if self.color_flag is not None:
            return self.color_flag
        return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()

    def err(self, message: str) -> None:
        prefix = click.style("Error:", fg="red", bold=True) if self.color(sys.stderr) else "Error:"
        click.echo(f"{prefix} {message}", err=True)


pass_app = click.make_pass_decorator(App)
path_arg = click.argument("path", default=".", type=click.Path(path_type=Path))
parallelism_opt = click.option("--parallelism", default=8, show_default=True, type=click.IntRange(1, 256), help="API calls in flight at once, per provider.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="campaignctl")
@click.option("--debug", is_flag=True, help="Show debug logs and tracebacks.")
@click.option("-v", "--verbose", count=True, help="More logs on stderr (-v info, -vv debug).")
@click.option("--color/--no-color", default=None, help="Colour output (default: on a terminal, unless NO_COLOR is set).")
@click.option("--workspace", metavar="NAME", envvar="CAMPAIGNCTL_WORKSPACE", help="Which state of the Backend to use (overrides its workspace; env CAMPAIGNCTL_WORKSPACE).")
@click.option(
    "--deadline", metavar="SECONDS", envvar="CAMPAIGNCTL_DEADLINE", type=click.FloatRange(min=0, min_open=True),
    help="Stop calling the platforms this many seconds after the start: later calls fail, one under way is cut (env CAMPAIGNCTL_DEADLINE).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: int, color: bool | None, workspace: str | None, deadline: float | None) -> None:
    """Declarative campaign-as-code for crowd-work platforms.

    Keep campaigns, jobs, tasks, schedules and task UI in YAML; `validate` checks them offline,
    `plan` shows what would change on the platforms and `apply` makes it so.
    """
    level = logging.DEBUG if debug or verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    ctx.obj = App(debug, verbose, color, workspace)
    ctx.color = color  # click.echo keeps the colour codes through a pipe under --color (and drops them under --no-color)
    if deadline is not None:
        from .limits import set_deadline

        set_deadline(deadline)
    if workspace:  # every command's backend_for (Session.load included) selects it
        os.environ["CAMPAIGNCTL_WORKSPACE"] = workspace


# -- validate ----------------------------------------------------------------------------------
@cli.command()
@path_arg
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
              help="text for people, json for machines, github for annotations on a pull request (::error file=...,line=...,col=...::).")
def validate(path: Path, fmt: str) -> None:
    """Check the config in PATH offline: YAML, schemas, references, platform rules.

    Prints every problem as file:line:col: message and exits 1 if there is any. The rules of
    Policy documents are checked too: those at level error fail, those at level warning are
    printed on stderr. With --format json or github the findings go to stdout in that form
    (warnings included), and the exit code is the same.
    """
    from . import policy
    from .config.load import loading_for_process
    from .validation import load_config

    if fmt != "text":
        from .validate_format import as_json, github

        config = None
        warnings: list[Any] = []
        try:
            with loading_for_process():
                config = load_config(path)
            findings = policy.check_config(config)
            warnings = [f.diagnostic for f in findings if f.level == "warning"]
            policy.raise_for_validate(findings)
            errors: list[Any] = []
        except ConfigError as exc:
            errors = exc.diagnostics
        if fmt == "json":
            docs = (len(config.documents), len(config.resources)) if config is not None else (None, None)
            click.echo(as_json(errors, warnings, *docs), nl=False)
        else:
            click.echo(github(errors, warnings), nl=False)
        if errors:
            click.echo(f"{len(errors)} problem(s) in the configuration.", err=True)
            sys.exit(1)
        return
    with loading_for_process():
        config = load_config(path)
    findings = policy.check_config(config)
    for finding in findings:
        if finding.level == "warning":
            click.echo(f"Warning: {finding.diagnostic}", err=True)
    policy.raise_for_validate(findings)
    n = len(config.documents)
    click.echo(f"{path}: {n} document(s), {len(config.resources)} resource(s): valid.")


# -- plan ---------------------------------------------------------------------------------------
def selection_options(f: Any) -> Any:
    from .completion import addresses

    f = click.option("--exclude", "excludes", multiple=True, metavar="ADDRESS", shell_complete=addresses, help="Leave out addresses matching this glob (repeatable).")(f)
    f = click.option("--target", "targets", multiple=True, metavar="ADDRESS", shell_complete=addresses, help="Only these addresses (globs, repeatable), with what they reference.")(f)
    return f


def guard_options(f: Any) -> Any:
    f = click.option("--max-spend", type=click.FloatRange(0), metavar="USD", help="Refuse a plan that commits more money than this.")(f)
    f = click.option(
        "--max-destroy-percent", default=30.0, show_default=True, type=click.FloatRange(0, 100),
        help="Refuse a plan deleting or replacing more than this share of the managed objects (when at least 10 exist).",
    )(f)
    return f


@cli.command()
@path_arg
@click.option("-out", "--out", "out", type=click.Path(dir_okay=False, path_type=Path), help="Save the plan to FILE for `apply FILE`.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when nothing changes, 2 when changes are pending, 1 on error.")
@click.option("--format", "fmt", type=click.Choice(PLAN_FORMATS), default="text", show_default=True, help="text for people, json for machines, markdown for a pull-request comment.")
@click.option("--markdown-parts", "markdown_parts", type=click.Path(file_okay=False, path_type=Path), help="Write each part of the markdown plan to DIR/plan-N.md, for posting as separate comments.", metavar="DIR")
@selection_options
@guard_options
@parallelism_opt
@pass_app
def plan(
    app: App, path: Path, out: Path | None, detailed_exitcode: bool, fmt: str, markdown_parts: Path | None, targets: tuple[str, ...],
    excludes: tuple[str, ...], max_destroy_percent: float, max_spend: float | None, parallelism: int,
) -> None:
    """Show what apply would change on the platforms for the config in PATH.

    Changes made on the platforms outside campaignctl since the last apply (drift) are listed
    apart; so is what apply would refuse without an override (--allow-replace, --force, a
    higher --max-spend), e.g. a replacement, or more money than an account's balance.
    """
    from .plan.builder import Selection
    from .session import Session, run

    session = Session.for_cli(path, parallelism, prefetch=True)
    # what only the plan's printing needs, imported while the platforms answer the reads
    from .plan import safety
    from .plan.output import emit
    from .plan.saved import saved_form

    the_plan = run(session.plan(selection=Selection(list(targets), list(excludes))))
    safety.review(the_plan, max_destroy_percent, max_spend)
    findings = _policy_findings(session.config, the_plan)
    emit(the_plan, fmt, app.color(sys.stdout), parts_dir=markdown_parts)
    _policy_refuses(findings, "plan")  # a plan the policy refuses is shown, not saved
    if out is not None:
        from .fsutil import atomic_write, describe

        data = json.dumps(saved_form(the_plan, session.config, out), indent=2, sort_keys=True, default=str) + "\n"
        try:
            atomic_write(out, data)  # whole or not at all, readable by its owner only
        except OSError as exc:
            raise PlanError(f"cannot save the plan: {describe(exc, out)}") from None
        digest = hashlib.sha256(data.encode()).hexdigest()
        click.echo(
            f"Saved the plan to {out} (sha256 {digest}). Apply exactly it with: campaignctl apply {out} --checksum {digest}",
            err=True,
        )
    _refuse_impossible(the_plan)
    if detailed_exitcode and the_plan.has_changes:
        sys.exit(2)


# -- drift --------------------------------------------------------------------------------------
@cli.command()
@path_arg
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when nothing drifted, 2 when something did, 1 on error.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@parallelism_opt
def drift(path: Path, detailed_exitcode: bool, fmt: str, parallelism: int) -> None:
    """Report only what changed on the platforms outside campaignctl since the last apply.

    For a scheduled CI job: config changes not yet applied are not drift and are not reported.
    """
    from .plan.render import render_drift
    from .session import Session, run

    session = Session.for_cli(path, parallelism, prefetch=True)
    the_plan = run(session.plan())
    if fmt == "json":
        click.echo(json.dumps({"drift": [d.to_dict() for d in the_plan.drift]}, indent=2, sort_keys=True, default=str))
    else:
        click.echo(render_drift(the_plan.drift) or "No drift: the platforms match the last apply.")
    if detailed_exitcode and the_plan.drift:
        sys.exit(2)


# -- show ---------------------------------------------------------------------------------------
@cli.command()
@click.argument("planfile", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(PLAN_FORMATS), default="text", show_default=True, help="text for people, json for machines, markdown for a pull-request comment.")
@pass_app
def show(app: App, planfile: Path, fmt: str) -> None:
    """Show a plan saved with `plan -out FILE`, as `plan` printed it.

    Offline: no platform is called and no configuration is needed.
    """
    from .plan.output import emit

    emit(_read_saved(planfile, None), fmt, app.color(sys.stdout))


# -- apply -------------------------------------------------------------------------------------
@cli.command()
@click.argument("target", default=".", type=click.Path(path_type=Path))
@click.option("--auto-approve", is_flag=True, help="Do not ask for confirmation.")
@click.option("--allow-replace", is_flag=True, help="Accept replacements (a new object, then the old one removed).")
@click.option("--force", is_flag=True, help="Allow deleting or replacing protected resources, beyond the threshold, or with an empty config; "
              "and committing more money than an account's balance.")
@click.option("--checksum", metavar="SHA256", help="Apply the saved plan only if its sha256 is this (as printed by plan -out).")
@click.option("--lock-timeout", default=0.0, type=click.FloatRange(0), help="Seconds to wait for the state lock.")
@click.option(
    "--refresh-only", is_flag=True,
    help="Change nothing on the platforms: show what changed there outside campaignctl (drift) and record those live values in state as the new baseline.",
)
@selection_options
@guard_options
@parallelism_opt
@pass_app
def apply(
    app: App, target: Path, auto_approve: bool, allow_replace: bool, force: bool, checksum: str | None, lock_timeout: float,
    refresh_only: bool, targets: tuple[str, ...], excludes: tuple[str, ...], max_destroy_percent: float, max_spend: float | None,
    parallelism: int,
) -> None:
    """Make the platforms match the config in TARGET (a directory, or a plan saved with -out).

    A saved plan is applied exactly, from any directory, and only if the config and every live
    object it read are unchanged since it was made. When the plan commits money, deletes,
    replaces, cancels or stops, the prompt takes only 'yes' typed out. An apply that is
    interrupted (Ctrl-C, SIGTERM, an error) says how many of its calls were done and exits 1; run
    apply again. With --refresh-only nothing is sent to the platforms: the drift is shown and, once
    confirmed, recorded as the new baseline.
    """
    if refresh_only:
        if target.is_file() or checksum:
            raise PlanError("--refresh-only reads the platforms afresh: give the config directory, not a saved plan")
        _refresh_only(app, target, auto_approve, lock_timeout, targets, excludes, parallelism)
        return
    from .plan import safety
    from .plan.builder import Selection
    from .plan.model import Plan
    from .plan.render import ANSI, PLAIN, render_text
    from .plan.saved import check_saved, saved_root
    from .session import Session, run, verify

    saved: Plan | None = None
    config_path: Path = target
    selection = Selection(list(targets), list(excludes))
    if target.is_file():
        saved = _read_saved(target, checksum)
        if selection:
            raise PlanError("--target/--exclude apply to planning; a saved plan is applied whole (plan it with --target)")
        config_path = saved_root(saved, target)
    elif checksum:
        raise PlanError("--checksum checks a saved plan: give the plan file, not a directory")
    session = Session.for_cli(config_path, parallelism, prefetch=saved is None, read_state=False)
    session.backend.lock("apply", lock_timeout)
    try:
        session.state = session.backend.read()  # read under the lock
        # a saved plan is checked against a fresh read of exactly the objects it read
        only = set(saved.live_fingerprints) if saved is not None else None
        current = run(session.plan(only=only, selection=selection))
        if saved is not None:
            check_saved(saved, current, session.config)
            the_plan = saved
            # the balances as they are now (an account topped up since the plan, or spent meanwhile)
            the_plan.balances = {**saved.balances, **{k: v for k, v in current.balances.items() if v is not None}}
        else:
            the_plan = safety.review(current, max_destroy_percent, max_spend)
            click.echo(render_text(the_plan, ANSI if app.color(sys.stdout) else PLAIN), nl=False)
        _refuse_impossible(the_plan)
        findings = _policy_findings(session.config, the_plan, warnings=False)
        for finding in findings:
            if finding.level == "warning":
                click.echo(f"Warning: policy: {finding.diagnostic}", err=True)
        _policy_refuses(findings, "apply")
        guards = safety.Guards(force, allow_replace, max_destroy_percent, max_spend)
        refused = safety.problems(the_plan, guards)
        if refused:
            raise PlanError("refusing to apply (nothing was sent):\n  " + "\n  ".join(refused))
        if not the_plan.operations:
            # what a run killed after its last call left in the journal becomes the state proper
            session.backend.commit(session.state)
            click.echo("Nothing to apply.", err=True)
            return
        if saved is None and not auto_approve:
            if not sys.stdin.isatty():
                raise PlanError("apply needs confirmation: re-run with --auto-approve (stdin is not a terminal)")
            _confirm(the_plan)
        result, check = run(session.apply(the_plan))
    finally:
        session.backend.unlock()
    _summarise(result)
    verify(check)


def _refresh_only(
    app: App, path: Path, auto_approve: bool, lock_timeout: float, targets: tuple[str, ...], excludes: tuple[str, ...],
    parallelism: int,
) -> None:
    """``apply --refresh-only``: the drift, shown on stdout, recorded in state once confirmed."""
    from .plan.builder import Selection
    from .plan.render import ANSI, PLAIN, render_drift
    from .refresh import refresh
    from .session import Session, run

    session = Session.for_cli(path, parallelism, read_state=False)
    session.backend.lock("apply --refresh-only", lock_timeout)
    try:
        session.state = session.backend.read()  # read under the lock
        found, reconciled = run(refresh(session, Selection(list(targets), list(excludes))))
        if not found:
            if reconciled:  # writes an interrupted apply left in flight: now part of the baseline
                session.backend.commit(session.state)
            click.echo("No drift: the platforms match the last apply; nothing to record.", err=True)
            return
        click.echo(render_drift([r.drift for r in found], ANSI if app.color(sys.stdout) else PLAIN), nl=False)
        click.echo(
            f"apply --refresh-only will record these live values of {len(found)} object(s) in state as the new baseline "
            "(nothing is sent to the platforms; an object deleted on the platform is dropped from state)."
        )
        if not auto_approve:
            if not sys.stdin.isatty():
                raise PlanError("apply --refresh-only needs confirmation: re-run with --auto-approve (stdin is not a terminal)")
            if not click.confirm("Record these live values in state?", default=False, err=True):
                raise PlanError("cancelled; state was not changed")
        for item in found:
            if item.entry is None:
                session.state.resources.pop(item.drift.address, None)
            else:
                session.state.resources[item.drift.address] = item.entry
        session.backend.commit(session.state)
    finally:
        session.backend.unlock()
    click.echo(
        f"Recorded the live values of {len(found)} object(s) in state; the next plan shows what it takes to bring them back "
        "to the config, as changes, not as drift.",
        err=True,
    )


def _policy_findings(config: Any, plan: Any, warnings: bool = True) -> list[Any]:
    """The Policy documents' findings for ``plan`` (added to its warnings unless ``warnings`` is False)."""
    from . import policy

    findings = policy.check_plan(config, plan.cost)
    if warnings:
        plan.warnings.extend(policy.plan_lines(findings))
    return findings


def _policy_refuses(findings: list[Any], verb: str) -> None:
    from . import policy

    policy.raise_for_plan(findings, verb)


def _refuse_impossible(plan: Any) -> None:
    if plan.errors:
        raise PlanError(f"{len(plan.errors)} change(s) cannot be made:\n  " + "\n  ".join(plan.errors))


def _read_saved(path: Path, checksum: str | None) -> Any:
    from .plan.model import Plan

    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if checksum is not None and checksum.strip().lower() != digest:
        raise PlanError(f"{path} has sha256 {digest}, not the reviewed {checksum.strip()}: refusing to apply a different plan")
    try:
        return Plan.from_dict(json.loads(data.decode("utf-8")))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PlanError(f"{path} is not a saved campaignctl plan ({exc})") from None


def _confirm(plan: Any) -> None:
    """Ask before applying: y/N, or, when the plan commits money, deletes or replaces something, or
    makes a destructive call (cancel, stop), 'yes' typed out (as Terraform asks)."""
    weighty = []
    if plan.cost > 0:
        weighty.append(f"commits {plan.cost:.2f} USD")
    counts = plan.counts()
    weighty += [f"{verb} {counts[what]} resource(s)" for what, verb in (("delete", "deletes"), ("replace", "replaces")) if counts[what]]
    destructive = [op for op in plan.operations if op.destructive]
    if destructive:
        weighty.append(f"makes {len(destructive)} destructive call(s) ({', '.join(sorted({op.action.split('@')[0] for op in destructive}))})")
    if not weighty:
        if not click.confirm("Apply these changes?", default=False, err=True):
            raise PlanError("cancelled; nothing was changed")
        return
    click.echo(f"This plan {'; '.join(weighty)}. Only 'yes' will be accepted to approve.", err=True)
    answer = click.prompt("Apply these changes? Enter a value", default="", show_default=False, err=True)
    if answer.strip() != "yes":
        raise PlanError(f"cancelled: the answer was {answer.strip()[:20]!r}, not 'yes'; nothing was changed")


def _summarise(result: Any) -> None:
    click.echo(
        f"Apply: {len(result.done)} call(s) done, {len(result.failed)} failed, {len(result.skipped)} skipped.",
        err=True,
    )
    if result.failed:
        lines = [f"{op}: {msg}" for op, msg in result.failed.items()]
        if result.skipped:
            lines.append(f"skipped because they depend on a failed call: {', '.join(result.skipped[:20])}")
        raise CampaignctlError("apply failed:\n  " + "\n  ".join(lines) + "\nState holds every call that succeeded; fix the cause and run apply again.")


# -- import ------------------------------------------------------------------------------------
@cli.command("import")
@path_arg
@click.option("--provider", "provider", required=True, help="The Provider document (name) whose account to import.")
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), help="Directory for the YAML, inside PATH (default: PATH/imported/<provider>/).")
@click.option("--lock-timeout", default=0.0, type=click.FloatRange(0), help="Seconds to wait for the state lock.")
@click.option("--include-finished", is_flag=True, help="Also import stopped, finished, archived and cancelled objects (skipped by default).")
@parallelism_opt
def import_cmd(path: Path, provider: str, out: Path | None, lock_timeout: float, include_finished: bool, parallelism: int) -> None:
    """Write YAML and state for the live objects on a provider's account that PATH does not manage yet.

    Stopped, finished, archived and cancelled objects are skipped (and counted on stderr) unless
    --include-finished. Existing files are never overwritten; afterwards `plan PATH` shows no
    changes for what was imported.
    """
    from .importer import Importer, report

    importer = Importer(path, provider, out, parallelism, include_finished=include_finished)
    importer.backend.lock("import", lock_timeout)
    try:
        result = importer.run()
    finally:
        importer.backend.unlock()
    report(result, importer)


# -- state -------------------------------------------------------------------------------------
@cli.group()
def state() -> None:
    """Inspect and edit the state (address -> remote id)."""


def _state_session(path: Path) -> Any:
    from .inputs import backend_for
    from .validation import load_config

    config = load_config(path)
    app = click.get_current_context().find_object(App)
    backend = backend_for(config, app.workspace if app else None)
    return backend, backend.read()


@state.command("list")
@config_arg
def state_list(path: Path) -> None:
    """List the addresses in state with their remote ids."""
    _, st = _state_session(path)
    for address, entry in sorted(st.resources.items()):
        click.echo(f"{address}\t{entry.get('id')}")


@state.command("show")
@click.argument("address", shell_complete=state_addresses)
@config_arg
def state_show(address: str, path: Path) -> None:
    """Show one state entry as JSON."""
    _, st = _state_session(path)
    if address not in st.resources:
        raise CampaignctlError(f"{address} is not in state")
    click.echo(json.dumps(st.resources[address], indent=2, sort_keys=True))


@state.command("rm")
@click.argument("address", shell_complete=state_addresses)
@config_arg
def state_rm(address: str, path: Path) -> None:
    """Forget ADDRESS (the remote object is left alone)."""
    backend, st = _state_session(path)
    backend.lock("state rm")
    try:
        st = backend.read()  # under the lock: a shared state may have moved since
        if st.resources.pop(address, None) is None:
            raise CampaignctlError(f"{address} is not in state")
        backend.commit(st)
    finally:
        backend.unlock()
    click.echo(f"Removed {address} from state.", err=True)


@state.command("mv")
@click.argument("source", shell_complete=state_addresses)
@click.argument("destination")
@config_arg
def state_mv(source: str, destination: str, path: Path) -> None:
    """Give the remote object of SOURCE the address DESTINATION."""
    backend, st = _state_session(path)
    backend.lock("state mv")
    try:
        st = backend.read()  # under the lock: a shared state may have moved since
        if source not in st.resources:
            raise CampaignctlError(f"{source} is not in state")
        if destination in st.resources:
            raise CampaignctlError(f"{destination} is already in state")
        st.resources[destination] = st.resources.pop(source)
        backend.commit(st)
    finally:
        backend.unlock()
    click.echo(f"Moved {source} to {destination}.", err=True)


@state.command("migrate")
@click.option("--to", "to", required=True, type=click.Choice(["postgres", "local"]), help="Where the state goes; it comes from the other one.")
@config_arg
@click.option("--force", is_flag=True, help="Overwrite a destination that holds another (or a newer) state.")
@click.option("--lock-timeout", default=0.0, type=click.FloatRange(0), help="Seconds to wait for each state lock.")
@pass_app
def state_migrate(app: App, to: str, path: Path, force: bool, lock_timeout: float) -> None:
    """Copy the whole state (serial and lineage included) between the local directory and PostgreSQL.

    The PostgreSQL side is the config's Backend document (dsnEnv, workspace; $CAMPAIGNCTL_PG_DSN
    without one), the local side its `path` (.campaignctl). Both are locked while copying; the
    source is left as it is. Then point the Backend document at the destination.
    """
    from .inputs import backend_for
    from .state.migrate import migrate
    from .validation import load_config

    config = load_config(path)
    local = backend_for(config, app.workspace, backend_type="local")
    remote = backend_for(config, app.workspace, backend_type="postgres")
    source, destination = (local, remote) if to == "postgres" else (remote, local)
    copied = migrate(source, destination, force=force, lock_timeout=lock_timeout)
    click.echo(
        f"Copied {len(copied.resources)} resource(s) (serial {copied.serial}, lineage {copied.lineage}) "
        f"from {source.describe()} to {destination.describe()}; the source was left as it is.",
        err=True,
    )


@cli.command("force-unlock")
@click.argument("lock_id")
@config_arg
def force_unlock(lock_id: str, path: Path) -> None:
    """Remove the state lock LOCK_ID left by a run that died."""
    backend, _ = _state_session(path)
    holder = backend.force_unlock(lock_id)
    click.echo(f"Removed {holder.describe()}.", err=True)


# -- graph -------------------------------------------------------------------------------------
@cli.command()
@path_arg
def graph(path: Path) -> None:
    """Print the config's dependency graph as DOT."""
    from .providers import provider_class
    from .validation import load_config

    config = load_config(path)
    lines = ["digraph campaignctl {", "  rankdir=LR;"]
    for address, doc in sorted(config.resources.items()):
        lines.append(f'  "{address}";')
        ptype = config.providers[doc.provider or ""].spec["type"]
        cls = provider_class(ptype)
        for field, kind in (cls.references.get(doc.kind, {}) if cls else {}).items():
            value = doc.spec.get(field)
            for name in value if isinstance(value, list) else [value] if value else []:
                target = f"{doc.provider}/{kind.lower()}/{name}" if kind not in ("Schedule", "Component") else f"{kind.lower()}/{name}"
                lines.append(f'  "{address}" -> "{target}";')
        for item in doc.spec.get("components", []) if doc.kind == "Task" else []:
            if isinstance(item, dict) and "use" in item:
                lines.append(f'  "{address}" -> "component/{item["use"]}";')
    lines.append("}")
    click.echo("\n".join(dict.fromkeys(lines)))


# -- sandbox -----------------------------------------------------------------------------------
@cli.group()
def sandbox() -> None:
    """The fake platform APIs (for trying campaignctl and for tests)."""


@sandbox.command("serve")
@config_arg
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), help="SQLite file holding the sandbox's data (default: the database of PATH's `endpoint: sandbox`, PATH/.campaignctl/sandbox.db).")
@click.option("--api-key-env", default="CAMPAIGNCTL_SANDBOX_KEY", show_default=True, help="Env var with the key/token the sandbox accepts (default key: sandbox-key).")
@click.option("--balance", type=float, default=10_000.0, show_default=True, help="USD on each platform account.")
@click.option("--review-seconds", type=float, default=0.0, show_default=True, help="Seconds a new campaign stays in review (where the platform reviews campaigns).")
@click.option(
    "--strict-readonly/--lenient-readonly", default=True, show_default=True,
    help="What the docs mark readOnly stays read-only once a campaign is published or running "
    "(--lenient-readonly: the old guess that left them editable).",
)
@click.option("--docs-only", is_flag=True, help="Serve only what the platforms' docs document: no guessed field or route.")
@click.option(
    "--faults", "faults", default="", metavar="SPEC",
    help="Inject faults, e.g. 'latency=20ms,jitter=5ms,5xx=0.1,429=0.05,retry-after=1,reset-before=0.02,"
    "reset-after=0.05,slow=0.01,slow-seconds=40,seed=7,max=100,platforms=TYPE+TYPE,methods=writes' "
    "(platforms: Provider types; see campaignctl.sandbox.faults). POST /_sandbox/faults (with the key in X-Sandbox-Key) changes it at run time.",
)
def sandbox_serve(
    path: Path, host: str, port: int, db: Path | None, api_key_env: str, balance: float, review_seconds: float, strict_readonly: bool, docs_only: bool, faults: str
) -> None:
    """Serve the sandbox on loopback, each platform under its prefix (printed at start).

    By default it serves the data of the config in PATH (default "."): the database its
    `endpoint: sandbox` providers use, so what `apply` made there is what the server shows.

    The admin routes (/_sandbox/faults, /_sandbox/stats, /_sandbox/reset-stats, /_sandbox/submit) want the key
    (X-Sandbox-Key: KEY or Authorization: Bearer KEY) and a loopback Host, and refuse a request
    from a web page of another origin.
    """
    import uvicorn

    from .sandbox.admin import is_loopback_interface
    from .sandbox.apis import platform_settings
    from .sandbox.app import PREFIXES, create_app
    from .sandbox.core import Settings
    from .sandbox.faults import FaultSpecError, parse_faults
    from .sandbox.store import Store

    try:
        fault_spec = parse_faults(faults)
    except FaultSpecError as exc:
        raise click.BadParameter(str(exc), ctx=click.get_current_context(), param_hint="'--faults'") from None
    settings = Settings(
        balance=balance, docs_only=docs_only, faults=fault_spec,
        platforms=platform_settings(review_seconds=review_seconds, strict_readonly=strict_readonly),
    )
    if os.environ.get(api_key_env):
        settings.api_key = os.environ[api_key_env]
    if not is_loopback_interface(host):
        click.echo(
            f"Warning: --host {host} is not loopback: the sandbox (fake accounts, a well-known default key "
            f"unless ${api_key_env} is set) is reachable from other machines. Its admin routes answer only "
            "to a loopback Host.",
            err=True,
        )
    if db is None:
        from .sandbox.embedded import sandbox_db_path

        db = sandbox_db_path(path)
    app = create_app(Store(db), settings)
    for platform, prefix in PREFIXES.items():
        click.echo(f"{platform}: http://{host}:{port}{prefix}", err=True)
    if fault_spec is not None:
        click.echo(f"injecting faults: {fault_spec}", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


from .cli_results import results as _results
from .cli_results import sandbox_submit as _sandbox_submit
from .cli_review import COMMANDS as _review_commands
from .cli_status import status as _status
from .completion import completion as _completion
from .schema_export import schema as _schema

cli.add_command(_results)
for _command in _review_commands:  # results review | aggregate | workers
    _results.add_command(_command)
cli.add_command(_status)
cli.add_command(_schema)
cli.add_command(_completion)
accept_global_options(cli)  # after every command is registered
sandbox.add_command(_sandbox_submit)


def main(argv: list[str] | None = None) -> NoReturn:
    # young objects collected every 100,000 allocations from the start, as loading_for_process
    # sets it for the config: the modules a command imports next (~40,000 objects that live to
    # the process's end) were otherwise scanned ~70 times (~14 ms of a no-op plan's ~0.3 s)
    gc.set_threshold(100_000, 20, 10)
    sys.exit(_main(argv))


def _main(argv: list[str] | None) -> int | str | None:
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        rv = cli.main(args=argv, prog_name="campaignctl", standalone_mode=False)
        return rv if isinstance(rv, int) else 0
    except SystemExit as exc:  # sys.exit(2) of --detailed-exitcode
        return exc.code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.Abort:
        click.echo("Aborted.", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return 1
    except CampaignctlError as exc:
        if debug:
            raise
        App(False, 0, None).err(str(exc) if not isinstance(exc, ConfigError) else _config_message(exc))
        return 1
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except OSError as exc:  # the file system said no (a full disk, a read-only folder): not a bug
        if debug or isinstance(exc, BrokenPipeError) or exc.filename is None:
            raise
        from .fsutil import describe

        App(False, 0, None).err(describe(exc))
        return 1


def _config_message(exc: ConfigError) -> str:
    n = len(exc.diagnostics)
    return f"{n} problem(s) in the configuration:\n" + "\n".join(str(d) for d in exc.diagnostics)
