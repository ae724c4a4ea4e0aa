"""Local search for independent sets: (1,2)-swaps until none is left.

A (1,2)-swap takes one node ``x`` out of an independent set and puts in two non-adjacent nodes
whose only neighbour in the set was ``x`` (they are *1-tight*); the set grows by one and stays
independent. A set with no such swap left, made maximal after each swap, is *2-maximal*: the
local optimum of the iterated local search of Andrade, Resende and Werneck, "Fast local search for
the maximum independent set problem", Journal of Heuristics 18 (2012), whose 1-tightness
bookkeeping this follows.

Example:
    >>> import networkx as nx
    >>> from gnnsolve.search.mis import two_improvement
    >>> star = nx.star_graph(3)          # the centre alone is maximal, yet the leaves are larger
    >>> sorted(two_improvement(star, {0}))
    [1, 2, 3]
"""

from __future__ import annotations

from typing import Hashable, Iterable

import networkx as nx

__all__ = ["two_improvement"]


def two_improvement(G: nx.Graph, independent: Iterable[Hashable]) -> frozenset:
    """Apply (1,2)-swaps to ``independent`` until none is left; the result is maximal.

    Args:
        G: the graph (self-loops are not allowed).
        independent: an independent set of ``G``.

    Returns:
        An independent set at least as large, with no (1,2)-swap and no free node left.

    Raises:
        ValueError: ``independent`` is not an independent set of ``G``.
    """
    chosen = set(independent)
    if any(v in chosen for u in chosen for v in G[u]):
        raise ValueError("the starting set is not independent")
    tightness = {v: sum(1 for u in G[v] if u in chosen) for v in G.nodes if v not in chosen}

    def insert(node: Hashable) -> None:
        chosen.add(node)
        del tightness[node]
        for neighbour in G[node]:
            if neighbour not in chosen:
                tightness[neighbour] += 1

    def fill(candidates: Iterable[Hashable]) -> list[Hashable]:
        added = []
        for node in candidates:
            if node not in chosen and tightness[node] == 0:
                insert(node)
                added.append(node)
        return added

    fill(list(G.nodes))
    improved = True
    while improved:
        improved = False
        for x in list(chosen):
            if x not in chosen:
                continue
            one_tight = [u for u in G[x] if u not in chosen and tightness[u] == 1]
            pair = _non_adjacent_pair(G, one_tight)
            if pair is None:
                continue
            chosen.remove(x)
            tightness[x] = 0
            for neighbour in G[x]:
                if neighbour not in chosen:
                    tightness[neighbour] -= 1
            for node in pair:
                insert(node)
            fill(G[x])
            improved = True
    return frozenset(chosen)


def _non_adjacent_pair(G: nx.Graph, nodes: list[Hashable]) -> tuple[Hashable, Hashable] | None:
    for position, u in enumerate(nodes):
        neighbours = G[u]
        for v in nodes[position + 1 :]:
            if v not in neighbours:
                return u, v
    return None
