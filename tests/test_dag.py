"""campaignctl.dag: deterministic topological order, cycle paths, up/downstream closure."""
from __future__ import annotations

import itertools
import random

import pytest

from campaignctl.dag import DAG, CycleError


def build(edges: dict[str, list[str]], insertion: list[str] | None = None) -> DAG[str]:
    """``edges``: node -> the nodes it depends on; nodes added in ``insertion`` order."""
    dag: DAG[str] = DAG()
    for node in insertion or list(edges):
        dag.add(node, edges[node])
    return dag


DIAMOND = {"d": ["b", "c"], "b": ["a"], "c": ["a"], "a": [], "e": []}


def assert_respects(order: list[str], edges: dict[str, list[str]]) -> None:
    position = {n: i for i, n in enumerate(order)}
    for node, deps in edges.items():
        for dep in deps:
            assert position[dep] < position[node], f"{dep} must come before {node} in {order}"


def test_sorted_puts_dependencies_first_with_ties_by_name() -> None:
    order = build(DIAMOND).sorted()
    assert order == ["a", "b", "c", "d", "e"]
    assert_respects(order, DIAMOND)


def test_sorted_is_independent_of_insertion_order() -> None:
    rng = random.Random(7)
    edges = {f"n{i:02}": [f"n{j:02}" for j in range(i) if rng.random() < 0.15] for i in range(40)}
    expected = build(edges).sorted()
    assert_respects(expected, edges)
    for _ in range(10):
        names = list(edges)
        rng.shuffle(names)
        shuffled = {n: sorted(edges[n], key=lambda _: rng.random()) for n in names}
        assert build(shuffled, names).sorted() == expected


def test_nodes_only_named_as_dependencies_are_part_of_the_graph() -> None:
    dag: DAG[str] = DAG()
    dag.add("child", ["parent"])
    assert "parent" in dag and "child" in dag and "other" not in dag
    assert len(dag) == 2
    assert dag.sorted() == ["parent", "child"]
    assert dag.upstream_of("child") == {"parent"}
    assert dag.downstream_of("parent") == {"child"}
    assert dag.upstream_of("parent") == set()


def test_adding_an_edge_twice_is_harmless() -> None:
    dag: DAG[str] = DAG()
    dag.add("b", ["a"])
    dag.add("b", ["a"])
    dag.add("a")
    assert dag.sorted() == ["a", "b"]
    assert dag.downstream_of("a") == {"b"}


def test_returned_neighbour_sets_are_copies() -> None:
    dag = build(DIAMOND)
    dag.upstream_of("d").clear()
    dag.downstream_of("a").add("zzz")
    assert dag.upstream_of("d") == {"b", "c"}
    assert dag.downstream_of("a") == {"b", "c"}


def test_cycle_error_names_the_path() -> None:
    dag = build({"a": ["b"], "b": ["c"], "c": ["a"], "x": []})
    with pytest.raises(CycleError) as info:
        dag.sorted()
    path = [str(p) for p in info.value.path]
    assert path[0] == path[-1]
    assert set(path) == {"a", "b", "c"}
    assert len(path) == 4
    message = str(info.value)
    assert message.startswith("cycle: ")
    assert " -> ".join(path) in message
    # each step of the path is a real edge (node depends on the next)
    for node, nxt in itertools.pairwise(path):
        assert nxt in dag.upstream_of(node)


def test_self_loop_is_a_cycle() -> None:
    dag = build({"a": ["a"], "b": []})
    assert dag.find_cycle() == ["a", "a"]
    with pytest.raises(CycleError, match="cycle: a -> a"):
        dag.sorted()


def test_cycle_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        build({"a": ["b"], "b": ["a"]}).sorted()


def test_closure_up_and_down() -> None:
    dag = build(DIAMOND)
    assert dag.closure(["d"]) == {"a", "b", "c", "d"}
    assert dag.closure(["b"], up=True) == {"a", "b"}
    assert dag.closure(["a"], up=False) == {"a", "b", "c", "d"}
    assert dag.closure(["c"], up=False) == {"c", "d"}
    assert dag.closure(["e"]) == {"e"}
    assert dag.closure(["b", "e"], up=False) == {"b", "d", "e"}
    assert dag.closure([]) == set()


def test_closure_ignores_unknown_nodes() -> None:
    dag = build(DIAMOND)
    assert dag.closure(["nope"]) == set()
    assert dag.closure(["nope", "b"]) == {"a", "b"}


def test_closure_terminates_on_a_cycle() -> None:
    dag = build({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]})
    assert dag.closure(["a"]) == {"a", "b", "c"}
    assert dag.closure(["a"], up=False) == {"a", "b", "c", "d"}


def test_find_cycle_none_on_a_dag() -> None:
    assert build(DIAMOND).find_cycle() is None
    assert DAG().find_cycle() is None
    assert DAG().sorted() == []


def test_find_cycle_on_a_large_acyclic_graph() -> None:
    rng = random.Random(1)
    n = 300
    edges = {f"v{i:03}": [f"v{j:03}" for j in range(i) if rng.random() < 0.05] for i in range(n)}
    dag = build(edges)
    assert dag.find_cycle() is None
    order = dag.sorted()
    assert len(order) == n
    assert_respects(order, edges)


def test_find_cycle_on_a_large_graph_with_one_back_edge() -> None:
    # a long chain v000 <- v001 <- ... <- v199 plus noise, and one edge closing a loop
    n = 200
    edges: dict[str, list[str]] = {f"v{i:03}": ([f"v{i - 1:03}"] if i else []) for i in range(n)}
    rng = random.Random(3)
    for i in range(n):
        edges[f"v{i:03}"] += [f"v{j:03}" for j in range(i) if rng.random() < 0.02]
    edges["v050"].append("v120")  # v050 depends on v120, which (via the chain) depends on v050
    dag = build(edges)
    cycle = dag.find_cycle()
    assert cycle is not None
    assert cycle[0] == cycle[-1]
    assert len(cycle) == len(set(cycle)) + 1
    for node, nxt in itertools.pairwise(cycle):
        assert nxt in dag.upstream_of(node)
    assert "v050" in cycle and "v120" in cycle
    with pytest.raises(CycleError) as info:
        dag.sorted()
    assert info.value.path[0] == info.value.path[-1]


def test_find_cycle_deep_chain_does_not_hit_recursion_limit() -> None:
    n = 5000
    dag: DAG[int] = DAG()
    for i in range(1, n):
        dag.add(i, [i - 1])
    dag.add(0, [n - 1])
    cycle = dag.find_cycle()
    assert cycle is not None
    assert len(cycle) == n + 1
    assert set(cycle) == set(range(n))


def test_find_cycle_is_deterministic() -> None:
    edges = {"a": ["b"], "b": ["a"], "x": ["y"], "y": ["x"]}
    first = build(edges).find_cycle()
    assert first == ["a", "b", "a"]
    assert build(edges, ["y", "x", "b", "a"]).find_cycle() == first


def test_non_string_nodes_sort_by_their_string_form() -> None:
    dag: DAG[int] = DAG()
    for node in (10, 9, 2, 1):
        dag.add(node)
    assert dag.sorted() == [1, 10, 2, 9]
