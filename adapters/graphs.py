"""Graph problems as dimod models: MaxCut, maximum independent set and the travelling salesperson.

Each problem is a :class:`~gnnsolve.adapters.problem.GraphProblem`: its ``bqm`` goes to any
sampler, its ``decode`` turns a sample back into a cut, a set or a tour, repaired and scored
exactly on the graph, and ``solve(sampler, **kw)`` does both.

**MaxCut.** A cut of a weighted graph assigns each node a spin :math:`s_v = \\pm 1`; its value is
the weight of the edges whose ends differ,

.. math::

    \\mathrm{cut}(s) = \\sum_{(u,v) \\in E} w_{uv} \\frac{1 - s_u s_v}{2},

so the SPIN model :math:`E(s) = \\sum_{(u,v)} \\tfrac{w_{uv}}{2} s_u s_v - \\tfrac12 \\sum_{(u,v)} w_{uv}`
has :math:`E(s) = -\\mathrm{cut}(s)` exactly, offset included: minimising energy maximises the cut.
Self-loops never cross a cut; they are left out of the model and of :func:`cut_value`.

**Maximum independent set.** The QUBO of dimod's ``maximum_independent_set`` generator,
:math:`E(x) = -\\sum_v x_v + P \\sum_{(u,v) \\in E} x_u x_v` (PI-GNN, Schuetz et al. 2022, with
:math:`P = 2`). Decoding repairs the sample as DyCO-GNN does: nodes that break the independence
constraint are removed greedily (the one with most conflicts first), then the set is extended to
a maximal one greedily (the candidate with fewest candidate neighbours first). By default
(``local_search=True``) the set is then improved by (1,2)-swaps until none is left
(:func:`gnnsolve.search.mis.two_improvement`); ``local_search=False`` shows the repair alone.

**TSP** lives in :mod:`gnnsolve.adapters.tsp` and is re-exported here.

Example:
    >>> import networkx as nx
    >>> from dwave.samplers import SimulatedAnnealingSampler
    >>> from gnnsolve.adapters.graphs import MaxCut, MaxIndependentSet
    >>> G = nx.petersen_graph()
    >>> cut, _ = MaxCut(G).solve(SimulatedAnnealingSampler(), num_reads=10, seed=0)
    >>> cut.objective
    12
    >>> independent, _ = MaxIndependentSet(G).solve(SimulatedAnnealingSampler(), num_reads=10, seed=0)
    >>> independent.objective, independent.feasible
    (4, True)
"""

from __future__ import annotations

from typing import Hashable, Iterable, Mapping

import dimod
import networkx as nx

from gnnsolve.adapters.clustering import Modularity
from gnnsolve.adapters.kcenter import KCenter
from gnnsolve.adapters.multicut import Multicut
from gnnsolve.adapters.problem import GraphProblem, Solution, edge_weights
from gnnsolve.adapters.tsp import TSP
from gnnsolve.errors import InvalidModelError
from gnnsolve.search.mis import two_improvement

__all__ = [
    "MaxCut",
    "MaxIndependentSet",
    "TSP",
    "Modularity",
    "KCenter",
    "Multicut",
    "maxcut_bqm",
    "cut_value",
    "greedy_independent_set",
]

Cut = tuple[frozenset, frozenset]


def maxcut_bqm(G: nx.Graph, weight: str = "weight") -> dimod.BinaryQuadraticModel:
    """The SPIN model whose energy is minus the cut value, one variable per node.

    Args:
        G: an undirected graph; parallel edges of a multigraph add up.
        weight: the edge attribute holding the weight; edges without it weigh 1.

    Returns:
        A SPIN :class:`dimod.BinaryQuadraticModel` over all nodes of ``G`` (isolated ones too)
        with ``bqm.energy(s) == -cut_value(G, s)``. Self-loops are ignored.

    Raises:
        InvalidModelError: a weight is not a finite number.
    """
    bqm = dimod.BinaryQuadraticModel(dimod.SPIN)
    bqm.add_variables_from((node, 0.0) for node in G.nodes)
    for u, v, w in edge_weights(G, weight):
        bqm.add_quadratic(u, v, w / 2)
        bqm.offset -= w / 2
    return bqm


