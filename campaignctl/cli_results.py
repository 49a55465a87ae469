"""``campaignctl results export|rate|approve-all`` and ``campaignctl sandbox submit``.

CAMPAIGN is a Campaign's address (``swarms/campaign/image-rating``) or name in the config repo
(PATH, or ``--dir PATH``; default "."), resolved to its remote id through the state. Data goes to stdout (or
``--output`` / ``--report``); progress, the money summary and errors to stderr. Sending ratings
asks for confirmation first (``--yes`` skips it; without a terminal it is required).
"""
from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from .cli_grammar import config_arg
from .completion import campaigns
from .errors import CampaignctlError

T = TypeVar("T")

dir_opt = config_arg  # [PATH], or --dir PATH
campaign_arg = click.argument("campaign", shell_complete=campaigns)


def _reviewer(path: Path, campaign: str, parallelism: int = 8) -> Any:
    from .results.common import resolve_campaign
    from .results.reviewers import reviewer_for
    from .session import Session

    session = Session.for_cli(path, parallelism)
    return reviewer_for(resolve_campaign(session, campaign))


def _run(reviewer: Any, work: Callable[[], Awaitable[T]], parallelism: int = 8) -> T:
    from .inputs import opened
    from .session import run

    async def main() -> T:
        async with opened({reviewer.provider.name: reviewer.provider}, parallelism):
            return await work()

    return run(main())


class _Progress:
    """``Reading submissions: 250 (3 pages)`` on stderr: rewritten in place on a terminal, else a
    line every few seconds and one at the end."""

    def __init__(self, label: str, every: float = 3.0) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.every = every
        self.last = 0.0
        self.text = ""
        self.pending = False

    def __call__(self, count: int, pages: int) -> None:
        self.text = f"{self.label}: {count} ({pages} page{'s' if pages != 1 else ''})"
        if self.tty:
            click.echo("\r" + self.text, err=True, nl=False)
        elif time.monotonic() - self.last >= self.every:
            click.echo(self.text, err=True)
            self.last = time.monotonic()
            self.pending = False
            return
        self.pending = True

    def end(self) -> None:
        if self.tty and self.text:
            click.echo("", err=True)
        elif self.pending:
            click.echo(self.text, err=True)
        self.pending = False


def _confirm(question: str, yes: bool, flag: str = "--yes") -> None:
    if yes:
        return
    if not sys.stdin.isatty():
        raise CampaignctlError(f"this sends ratings, which move money: re-run with {flag} to confirm (stdin is not a terminal)")
    if not click.confirm(question, default=False, err=True):
        raise CampaignctlError("cancelled; nothing was sent")


def _open_out(path: Path | None) -> Any:
    return nullcontext(sys.stdout) if path is None or str(path) == "-" else path.open("w", encoding="utf-8", newline="")


@click.group("results")
def results() -> None:
    """Submitted work: export it, rate it (approve, reject, ask for a revision, add a bonus)."""


@results.command("export")
@campaign_arg
@dir_opt
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default=None, help="Default: from --output's suffix, else jsonl.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.option("--state", help="Only this state: pending, OK, NOK, REVISE, or the platform's own word (InReview, NOTRATED...).")
@click.option("--since", help="Only work submitted at this time or later (ISO 8601; UTC unless it has an offset).")
@click.option("--raw", is_flag=True, help="CSV: write cells that start with = + - @ (formulas to a spreadsheet) as they are, without the leading ' added by default.")
def export_cmd(campaign: str, path: Path, fmt: str | None, output: Path | None, state: str | None, since: str | None, raw: bool) -> None:
    """Write every submission of CAMPAIGN, one row each: worker, state, times, every answer.

    Resume later with the --since value printed at the end (work of that very second comes
    again: tell rows apart by id).

    In CSV, a cell (header included) that a spreadsheet would run as a formula (it starts with
    =, +, -, @, a tab or a carriage return, and is not a number) gets a ' in front; --raw keeps
    it as it is. JSONL is always exact.
    """
    from .results.common import iso_utc, parse_time
    from .results.export import export

    if fmt is None:
        fmt = "csv" if output is not None and output.suffix.lower() == ".csv" else "jsonl"
    reviewer = _reviewer(path, campaign)
    rating, platform_state = reviewer.state_filter(state) if state else (None, None)
    after = parse_time(since) if since else None
    progress = _Progress("Reading submissions")
    try:
        with _open_out(output) as stream:
            done = _run(reviewer, lambda: export(
                reviewer, stream, fmt=fmt, rating=None if platform_state else rating, state=platform_state,
                since=after, progress=progress, raw=raw,
            ))
    except OSError as exc:  # a full disk, a folder that is not there
        from .fsutil import describe

        raise CampaignctlError(f"cannot write the export: {describe(exc, output or '<stdout>')}") from None
    progress.end()
    where = f" to {output}" if output is not None else ""
    click.echo(f"Exported {done.count} submission(s) of {reviewer.ref.address}{where}.", err=True)
    if done.last_submitted is not None:
        click.echo(f"To export only newer work next time: --since {iso_utc(done.last_submitted)}", err=True)


