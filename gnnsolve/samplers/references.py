"""The classical tools a user would pick for the graph-native problems, as graph-native samplers.

Each takes the problem object itself (``problem.solve(sampler)``, or ``sampler.sample(problem)``)
and answers with a :class:`dimod.SampleSet` over the problem's nodes, one value per node, as the
learned graph-native samplers do, so ``gnnsolve compare`` and :meth:`GraphProblem.solve
<gnnsolve.adapters.problem.GraphProblem.solve>` set them beside ClusterNet and the multicut
search like any other sampler:

- :class:`LouvainSampler` for :class:`~gnnsolve.adapters.clustering.Modularity`: the Louvain
  method (Blondel, Guillaume, Lambiotte and Lefebvre, "Fast unfolding of communities in large
  networks", J. Stat. Mech. 2008) as networkx implements it;
- :class:`LeidenSampler` for :class:`~gnnsolve.adapters.clustering.Modularity`: the Leiden
  algorithm (Traag, Waltman and van Eck, "From Louvain to Leiden: guaranteeing well-connected
  communities", Sci. Rep. 2019) through ``leidenalg`` (an optional extra);
- :class:`GonzalezSampler` for :class:`~gnnsolve.adapters.kcenter.KCenter`: farthest-first
  traversal from a random node (Gonzalez, "Clustering to minimize the maximum intercluster
  distance", Theor. Comput. Sci. 1985), a 2-approximation, the best possible in polynomial time
  unless P = NP;
- :class:`ElfMulticutSampler` for :class:`~gnnsolve.adapters.multicut.Multicut`: greedy
  additive edge contraction followed by Kernighan–Lin with joins (Keuper et al., "Efficient
  decomposition of image and mesh graphs by lifted multicuts", ICCV 2015) through
  ``python-elf`` (an optional extra).

Louvain and Leiden find as many communities as suit the graph; where that is more than the
problem's ``k``, communities are merged greedily down to ``k``
(:func:`~gnnsolve.baselines.clustering.merge_communities`). Reads differ by their seed
(``seed + read``); the multicut reference is deterministic and returns one row. A ``time_limit``
stops between reads (at least one runs): these methods take seconds where the learned samplers
take minutes, and none of the libraries can be stopped within a read.

Example:
    >>> import networkx as nx
    >>> from gnnsolve.adapters.clustering import Modularity
    >>> from gnnsolve.samplers.references import LouvainSampler
    >>> problem = Modularity(nx.barbell_graph(5, 0), k=2)
    >>> best, sampleset = problem.solve(LouvainSampler(), seed=0)
    >>> round(best.objective, 4), sorted(set(best.value.values()))
    (0.4524, [0, 1])
"""

from __future__ import annotations

import importlib
import math
import time
from collections.abc import Hashable, Mapping
from typing import Any, ClassVar, Protocol

import dimod
import networkx as nx
import numpy as np

from gnnsolve.adapters.clustering import Modularity
from gnnsolve.adapters.kcenter import KCenter
from gnnsolve.adapters.multicut import Multicut
from gnnsolve.adapters.problem import Solution
from gnnsolve.baselines.clustering import merge_communities
from gnnsolve.errors import MissingDependencyError
from gnnsolve.samplers._common import Stopwatch, check_positive_int, check_seed, check_time_limit

__all__ = ["LouvainSampler", "LeidenSampler", "GonzalezSampler", "ElfMulticutSampler", "elf_input"]


class _NodeProblem(Protocol):
    """What a reference reads of its problem: the nodes (the SampleSet's variables) and the decoding."""

    @property
    def nodes(self) -> list: ...

    def decode(self, sample: Mapping[Hashable, int]) -> Solution[Any]: ...


