"""Small pieces every clustering problem shares: argument checks, the model-size cap, decoding and solving.

:class:`~gnnsolve.adapters.clustering.Modularity`, :class:`~gnnsolve.adapters.pairwise.PairwiseClustering`
and :class:`~gnnsolve.adapters.kcenter.KCenter` check their graph and ``k`` the same way, refuse a
dimod model above :data:`MAX_MODEL_TERMS` terms, decode a SampleSet over either of their variable
forms, and solve through their CQM when the sampler is not graph-native.

Example:
    >>> from gnnsolve.adapters._clustering_common import check_k
    >>> check_k(3, 5, "KCenter")
    3
    >>> check_k(6, 5, "KCenter")
    Traceback (most recent call last):
    ...
    gnnsolve.errors.InvalidModelError: KCenter needs an integer k in 1..5 (the number of nodes), got 6
"""

from __future__ import annotations

import numbers
from typing import Hashable, Iterable, Mapping

import dimod
import networkx as nx

from gnnsolve.adapters.problem import GraphProblem, Solution
from gnnsolve.errors import InvalidModelError, ModelTooLargeError

__all__ = ["MAX_MODEL_TERMS", "check_graph", "check_k", "check_size", "decode_rows"]

MAX_MODEL_TERMS = 1_000_000
"""The most terms a dimod model of these problems may have: quadratic biases of
:attr:`~gnnsolve.adapters.clustering.Modularity.cqm` (:math:`k\\,n(n-1)/2`) and
:attr:`~gnnsolve.adapters.pairwise.PairwiseClustering.cqm`, variables plus constraints of
:attr:`~gnnsolve.adapters.kcenter.KCenter.cqm` (about :math:`2n^2`). Larger graphs are for the
graph-native ClusterNet sampler."""


def check_graph(G: nx.Graph, problem: str) -> None:
    """Refuse a directed or empty graph, naming ``problem``."""
    if G.is_directed():
        raise InvalidModelError(f"{problem} needs an undirected graph; pass G.to_undirected()")
    if G.number_of_nodes() == 0:
        raise InvalidModelError(f"{problem} needs a graph with at least one node; this one is empty")


def check_k(k: int, n: int, problem: str) -> int:
    """``k`` as an int if it is an integer in ``1..n``, else an InvalidModelError naming ``problem``."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= n:
        raise InvalidModelError(f"{problem} needs an integer k in 1..{n} (the number of nodes), got {k!r}")
    return int(k)


def check_size(terms: int, what: str) -> None:
    """Refuse a dimod model of more than :data:`MAX_MODEL_TERMS` terms, naming ``what``."""
    if terms > MAX_MODEL_TERMS:
        raise ModelTooLargeError(
            f"{what} would have {terms:,} terms, above MAX_MODEL_TERMS = {MAX_MODEL_TERMS:,}; "
            "solve the graph with the ClusterNet sampler, which needs no dimod model"
        )


def decode_rows(problem: GraphProblem, sampleset: dimod.SampleSet, forms: Mapping[str, Iterable[Hashable]]) -> list[Solution]:
    """Decode every row, once the SampleSet's variables are those of one of ``forms``."""
    variables = set(sampleset.variables)
    if not any(variables == set(labels) for labels in forms.values()):
        raise InvalidModelError(f"the SampleSet's variables are not those of this problem; expected {' or '.join(forms)}")
    return [problem.decode(sample) for sample in sampleset.samples()]