@results.command("rate")
@campaign_arg
@click.option("--from", "source", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Ratings CSV: id, rating (OK|NOK|REVISE), comment, bonus[, until].")
@dir_opt
@click.option("--dry-run", is_flag=True, help="Check and show what would be sent; send nothing.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Write the per-row outcome CSV here instead of stdout.")
@click.option("--revise-hours", default=72.0, show_default=True, type=click.FloatRange(min=1), help="SWARMS: how long a REVISE row without `until` lets the worker redo the job.")
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(1, 1000), help="Microworkers v1: tasks per rate_tasks call.")
@click.option("--parallelism", default=8, show_default=True, type=click.IntRange(1, 256), help="Rating calls in flight at once.")
def rate_cmd(campaign: str, source: Path, path: Path, dry_run: bool, yes: bool, report: Path | None,
             revise_hours: float, batch_size: int, parallelism: int) -> None:
    """Rate CAMPAIGN's submissions from a CSV file, and print a per-row outcome report (CSV).

    Every row is checked before anything is sent. The counts per rating and the bonus total are
    shown before sending; a re-run with the same file rates nothing twice.

    Exit 0 when every row was rated or skipped (a row without a rating is left alone on purpose,
    as is one already rated or sent by an earlier run); exit 1 when any row failed or was
    refused (not a submission of CAMPAIGN, or the platform said no), or when the file has a bad row.
    """
    from datetime import timedelta

    from .results import rate
    from .results.ratings import Ledger, ledger_path, read_ratings

    reviewer = _reviewer(path, campaign, parallelism)
    reviewer.revise_for = timedelta(hours=revise_hours)
    reviewer.batch_size = batch_size
    rows = read_ratings(source, reviewer)
    ledger = Ledger(ledger_path(reviewer.provider.root, reviewer.ref.name), reviewer.ref.address, reviewer.remote_id)
    progress = _Progress("Reading submissions")

    async def work() -> list[Any]:
        plan = await rate.plan_ratings(reviewer, rows, ledger, progress)
        progress.end()
        click.echo(rate.describe(plan, reviewer), err=True)
        if dry_run:
            return plan.decided + rate.dry_run(plan)
        if plan.send:
            _confirm(f"Send {len(plan.send)} rating(s)?", yes)
        return plan.decided + await rate.send(reviewer, plan, ledger)

    try:
        outcomes = _run(reviewer, work, parallelism)
    finally:
        ledger.close()
    _finish(outcomes, report, dry_run)


def _finish(outcomes: list[Any], report: Path | None, dry_run: bool) -> None:
    from collections import Counter

    from .results.ratings import write_report

    stream: IO[str]
    try:
        with _open_out(report) as stream:
            write_report(outcomes, stream)
    except OSError as exc:  # a full disk, a folder that is not there: the ratings went out all the same
        from .fsutil import describe

        raise CampaignctlError(f"cannot write the report: {describe(exc, report or '<stdout>')}") from None
    counts = Counter(o.outcome for o in outcomes)
    order = ("would-rate", "rated", "skipped", "failed") if dry_run else ("rated", "skipped", "failed")
    click.echo("Outcome: " + ", ".join(f"{counts[k]} {k}" for k in order) + (" (dry run: nothing sent)" if dry_run else "."), err=True)
    if counts["failed"]:
        failed = sorted((o for o in outcomes if o.outcome == "failed"), key=lambda o: o.row.line)
        lines = "\n  ".join(f"line {o.row.line} ({o.row.id}): {o.message}" for o in failed[:20])
        more = f"\n  ... and {len(failed) - 20} more (see the report)" if len(failed) > 20 else ""
        what = "would not be rated" if dry_run else "were not rated"
        raise CampaignctlError(f"{len(failed)} row(s) {what}:\n  {lines}{more}")