def cut_value(G: nx.Graph, sample: Mapping[Hashable, int], weight: str = "weight") -> float:
    """The total weight of the edges whose ends take different values in ``sample``.

    ``sample`` may be SPIN (±1) or BINARY (0/1); self-loops never count.
    """
    return sum(w for u, v, w in G.edges(data=weight, default=1) if sample[u] != sample[v])


def _require_nodes(G: nx.Graph, problem: str) -> None:
    if G.number_of_nodes() == 0:
        raise InvalidModelError(f"{problem} needs a graph with at least one node; this one is empty")


class MaxCut(GraphProblem[Cut]):
    """Maximum (weighted) cut of an undirected graph.

    Every assignment is a cut, so decoding never repairs. Isolated nodes and disconnected
    graphs need nothing special: an isolated node sits on either side without changing the value.
    Negative weights are allowed (G-set has them).

    Args:
        G: the graph; parallel edges of a multigraph add up, self-loops are ignored.
        weight: the edge attribute holding the weight; edges without it weigh 1.

    Raises:
        InvalidModelError: the graph has no nodes, or a weight is not a finite number.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve import HiGHSSampler
        >>> from gnnsolve.adapters.graphs import MaxCut
        >>> solution, _ = MaxCut(nx.complete_graph(4)).solve(HiGHSSampler())
        >>> side, other = solution.value
        >>> len(side), len(other), solution.objective
        (2, 2, 4)
    """

    sense = "max"
    objective_name = "cut value"

    def __init__(self, G: nx.Graph, weight: str = "weight") -> None:
        _require_nodes(G, "MaxCut")
        self.graph = G
        self.weight = weight
        self._edges = edge_weights(G, weight)

    def _build_bqm(self) -> dimod.BinaryQuadraticModel:
        return maxcut_bqm(self.graph, self.weight)

    def decode(self, sample: Mapping[Hashable, int]) -> Solution[Cut]:
        """The two sides: nodes with a positive value (+1 or 1), and the rest.

        Accepts SPIN or BINARY samples over the graph's nodes.
        """
        side = frozenset(node for node in self.graph.nodes if sample[node] > 0)
        return self._solution((side, frozenset(self.graph.nodes) - side), sample, repaired=False)

    def evaluate(self, value: Cut) -> float:
        """The weight of the edges between the two sides."""
        side, _ = value
        return sum(w for u, v, w in self._edges if (u in side) != (v in side))

    def is_feasible(self, value: Cut) -> bool:
        """Whether the two sides partition the nodes."""
        side, other = value
        return not (side & other) and (side | other) == set(self.graph.nodes)