class _GraphReference(dimod.Sampler):
    """Reads of a classical method on a graph-native problem, gathered into one SampleSet."""

    problem_class: ClassVar[type[_NodeProblem]]
    vartype: ClassVar[dimod.Vartype] = dimod.INTEGER
    deterministic: ClassVar[bool] = False
    method: ClassVar[str]
    parameters: dict[str, list] = {}
    properties: dict[str, Any] = {}

    def __init__(self) -> None:
        self.parameters = {"num_reads": [], "seed": [], "time_limit": []}
        self.properties = {"problems": (self.problem_class,), "method": self.method}

    def sample(
        self, problem: Any, *, num_reads: int = 1, seed: int | None = None, time_limit: float | None = None, **kwargs: Any
    ) -> dimod.SampleSet:
        """Run the method ``num_reads`` times (once if it is deterministic) on ``problem``.

        Args:
            problem: the problem object the sampler is for (``properties["problems"]``).
            num_reads: reads, each from its own seed ``seed + read``.
            seed: the first read's seed; ``None`` draws one.
            time_limit: seconds for the call; reads stop when the next would end past it
                (at least one runs). ``None`` or ``math.inf``: every read.

        Returns:
            One row per read over ``problem.nodes``, energies the problem's (``-Q``, the
            largest distance, the cut cost); ``info`` holds ``method``, ``reads`` and ``timing``.

        Raises:
            TypeError: ``problem`` is not what the sampler solves.
            ValueError: ``num_reads``, ``seed`` or ``time_limit`` is out of range.
        """
        self.remove_unknown_kwargs(**kwargs)
        if not isinstance(problem, self.problem_class):
            raise TypeError(
                f"{type(self).__name__} solves {self.problem_class.__name__} problems, "
                f"got {type(problem).__name__}; call {self.problem_class.__name__}(...).solve(sampler)"
            )
        num_reads = 1 if self.deterministic else check_positive_int("num_reads", num_reads)
        seed = check_seed(seed)
        first = int(np.random.default_rng(seed).integers(0, 2**31 - num_reads)) if seed is None else seed
        limit = check_time_limit(time_limit)
        watch = Stopwatch(time_limit=math.inf if limit is None else limit)
        rows, energies = [], []
        with watch.phase("sampling"):
            for read in range(num_reads):
                started = time.perf_counter()
                row = self._read(problem, first + read)
                rows.append([row[node] for node in problem.nodes])
                energies.append(problem.decode(row).energy)
                if watch.remaining() < time.perf_counter() - started:
                    break
        info = {"method": self.method, "reads": len(rows), "timing": watch.timing()}
        return dimod.SampleSet.from_samples(
            (np.asarray(rows), problem.nodes), self.vartype, energy=energies, info=info, sort_labels=False
        )

    def _read(self, problem: Any, seed: int) -> dict:
        """One read: a value per node."""
        raise NotImplementedError


def _weighted_graph(problem: Modularity) -> nx.Graph:
    """The problem's graph as a simple weighted graph on ``0..n-1`` (parallel edges summed,
    a self-loop of weight ``w`` kept as one of weight ``w``), as the community libraries take it."""
    adjacency = problem.adjacency.tocoo()
    upper = adjacency.row <= adjacency.col
    weights = np.where(adjacency.row == adjacency.col, adjacency.data / 2, adjacency.data)[upper]
    graph = nx.Graph()
    graph.add_nodes_from(range(len(problem.nodes)))
    graph.add_weighted_edges_from(zip(adjacency.row[upper].tolist(), adjacency.col[upper].tolist(), weights.tolist()))
    return graph


def _at_most_k(problem: Modularity, graph: nx.Graph, communities: list) -> dict:
    """Node → community in ``0..k-1`` of the problem's nodes, merging down to ``k`` where needed."""
    index = {i: c for c, members in enumerate(communities) for i in members}
    merged = merge_communities(graph, index, problem.k, weight="weight")
    return {node: merged[i] for i, node in enumerate(problem.nodes)}


class LouvainSampler(_GraphReference):
    """Modularity by the Louvain method (networkx), merged down to the problem's ``k``.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.adapters.clustering import Modularity
        >>> sampleset = LouvainSampler().sample(Modularity(nx.karate_club_graph(), k=4), num_reads=3, seed=1)
        >>> len(sampleset), bool(sampleset.first.energy < -0.4)
        (3, True)
    """

    problem_class = Modularity
    method = "louvain (networkx)"

    def _read(self, problem: Modularity, seed: int) -> dict:
        graph = _weighted_graph(problem)
        return _at_most_k(problem, graph, nx.community.louvain_communities(graph, weight="weight", seed=seed))


