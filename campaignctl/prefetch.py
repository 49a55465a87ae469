"""Reading the platforms while the config is still being validated.

A plan of a large config spends its first half second checking the config (references, cycles,
platform rules, task rows) and its next seconds waiting for the platforms' answers, one after
the other. The reads need only the Provider documents, the state and which addresses the config
names, all known once the files are parsed; so :func:`start` begins them then, in a thread of its
own with its own event loop, and the plan takes their result instead of reading again -- only if
it would have asked exactly the same (a whole read, the same Provider document, the same ids from
state, the same addresses from the config). Anything else, or a read that failed in a way the
plan's own read words differently, and the plan reads as it always does: a prefetch can cost
calls, never change an answer.

When the document cache holds (nearly) every document, the reads start sooner, once the Provider
and Backend documents are parsed (``early``, see ``load_config``'s ``on_early``): the whole
config follows with :meth:`Prefetch.provide`, and a read that must know sooner which addresses
it names (an object state has no id for, claimed by its address marker) waits for it. A config
that turns out invalid cancels it (a plan never writes, so nothing was done). The thread that
starts the reads reads the state meanwhile: their first requests need nothing from it. Live
objects a read makes final before it ends (``ReadInputs.finals``: the tasks, once their list is
read) go to the plan's loop at once, which plans them while the rest is read.

Only providers whose read does not depend on the desired attributes (``Provider.prefetchable``)
and that talk to a platform over the network are read ahead: the in-process sandbox has no
latency to hide.
"""
from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import functools
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ApiError
from .plan.model import LazyMapping
from .providers.base import ReadInputs

if TYPE_CHECKING:
    from .config.model import Config
    from .providers.base import Live, Provider

log = logging.getLogger("campaignctl")

#: the GIL's switch interval while the prefetch thread runs beside validation: an answer waits at
#: most this long for the thread that handles it (Python's default, 5 ms, would add up to 5 ms to
#: every call while the other thread computes)
SWITCH_INTERVAL = 0.0005


@dataclass
class Prefetched:
    spec: dict[str, Any]  # the Provider document's
    known: dict[str, Any]
    wanted: dict[str, str]
    live: dict[str, Live]
    balance: float | None
    attributes: dict[str, Any]  # what the read set on its provider (Provider.read_attributes)


