"""The glue the commands share: load config + state, open providers, plan, apply."""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .apply import ApplyResult, execute_plan
from .config.load import loading_for_process
from .config.model import Config
from .errors import ApiError, ApplyError, CampaignctlError, PlanError, TransportError
from .inputs import backend_for, desired_of, make_providers, opened
from .plan.builder import Selection, build_plan
from .plan.model import Operation, Plan
from .plan.render import shown_call
from .providers.base import Provider
from .state.base import State, StateBackend
from .validation import load_config

if TYPE_CHECKING:
    from .prefetch import Prefetch

log = logging.getLogger("campaignctl")


#: how many times a plan's read runs at most when it fails on transient errors
READ_ROUNDS = 3


@dataclass
class Session:
    config: Config
    backend: StateBackend
    state: State
    providers: dict[str, Provider]
    parallelism: int = 8
    #: whole reads begun while the config was being checked, for the first plan (see campaignctl.prefetch)
    prefetch: Prefetch | None = None
    #: the cyclic GC, paused since loading, is turned on again after the first plan (``for_cli``)
    resume_gc: bool = False
    #: (config, its desired attributes), computed by the first plan for the next ones
    _desired: tuple[Config, dict[str, dict[str, Any]]] | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls, path: str | Path, parallelism: int = 8, env: Mapping[str, str] | None = None,
        on_parsed: Callable[[Config], None] | None = None, on_early: Callable[[Config], None] | None = None,
        read_state: bool = True,
    ) -> Session:
        """``read_state`` False: the caller reads the state itself (under its lock); until then it is empty."""
        config = load_config(path, on_parsed, on_early)
        backend = backend_for(config)
        providers = make_providers(config, env)
        for provider in providers.values():
            provider.credentials()  # fail early, before any call, when a secret is missing
        return cls(config, backend, backend.read() if read_state else State(), providers, parallelism)

    @classmethod
    def for_cli(cls, path: str | Path, parallelism: int = 8, prefetch: bool = False, read_state: bool = True) -> Session:
        """``load`` for a command's process, which ends with the command. The config and state
        loaded now live until then: they are moved out of the cyclic GC's sight (``gc.freeze``),
        and young objects are collected less often. Measured on a 6,350-resource plan, the GC
        took ~1.3 of its 3.8 CPU seconds scanning those objects again and again; now ~0.2 s,
        for ~5 MB more peak memory (see ``loading_for_process``). ``prefetch``: the command's
        first step is a whole plan; its reads start as soon as the files are parsed, or sooner,
        once the Provider and Backend documents are, when the document cache holds (nearly) all
        of them (campaignctl.prefetch), and the GC stays off until that plan is built."""
        from . import prefetch as prefetching

        started: list[Prefetch | None] = []

        def early(setup: Config) -> None:
            started.append(prefetching.start(setup, parallelism, early=True))

        def parsed(config: Config) -> None:
            if started and started[0] is not None:
                started[0].provide(config)
            else:
                started[:] = [prefetching.start(config, parallelism)]

        collecting = gc.isenabled()
        try:
            with loading_for_process(stay_paused=prefetch):
                session = cls.load(path, parallelism, on_parsed=parsed if prefetch else None, on_early=early if prefetch else None,
                                   read_state=read_state)
        except BaseException:
            for begun in started:
                if begun is not None:
                    begun.close()
            raise
        session.prefetch = started[0] if started else None
        session.resume_gc = prefetch and collecting
        if session.prefetch is not None:
            # what the plan needs of the config alone, computed while the platforms answer the
            # prefetch, not after (the data files' walk and hashes: ~90 ms on 6,350 resources)
            session.config.digest  # noqa: B018 - a cached property
        return session

    async def _read_plan(self, only: set[str] | None = None, selection: Selection | None = None) -> Plan:
        """Build a plan; a read that failed on a transient error (every request already had its 3
        attempts) is read again as a whole, up to READ_ROUNDS times in all: a plan only reads, so
        this is always safe, and the client's retry budget still ends it when a platform is down.
        Not after a timeout: its request already waited out the timeout on each of its attempts,
        and reading again would multiply them (3 x 3 x 30 s for a platform that never answers);
        nor after an error that is not transient (a certificate that does not verify, the run's
        deadline: see ``ApiError.transient``)."""
        prefetch, self.prefetch = self.prefetch, None
        if self._desired is None or self._desired[0] is not self.config:
            # once per config: the plan after an apply (of what it touched) needs the same
            self._desired = (self.config, desired_of(self.config, self.providers))
        try:
            for round_ in range(1, READ_ROUNDS + 1):
                try:
                    return await build_plan(
                        self.config, self.state, self.providers, only=only, selection=selection,
                        prefetch=prefetch if round_ == 1 else None, desired=self._desired[1],
                    )
                except ApiError as exc:
                    if round_ == READ_ROUNDS or not exc.transient or (isinstance(exc, TransportError) and exc.timed_out):
                        raise
                    log.warning("reading the platforms failed (%s); reading once more", exc)
            raise AssertionError("unreachable")  # pragma: no cover
        finally:
            if prefetch is not None:
                prefetch.close()
            if self.resume_gc:
                # what the first plan read and built (the live objects, the plan) lives to the
                # process's end too: out of the collector's sight, which stayed off meanwhile (each
                # young collection held the interpreter lock 12-21 ms while answers waited)
                self.resume_gc = False
                gc.freeze()
                gc.enable()

    async def plan(self, only: set[str] | None = None, selection: Selection | None = None) -> Plan:
        async with opened(self.providers, self.parallelism):
            return await self._read_plan(only=only, selection=selection)

    async def apply(self, plan: Plan, progress: bool = True) -> tuple[ApplyResult, Plan | None]:
        """Run the plan, commit state, then re-read what it touched. Returns the result and the
        verification plan of the touched addresses (None when nothing ran)."""
        reporter = ProgressReporter(len(plan.operations)) if progress else None
        result = ApplyResult()
        async with opened(self.providers, self.parallelism):
            try:
                with _terminate_as_cancel() as signalled:
                    await execute_plan(
                        plan, self.providers, self.state, self.backend, parallelism=self.parallelism, report=reporter,
                        result=result,
                    )
            except (asyncio.CancelledError, KeyboardInterrupt, Exception) as exc:
                current = asyncio.current_task()
                if isinstance(exc, asyncio.CancelledError) and current is not None:
                    current.uncancel()  # handled here: what follows (closing the clients) may await
                self.backend.commit(self.state)
                total = len(plan.operations)
                why = (
                    f"interrupted ({signalled[0]})" if signalled else "interrupted" if not isinstance(exc, Exception)
                    else f"stopped by an error ({exc if isinstance(exc, CampaignctlError) else f'{type(exc).__name__}: {exc}'})"
                )
                raise ApplyError(
                    f"apply {why}: {len(result.done)} of {total} call(s) done; run apply again "
                    "(state holds every call that finished; writes in flight are checked by the next plan)"
                ) from exc
            self.backend.commit(self.state)
            check = None
            if result.touched:
                check = await self._read_plan(only=result.touched)
        return result, check