class LeidenSampler(_GraphReference):
    """Modularity by the Leiden algorithm (``leidenalg``), merged down to the problem's ``k``.

    Raises:
        MissingDependencyError: ``leidenalg`` (and ``igraph``) are not installed.
    """

    problem_class = Modularity
    method = "leiden (leidenalg)"

    def __init__(self) -> None:
        super().__init__()
        self._leidenalg = _optional("leidenalg", "leidenalg")
        self._igraph = _optional("igraph", "leidenalg")

    def _read(self, problem: Modularity, seed: int) -> dict:
        graph = _weighted_graph(problem)
        edges = list(graph.edges(data="weight"))
        network = self._igraph.Graph(n=graph.number_of_nodes(), edges=[(u, v) for u, v, _ in edges])
        partition = self._leidenalg.find_partition(
            network, self._leidenalg.ModularityVertexPartition, weights=[w for _, _, w in edges], seed=seed
        )
        return _at_most_k(problem, graph, list(partition))


class GonzalezSampler(_GraphReference):
    """k-center by farthest-first traversal from a random node (Gonzalez's 2-approximation).

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.adapters.kcenter import KCenter
        >>> best, _ = KCenter(nx.path_graph(9), k=3).solve(GonzalezSampler(), num_reads=4, seed=0)
        >>> best.objective <= 2 * 1.0   # the optimum is 1 (facilities 1, 4, 7)
        True
    """

    problem_class = KCenter
    vartype = dimod.BINARY
    method = "gonzalez farthest-first"

    def _read(self, problem: KCenter, seed: int) -> dict:
        start = problem.nodes[int(np.random.default_rng(seed).integers(len(problem.nodes)))]
        # decoding completes a set of fewer than k facilities farthest-first
        facilities = problem.decode({node: int(node == start) for node in problem.nodes}).value
        return {node: int(node in facilities) for node in problem.nodes}


class ElfMulticutSampler(_GraphReference):
    """Multicut by python-elf's GAEC followed by its Kernighan–Lin with joins (deterministic).

    elf minimises the summed weight of the cut edges with positive weights attractive, the
    convention of :class:`~gnnsolve.adapters.multicut.Multicut`, so the weights go in unchanged.

    Raises:
        MissingDependencyError: ``python-elf`` is not installed.
    """

    problem_class = Multicut
    deterministic = True
    method = "elf GAEC + KLj"

    def __init__(self) -> None:
        super().__init__()
        self._multicut = _optional("elf.segmentation.multicut", "python-elf")
        self._bioimage = _optional("bioimage_cpp", "python-elf")

    def _read(self, problem: Multicut, seed: int) -> dict:
        elf_graph, costs = elf_input(problem, self._bioimage)
        labels = np.asarray(self._multicut.multicut_kernighan_lin(elf_graph, costs, warmstart=True))
        return dict(zip(problem.nodes, labels.tolist()))


def elf_input(problem: Multicut, bioimage: Any) -> tuple[Any, np.ndarray]:
    """The problem as elf takes it: bioimage-cpp's graph of the nonzero weights, and the weights
    in the graph's own edge order (``bioimage``: the ``bioimage_cpp`` module)."""
    graph = problem.signed_graph
    keep = graph.weights != 0
    uv = np.stack([graph.rows[keep], graph.cols[keep]], axis=1).astype("uint64")
    elf_graph = bioimage.graph.UndirectedGraph.from_edges(graph.num_nodes, uv)
    weight = dict(zip(map(tuple, uv.tolist()), graph.weights[keep].tolist()))
    stored = np.asarray(elf_graph.uv_ids(), dtype=np.int64).tolist()
    return elf_graph, np.array([weight[(min(u, v), max(u, v))] for u, v in stored], dtype=np.float64)


def _optional(module: str, package: str) -> Any:
    """Import ``module`` of an optional ``package``, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingDependencyError(f"{module} is not installed ({err}); pip install {package}") from None