class MaxIndependentSet(GraphProblem[frozenset]):
    """Maximum independent set: the most nodes with no edge between any two of them.

    Args:
        G: the graph; isolated nodes belong to every maximum set; edge weights are ignored.
        penalty: the weight :math:`P` of each edge inside the set; above 1 so that removing a
            node from a conflicting edge always lowers the energy (PI-GNN uses 2).
        local_search: after the repair, apply (1,2)-swaps (one node out, two in) until none is
            left; ``False`` keeps the DyCO-GNN repair alone.

    Raises:
        InvalidModelError: the graph has no nodes, a node has a self-loop (it could never be
            in an independent set: remove the loop or the node), or ``penalty`` is not above 1.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve import HiGHSSampler
        >>> from gnnsolve.adapters.graphs import MaxIndependentSet
        >>> solution, _ = MaxIndependentSet(nx.star_graph(4)).solve(HiGHSSampler())
        >>> sorted(solution.value)
        [1, 2, 3, 4]
    """

    sense = "max"
    objective_name = "set size"

    def __init__(self, G: nx.Graph, penalty: float = 2.0, local_search: bool = True) -> None:
        _require_nodes(G, "MaxIndependentSet")
        loops = list(nx.nodes_with_selfloops(G))
        if loops:
            raise InvalidModelError(
                f"node {loops[0]!r} has a self-loop, so no independent set can contain it; "
                "remove the loops (G.remove_edges_from(nx.selfloop_edges(G))) or the nodes"
            )
        if not isinstance(penalty, (int, float)) or isinstance(penalty, bool) or not penalty > 1 or penalty == float("inf"):
            raise InvalidModelError(f"penalty must be a finite number above 1, got {penalty!r}")
        self.graph = nx.Graph(G)
        self.penalty = float(penalty)
        self.local_search = bool(local_search)

    def _build_bqm(self) -> dimod.BinaryQuadraticModel:
        return dimod.generators.maximum_independent_set(self.graph.edges, self.graph.nodes, strength=self.penalty)

    def decode(self, sample: Mapping[Hashable, int]) -> Solution[frozenset]:
        """The nodes set to 1, conflicts removed, the set made maximal and, with ``local_search``, swapped up."""
        chosen = {node for node in self.graph.nodes if sample[node] > 0}
        independent = greedy_independent_set(self.graph, _remove_conflicts(self.graph, chosen))
        if self.local_search:
            independent = two_improvement(self.graph, independent)
        return self._solution(independent, sample, repaired=independent != chosen)

    def evaluate(self, value: frozenset) -> float:
        """The number of nodes in the set."""
        return len(value)

    def is_feasible(self, value: frozenset) -> bool:
        """Whether the nodes exist and no edge joins two of them."""
        nodes = set(value)
        return nodes <= set(self.graph.nodes) and not any(u in nodes and v in nodes for u, v in self.graph.edges)


def _remove_conflicts(G: nx.Graph, chosen: set) -> set:
    """Drop nodes from ``chosen`` until it is independent, most conflicts first (ties: lower label order)."""
    kept = set(chosen)
    conflicts = {node: sum(1 for neighbour in G[node] if neighbour in kept) for node in kept}
    order = {node: position for position, node in enumerate(G.nodes)}
    while True:
        worst = max(kept, key=lambda node: (conflicts[node], -order[node]), default=None)
        if worst is None or conflicts[worst] == 0:
            return kept
        kept.remove(worst)
        for neighbour in G[worst]:
            if neighbour in kept:
                conflicts[neighbour] -= 1


def greedy_independent_set(G: nx.Graph, start: Iterable[Hashable] = ()) -> frozenset:
    """Extend the independent set ``start`` to a maximal one, fewest candidate neighbours first.

    From an empty start this is the classic greedy minimum-degree heuristic (Halldórsson and
    Radhakrishnan 1997): repeatedly take a remaining node of least degree in the remaining graph
    and delete it with its neighbours. Ties go to the node that comes first in ``G.nodes``.

    Raises:
        InvalidModelError: ``start`` is not an independent set of ``G``.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.adapters.graphs import greedy_independent_set
        >>> sorted(greedy_independent_set(nx.path_graph(5)))
        [0, 2, 4]
    """
    chosen = set(start)
    if any(v in chosen for u in chosen for v in G[u]):
        raise InvalidModelError("the starting set is not independent")
    candidates = set(G.nodes) - chosen - {v for u in chosen for v in G[u]}
    degree = {node: sum(1 for v in G[node] if v in candidates) for node in candidates}
    order = {node: position for position, node in enumerate(G.nodes)}
    while candidates:
        node = min(candidates, key=lambda v: (degree[v], order[v]))
        chosen.add(node)
        removed = {node} | (set(G[node]) & candidates)
        candidates -= removed
        for gone in removed:
            for v in G[gone]:
                if v in candidates:
                    degree[v] -= 1
    return frozenset(chosen)