@contextlib.contextmanager
def _terminate_as_cancel() -> Iterator[list[str]]:
    """While an apply runs, SIGINT and SIGTERM cancel it (in place of asyncio.run's SIGINT handler
    and the default SIGTERM, restored after), and the list yielded names the signal, so the apply
    can record state and say how far it got."""
    import signal

    names: list[str] = []
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def cancel(name: str) -> None:
        if not names and task is not None:  # once: a second signal waits for the first to be handled
            task.cancel()
        names.append(name)

    installed = []
    for sig, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "SIGINT")):
        try:
            loop.add_signal_handler(sig, cancel, name)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            pass
    try:
        yield names
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
            if previous[sig] is not None:
                signal.signal(sig, previous[sig])


class ProgressReporter:
    """One line per finished call on stderr: ``[ 3/42] POST /tasks  swarms/task/a  (120 ms)``."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.count = 0
        self.started = time.perf_counter()

    def __call__(self, event: str, op: Operation, detail: str, seconds: float) -> None:
        if event == "start":
            return
        self.count += 1
        width = len(str(self.total))
        status = f"FAILED: {detail}" if event == "failed" else f"({seconds * 1000:.0f} ms)"
        print(f"[{self.count:>{width}}/{self.total}] {shown_call(op):<40} {op.address}  {status}", file=sys.stderr, flush=True)


def run(coro):
    # The result is handed out through ``box``, not as the main task's result: on leaving,
    # asyncio.Runner asks signal.getsignal() whether its SIGINT handler is still installed, and on
    # Python 3.11 that formats the handler's repr, which holds the main task, whose repr holds its
    # result -- a whole plan of 6,000 resources spelled out twice (0.3 s) for nothing.
    box = []

    async def main():
        try:
            box.append(await coro)
        finally:
            # when one provider's call fails, gather() raises at once and leaves the others' calls
            # running; end them here, quietly: else asyncio.run's shutdown logs each one's error with
            # a traceback on stderr ("unhandled exception during asyncio.run() shutdown")
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

    asyncio.run(main())
    return box[0]


def verify(check: Plan | None) -> None:
    if check is None:
        return
    left = [c for c in check.pending if c.actions != ["no-op"]]
    if left:
        names = ", ".join(c.address for c in left[:10])
        raise ApplyError(f"after apply, {len(left)} resource(s) still differ from the config: {names}")


__all__ = ["PlanError", "Session", "run", "verify"]