class Prefetch:
    """The reads of some providers, running in a thread; ``take`` hands one out (once)."""

    def __init__(self, names: list[str]) -> None:
        #: every provider's answer, resolved by the thread whatever happens to it
        self._answers: dict[str, concurrent.futures.Future[Prefetched]] = {n: concurrent.futures.Future() for n in names}
        #: those not taken yet
        self.futures = dict(self._answers)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[Any] | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        #: the whole config, once parsed (``provide``); set without one when the prefetch ends
        self._config: Config | None = None
        self._parsed = threading.Event()
        self._wanted: dict[str, dict[str, str]] | None = None
        #: provider -> address -> remote id, of the state the starting thread read (``_read_state``)
        #: while this one sent its first requests, or what reading it raised; set without either
        #: when the prefetch ends
        self._known: dict[str, dict[str, Any]] | Exception | None = None
        self._stated = threading.Event()
        #: provider -> live objects its read made final early (``ReadInputs.finals``), and the
        #: plan's hook for more: its loop and function (``take``)
        self._finals: dict[str, list[dict[str, Live]]] = {}
        self._hooks: dict[str, tuple[asyncio.AbstractEventLoop, Callable[[dict[str, Live]], None]]] = {}
        self._lock = threading.Lock()

    def provide(self, config: Config) -> None:
        """The whole config, for a prefetch started early: which addresses it names."""
        self._config = config
        self._parsed.set()

    def _read_state(self, config: Config) -> None:
        """Read the state for the thread, here: a read's first requests do not need it (their
        answers do), so the thread sends them meanwhile instead of decoding the state first (~30
        ms for 6,350 resources). The ids it holds are taken at once, as read (the plan's state may
        change afterwards: ``take`` then finds other ids). A local state file's parse is kept for
        the plan's own read."""
        from .inputs import apply_moves, backend_for, known_of
        from .state.local import LocalBackend

        try:
            backend = backend_for(config)
            state, _ = apply_moves(config, backend.read(share=True) if isinstance(backend, LocalBackend) else backend.read())
            self._known = {name: known_of(state, name) for name in self._answers}
        except Exception as exc:  # noqa: BLE001 - the thread's reads fail with it; the plan's own read says it
            self._known = exc
        finally:
            self._stated.set()

    def known(self, name: str) -> dict[str, Any]:
        """address -> remote id of provider ``name``'s objects in the state; waits for it."""
        self._stated.wait()
        if isinstance(self._known, Exception):
            raise self._known
        if self._known is None:
            raise RuntimeError("the prefetch ended before the state was read")
        return self._known[name]

    def wanted(self, name: str) -> dict[str, str]:
        """address -> kind of the config's resources of provider ``name``; waits for the config."""
        if self._wanted is None:
            self._parsed.wait()
            if self._config is None:
                raise RuntimeError("the prefetch ended before the config was parsed")
            from .inputs import wanted_of

            self._wanted = wanted_of(self._config, self._answers)
        return self._wanted[name]

    def moved(self, name: str) -> dict[str, str]:
        """old address -> new address (``movedFrom``) of provider ``name``; waits for the config."""
        self._parsed.wait()
        if self._config is None:
            raise RuntimeError("the prefetch ended before the config was parsed")
        from .inputs import moved_of

        return moved_of(self._config, name)

    def _final(self, name: str, lives: dict[str, Live]) -> None:
        """(the thread) Live objects the read of ``name`` made final early: to the plan's hook,
        on the plan's loop, if it is waiting, else kept for it."""
        with self._lock:
            self._finals.setdefault(name, []).append(lives)
            hook = self._hooks.get(name)
        if hook is not None:
            try:
                hook[0].call_soon_threadsafe(hook[1], lives)
            except RuntimeError:  # the plan's loop closed: nobody waits
                pass

    async def take(
        self, provider: Provider, known: dict[str, Any], wanted: dict[str, str], early: Callable[[dict[str, Live]], None] | None = None,
    ) -> tuple[dict[str, Live], float | None] | None:
        """The prefetched read of ``provider`` if it read exactly what is asked now, else None (read
        it). A read that failed on the platform's side raises that error, as reading again would.
        ``early`` is called, on this loop, with the live objects the read makes final before it
        ends (``ReadInputs.finals``): a plan's work on them while the rest is read. They are those
        the read returns, if it is taken (the plan knows them by identity)."""
        name = provider.name
        future = self.futures.pop(name, None)
        if future is None:
            return None
        if early is not None:

            def hand(lives: dict[str, Live]) -> None:
                try:
                    early(lives)
                except Exception as exc:  # noqa: BLE001 - the plan plans them after the reads instead
                    log.debug("planning %d early live object(s) of %s failed: %r", len(lives), name, exc)

            with self._lock:
                ready = list(self._finals.get(name, ()))
                self._hooks[name] = (asyncio.get_running_loop(), hand)
            for lives in ready:
                hand(lives)
        try:
            got = await asyncio.wrap_future(future)
        except ApiError as exc:
            # the same call the plan would make failed after its retries; a transient one is read
            # again by the plan's own rounds (Session._read_plan), which no longer find a prefetch
            log.debug("prefetched read of %s failed: %s", name, exc)
            raise
        except Exception as exc:  # noqa: BLE001 - anything else: the plan's own read says it its way
            log.debug("prefetched read of %s unusable: %s", name, exc)
            return None
        finally:
            with self._lock:
                self._hooks.pop(name, None)
        if got.known != known or got.wanted != wanted or got.spec != provider.doc.spec:
            log.debug("prefetched read of %s was for other objects; reading again", name)
            return None
        for attribute, value in got.attributes.items():
            setattr(provider, attribute, value)
        return got.live, got.balance

    def close(self) -> None:
        """Cancel what still runs and wait for the thread; unused results are dropped."""
        from .state.local import forget_shared

        self.futures.clear()
        with self._lock:
            self._finals.clear()
        forget_shared()  # the state parse kept for the plan, if it did not take it
        self._parsed.set()  # a read waiting for the config ends (without one, if none came)
        self._stated.set()  # and one waiting for the state
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._ready.wait()
        loop, main = self._loop, self._main
        if loop is not None and main is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(main.cancel)
            except RuntimeError:  # the loop closed meanwhile: the thread is done
                pass
        thread.join()
        atexit.unregister(self.close)

    # -- the thread ------------------------------------------------------------------------------
    def _run(self, config: Config, parallelism: int) -> None:
        previous = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        failure: Exception = RuntimeError("the prefetch ended without reading this provider")
        try:
            asyncio.run(self._read_all(config, parallelism))
        except BaseException as exc:  # noqa: BLE001 - whatever ends the thread ends the prefetch
            log.debug("prefetch ended early: %r", exc)
            failure = exc if isinstance(exc, Exception) else RuntimeError(repr(exc))
        finally:
            sys.setswitchinterval(previous)
            # every answer is resolved, taken ones too: the plan may be waiting on one
            for future in self._answers.values():
                if not future.done():
                    future.set_exception(failure)
            self._ready.set()

    async def _read_all(self, config: Config, parallelism: int) -> None:
        from .inputs import make_providers, opened

        self._loop = asyncio.get_running_loop()
        self._main = asyncio.current_task()
        self._ready.set()
        providers = {n: p for n, p in make_providers(config).items() if n in self._answers}
        for provider in providers.values():
            provider.credentials()

        async def one(name: str, provider: Any) -> None:
            future = self._answers[name]
            # as the plan's read_live asks them (take compares), once the read asks
            ids = LazyMapping(functools.partial(self.known, name))
            wanted = LazyMapping(functools.partial(self.wanted, name))
            # a prefetchable read needs no desired nor applied attributes, no records (Provider.prefetchable);
            # the renames are the config's, as the plan's
            inputs = ReadInputs(ids, wanted, moved=LazyMapping(functools.partial(self.moved, name)),
                                finals=_Finals(self, name))  # fmt: skip
            try:
                live, balance = await asyncio.gather(provider.read(inputs), provider.balance())
                attributes = {a: getattr(provider, a) for a in provider.read_attributes}
                future.set_result(Prefetched(provider.doc.spec, dict(ids), dict(wanted), live, balance, attributes))
            except Exception as exc:  # noqa: BLE001 - handed to the plan, which decides
                future.set_exception(exc)

        async with opened(providers, parallelism):
            await asyncio.gather(*(one(n, p) for n, p in providers.items()))


