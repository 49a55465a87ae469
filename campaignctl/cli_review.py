"""``campaignctl results review|aggregate|workers``: review as code (a ``kind: Review`` document's
rules rate the pending submissions), answers aggregated into labels (crowd-kit), workers over time.

The rating plan goes to stdout (text or ``--format json``); progress and outcomes to stderr.
``results review`` sends nothing without ``--yes``; with it, the ratings go through the machinery
of ``results rate`` (ledger, nothing rated twice, the balance check).
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from .cli_results import _Progress, _run
from .errors import CampaignctlError

campaign_arg = click.argument("campaign")


def _open(path: Path, campaign: str, parallelism: int = 8) -> tuple[Any, Any]:
    from .results.common import resolve_campaign
    from .results.reviewers import reviewer_for
    from .session import Session

    session = Session.for_cli(path, parallelism)
    return session, reviewer_for(resolve_campaign(session, campaign))


def _items(reviewer: Any, subs: dict[str, Any]) -> dict[str, list[tuple[str, str, str]]]:
    from .platforms import PLATFORMS, review_module

    hooks = review_module(PLATFORMS[reviewer.provider.type])
    return {sid: hooks.items(sub) for sid, sub in subs.items()}


def _blocklist(session: Any, reviewer: Any, doc: Any, workers: set[str]) -> str | None:
    from .platforms import PLATFORMS, review_module
    from .results import workers as record

    rule = doc.spec.get("blocklist")
    if not rule:
        return None
    kind = review_module(PLATFORMS[reviewer.provider.type]).BLOCKLIST_KIND
    if kind is None:
        click.echo(f"{reviewer.platform} has no worker blocklist: the Review's blocklist suggests nothing here.", err=True)
        return None
    data = record.load(record.workers_path(reviewer.provider.root))
    picked = record.to_block(record.over_time(data, workers), rule)
    existing = list(session.config.named(reviewer.provider.name, kind).values())
    name = existing[0].name if existing else "blocklist"
    current = list(existing[0].spec.get("workers") or []) if existing else []
    return record.blocklist_yaml(kind, reviewer.provider.name, name, current, picked)


@click.command("review")
@campaign_arg
@click.argument("path", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="The rating plan's format (stdout).")
@click.option("-y", "--yes", is_flag=True, help="Send the ratings (without it: a dry run, nothing is sent).")
@click.option("--max-spend", type=click.FloatRange(min=0), help="Refuse to send when the bonuses cost more than this, USD (fee included).")
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="With --yes: write the per-submission outcome CSV here.")
@click.option("--parallelism", default=8, show_default=True, type=click.IntRange(1, 256), help="Rating calls in flight at once.")
def review_cmd(campaign: str, path: Path, fmt: str, yes: bool, max_spend: float | None, report: Path | None, parallelism: int) -> None:
    """Rate CAMPAIGN's pending submissions by the rules of its Review document (in the config repo
    PATH, default "."): print the rating plan (counts per rating and per rule, bonuses and their
    money, the workers most affected); with --yes, send it.

    Each submission gets the rating of the first rule it meets; one no rule meets stays pending.
    A second run sends nothing new (the ledger and the platform's own state say what is rated).
    Also records each worker's gold accuracy and agreement (see `results workers`).
    """
    from .results import rate, review, workers
    from .results.ratings import Ledger, Outcome, ledger_path, write_report

    session, reviewer = _open(path, campaign, parallelism)
    doc = review.find_review(session.config, reviewer.ref.address, reviewer.ref.name)
    review.check_bonuses(doc, reviewer)
    gold = review.load_gold(doc)
    ledger = Ledger(ledger_path(reviewer.provider.root, reviewer.ref.name), reviewer.ref.address, reviewer.remote_id)
    progress = _Progress("Reading submissions")

    async def work() -> tuple[dict[str, Any], list[Any]]:
        subs = await reviewer.all_submissions(progress)
        progress.end()
        measures = review.measure(subs, _items(reviewer, subs), gold)
        plan = review.decide(doc, subs, measures)
        workers.record(workers.workers_path(reviewer.provider.root), reviewer.ref.address,
                       {sid: (sub.worker, measures[sid]) for sid, sub in subs.items()})
        ratings = rate.RatingPlan()
        for row in plan.rows:
            if (at := ledger.has(row)) is not None:
                ratings.decided.append(Outcome(row, "skipped", f"sent by an earlier run at {at}", "sent by an earlier run"))
            else:
                ratings.send.append(row)
        if ratings.bonuses:
            ratings.balance = await reviewer.provider.balance()
            ratings.fee = Decimal(str(getattr(reviewer.provider, "fee", 0) or 0))
        data = review.summary(plan, doc, reviewer, ratings.fee)
        data["to_send"] = len(ratings.send)
        data["balance_usd"] = None if ratings.balance is None else f"{ratings.balance:.2f}"
        suggestion = _blocklist(session, reviewer, doc, {s.worker for s in subs.values()})
        if suggestion is not None:
            data["blocklist_suggestion"] = suggestion
        click.echo(json.dumps(data, indent=2) if fmt == "json" else _text(data))
        if max_spend is not None and ratings.bonus_cost > Decimal(str(max_spend)):
            raise CampaignctlError(f"the bonuses cost {ratings.bonus_cost:.2f} USD, more than --max-spend {max_spend:.2f}: nothing was sent")
        if not yes:
            click.echo(f"Dry run: nothing sent ({len(ratings.send)} rating(s) would be); re-run with --yes to send.", err=True)
            return data, []
        if not ratings.send:
            click.echo("Nothing to send: every submission is rated already.", err=True)
            return data, ratings.decided
        return data, ratings.decided + await rate.send(reviewer, ratings, ledger)

    try:
        _, outcomes = _run(reviewer, work, parallelism)
    finally:
        ledger.close()
    if report is not None and outcomes:
        try:
            with report.open("w", encoding="utf-8", newline="") as stream:
                write_report(outcomes, stream)
        except OSError as exc:
            from .fsutil import describe

            raise CampaignctlError(f"cannot write the report: {describe(exc, report)}") from None
    if yes and outcomes:
        counts = Counter(o.outcome for o in outcomes)
        click.echo("Outcome: " + ", ".join(f"{counts[k]} {k}" for k in ("rated", "skipped", "failed")) + ".", err=True)
        failed = [o for o in outcomes if o.outcome == "failed"]
        if failed:
            lines = "\n  ".join(f"{o.row.id}: {o.message}" for o in failed[:20])
            raise CampaignctlError(f"{len(failed)} submission(s) were not rated:\n  {lines}")


def _text(data: dict[str, Any]) -> str:
    from .results.review import render

    text = render(data)
    if data.get("balance_usd") is not None:
        text += f"\n  balance:  {data['balance_usd']} USD"
    if data.get("blocklist_suggestion"):
        text += "\n\nSuggested Blocklist (for a pull request; never applied by campaignctl itself):\n" + data["blocklist_suggestion"].rstrip()
    return text


@click.command("aggregate")
@campaign_arg
@click.option("--dir", "path", default=".", show_default=True, type=click.Path(path_type=Path), help="The config repo.")
@click.option("--method", type=click.Choice(["majority-vote", "dawid-skene", "glad", "mace"]), default="majority-vote", show_default=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The CSV to write (- for stdout).")
@click.option("--include-rejected", is_flag=True, help="Count the answers of submissions rated NOK too (left out by default).")
@click.option("--seed", default=0, show_default=True, type=int, help="MACE's random seed.")
def aggregate_cmd(campaign: str, path: Path, method: str, output: Path, include_rejected: bool, seed: int) -> None:
    """Turn CAMPAIGN's answers into one label per task and field: a CSV of task, field, answer,
    confidence, answers. Needs the optional extra: pip install 'campaignctl[review]'.

    Task and field are named as in Review gold files: SWARMS job id and answer column, Microworkers
    task row id (or * without task rows) and question name, Microworkers v1 * and proof_N.
    """
    from .results import aggregate

    aggregate.crowdkit()  # without the extra: the one-line hint, before reading anything
    _, reviewer = _open(path, campaign)
    progress = _Progress("Reading submissions")
    subs = _run(reviewer, lambda: reviewer.all_submissions(progress))
    progress.end()
    kept = {sid: s for sid, s in subs.items() if include_rejected or s.rating != "NOK"}
    answers = [(kept[sid].worker, task, name, value) for sid, items in _items(reviewer, kept).items() for task, name, value in items]
    rows = aggregate.aggregate(answers, method, seed)
    if str(output) == "-":
        aggregate.write(rows, sys.stdout)
    else:
        import io

        from .fsutil import atomic_write, describe

        buffer = io.StringIO()
        aggregate.write(rows, buffer)
        try:
            atomic_write(output, buffer.getvalue())
        except OSError as exc:
            raise CampaignctlError(f"cannot write the labels: {describe(exc, output)}") from None
    click.echo(f"Aggregated {len(answers)} answer(s) of {len(kept)} submission(s) into {len(rows)} label(s) by {method}.", err=True)


@click.command("workers")
@campaign_arg
@click.option("--dir", "path", default=".", show_default=True, type=click.Path(path_type=Path), help="The config repo.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def workers_cmd(campaign: str, path: Path, fmt: str) -> None:
    """List CAMPAIGN's workers with their gold accuracy and agreement over every reviewed campaign
    (recorded by `results review`)."""
    from .results import workers

    session, reviewer = _open(path, campaign)
    data = workers.load(workers.workers_path(reviewer.provider.root))
    mine = data["campaigns"].get(reviewer.ref.address)
    if mine is None:
        raise CampaignctlError(f"no worker figures for {reviewer.ref.address} yet: run `campaignctl results review {campaign}` first")
    rows = [r.row() for r in sorted(workers.over_time(data, set(mine)).values(), key=lambda r: r.worker)]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return

    def share(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    click.echo(f"{'worker':<16} {'campaigns':>9} {'submissions':>11} {'gold acc.':>9} {'gold n':>6} {'agreement':>9} {'compared':>8}")
    for r in rows:
        click.echo(f"{r['worker']:<16} {r['campaigns']:>9} {r['submissions']:>11} {share(r['gold_accuracy']):>9} "
                   f"{r['gold_answers']:>6} {share(r['agreement']):>9} {r['compared_answers']:>8}")


COMMANDS = (review_cmd, aggregate_cmd, workers_cmd)