@results.command("approve-all")
@campaign_arg
@dir_opt
@click.option("--worker", help="Only this worker's submissions.")
@click.option("--message", default="", help="A message for the workers.")
@click.option("--dry-run", is_flag=True, help="Show what would be approved; send nothing.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--parallelism", default=8, show_default=True, type=click.IntRange(1, 256))
def approve_all_cmd(campaign: str, path: Path, worker: str | None, message: str, dry_run: bool, yes: bool, parallelism: int) -> None:
    """Approve (rate OK) every submission of CAMPAIGN that waits for a rating.

    SWARMS has an approve-all call; on Microworkers each waiting submission is rated OK (v1 in
    batches), recorded in the ledger like `results rate`.
    """
    from .results import rate
    from .results.ratings import Ledger, RatingRow, ledger_path

    reviewer = _reviewer(path, campaign, parallelism)
    ledger = Ledger(ledger_path(reviewer.provider.root, reviewer.ref.name), reviewer.ref.address, reviewer.remote_id)
    progress = _Progress("Reading submissions")

    async def work() -> tuple[int, list[Any]]:
        subs = await reviewer.all_submissions(progress)
        progress.end()
        if worker is not None and not any(s.worker == worker for s in subs.values()):
            raise CampaignctlError(f"worker {worker} has no submissions in {reviewer.ref.address}")
        waiting = [s for s in subs.values() if not s.rating and (worker is None or s.worker == worker)]
        who = f" of worker {worker}" if worker else ""
        click.echo(f"{reviewer.ref.describe()}: {len(waiting)} submission(s){who} wait for a rating.", err=True)
        if dry_run or not waiting:
            return len(waiting), []
        _confirm(f"Approve {len(waiting)} submission(s)?", yes)
        if reviewer.has_approve_all:
            approved = await reviewer.approve_all(worker, message)
            return (len(waiting) if approved is None else approved), []
        plan = rate.RatingPlan(send=[RatingRow(0, s.id, "OK", message) for s in waiting])
        outcomes = await rate.send(reviewer, plan, ledger)
        return sum(o.outcome == "rated" for o in outcomes), [o for o in outcomes if o.outcome == "failed"]

    try:
        approved, failed = _run(reviewer, work, parallelism)
    finally:
        ledger.close()
    if dry_run:
        click.echo(f"Dry run: would approve {approved}; nothing sent.", err=True)
        return
    click.echo(f"Approved {approved} submission(s).", err=True)
    if failed:
        lines = "\n  ".join(f"{o.row.id}: {o.message}" for o in failed[:20])
        raise CampaignctlError(f"{len(failed)} approval(s) refused:\n  {lines}")


@click.command("submit")
@campaign_arg
@dir_opt
@click.option("--count", default=50, show_default=True, type=click.IntRange(0, 100_000), help="How many pieces of work to submit.")
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed, same workers and answers.")
@click.option("--accuracy", type=click.FloatRange(0, 1), help="Workers' mean chance of the true answer (each worker's skill is drawn around it). Needs --truth.")
@click.option("--truth", type=click.Path(dir_okay=False, path_type=Path), help="CSV task, field, answer: the true answers the skilled workers give.")
@click.option("--fast-share", type=click.FloatRange(0, 1), help="Share of workers who submit within seconds and answer at random.")
def sandbox_submit(campaign: str, path: Path, count: int, seed: int, accuracy: float | None, truth: Path | None,
                   fast_share: float | None) -> None:
    """Let simulated workers submit work to CAMPAIGN on the sandbox (so there is something to review).

    Works with `endpoint: sandbox` and with `campaignctl sandbox serve`; never with a real platform.
    With --accuracy/--truth/--fast-share, workers have a skill and a speed (on a served sandbox
    through its admin route POST /_sandbox/submit, with the provider's credential as the key).
    """
    reviewer = _reviewer(path, campaign)
    endpoint = str(reviewer.provider.spec.get("endpoint"))
    if not reviewer.provider.embedded and not endpoint.startswith(("http://127.", "http://localhost", "http://[::1]")):
        raise CampaignctlError(f"{reviewer.ref.address}: {endpoint} is not a sandbox; simulated workers exist only there")
    if accuracy is not None or truth is not None or fast_share is not None:
        from .results.gold import read_answers
        from .sandbox.skill import Skill
        from .sandbox.submit import submit_with_skill

        if accuracy is not None and truth is None:
            raise CampaignctlError("--accuracy needs --truth (the answers to be right about)")
        skill = Skill(accuracy if accuracy is not None else 0.8, read_answers(truth) if truth else {}, fast_share or 0.0, seed)
        made = submit_with_skill(reviewer, count, seed, skill)
    else:
        made = _run(reviewer, lambda: reviewer.submit(count, seed))
    note = "" if made == count else f" (the campaign had room for only {made} more)"
    click.echo(f"Submitted {made} piece(s) of work to {reviewer.ref.describe()}{note}.", err=True)