@dataclass
class _Finals:
    """Where the read of provider ``name`` puts live objects final before it ends (the thread's
    side: :meth:`Prefetch._final` hands them to the plan's loop)."""

    prefetch: Prefetch
    name: str

    def put(self, lives: dict[str, Live]) -> None:
        self.prefetch._final(self.name, lives)


def start(config: Config, parallelism: int, early: bool = False) -> Prefetch | None:
    """Begin reading the prefetchable providers of ``config`` (None when there is none).
    ``early``: ``config`` holds only the Provider and Backend documents; the whole one follows
    with :meth:`Prefetch.provide`."""
    from .providers import provider_class

    names = []
    for name, doc in config.providers.items():
        spec = doc.spec if isinstance(doc.spec, dict) else {}
        cls = provider_class(str(spec.get("type")))
        if cls is not None and cls.prefetchable and spec.get("endpoint") != "sandbox":
            names.append(name)
    if not names or not (early or any(doc.provider in names for doc in config.resources.values())):
        return None
    prefetch = Prefetch(names)
    if not early:
        prefetch.provide(config)
    prefetch._thread = threading.Thread(target=prefetch._run, args=(config, parallelism), name="campaignctl-prefetch", daemon=True)
    prefetch._thread.start()
    atexit.register(prefetch.close)
    prefetch._read_state(config)
    return prefetch
