"""A small generic DAG: deterministic topological order, cycle paths, up/downstream closure."""
from __future__ import annotations

import heapq
from collections.abc import Hashable, Iterable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


class CycleError(ValueError):
    def __init__(self, path: Sequence[object]) -> None:
        self.path = path
        super().__init__("cycle: " + " -> ".join(str(p) for p in path))


class DAG(Generic[T]):
    def __init__(self) -> None:
        self._up: dict[T, set[T]] = {}  # node -> nodes it depends on
        self._down: dict[T, set[T]] = {}

    def add(self, node: T, depends_on: Iterable[T] = ()) -> None:
        self._up.setdefault(node, set())
        self._down.setdefault(node, set())
        for dep in depends_on:
            self._up.setdefault(dep, set())
            self._down.setdefault(dep, set())
            self._up[node].add(dep)
            self._down[dep].add(node)

    def __contains__(self, node: object) -> bool:
        return node in self._up

    def __len__(self) -> int:
        return len(self._up)

    @property
    def nodes(self) -> list[T]:
        return list(self._up)

    def upstream_of(self, node: T) -> set[T]:
        """Direct dependencies of ``node``."""
        return set(self._up[node])

    def downstream_of(self, node: T) -> set[T]:
        """Direct dependents of ``node``."""
        return set(self._down[node])

    def closure(self, nodes: Iterable[T], *, up: bool = True) -> set[T]:
        """``nodes`` and everything they (transitively) depend on (``up``) or that depends on them."""
        edges = self._up if up else self._down
        seen: set[T] = set()
        stack = [n for n in nodes if n in edges]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(edges[node] - seen)
        return seen

    def sorted(self) -> list[T]:
        """Dependencies first; ties broken by the nodes' string form, so the order is stable."""
        indegree = {n: len(deps) for n, deps in self._up.items()}
        ready = [(str(n), n) for n, d in indegree.items() if d == 0]
        heapq.heapify(ready)
        out: list[T] = []
        while ready:
            _, node = heapq.heappop(ready)
            out.append(node)
            for child in self._down[node]:
                indegree[child] -= 1
                if indegree[child] == 0:
                    heapq.heappush(ready, (str(child), child))
        if len(out) != len(self._up):
            raise CycleError(self.find_cycle() or [])
        return out

    def find_cycle(self) -> list[T] | None:
        """One cycle as a path ``[a, b, ..., a]``, or None."""
        WHITE, GREY, BLACK = 0, 1, 2
        color = {n: WHITE for n in self._up}
        for start in sorted(self._up, key=str):
            if color[start] != WHITE:
                continue
            stack: list[tuple[T, list[T]]] = [(start, sorted(self._up[start], key=str))]
            path = [start]
            color[start] = GREY
            while stack:
                node, children = stack[-1]
                if children:
                    child = children.pop(0)
                    if color[child] == GREY:
                        return path[path.index(child):] + [child]
                    if color[child] == WHITE:
                        color[child] = GREY
                        path.append(child)
                        stack.append((child, sorted(self._up[child], key=str)))
                else:
                    color[node] = BLACK
                    path.pop()
                    stack.pop()
        return None
