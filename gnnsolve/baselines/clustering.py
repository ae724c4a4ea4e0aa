r"""Baselines of ClusterNet's partially observed experiments: two-stage, GCN-e2e and classical.

Wilder, Ewing, Dilkina and Tambe (NeurIPS 2019) compare ClusterNet with these methods in the
setting where a model sees only a fraction of the edges (40% in the paper; see
:func:`~gnnsolve.adapters.clustering.observe_edges`) and its decision is scored on the full
graph. Every function here takes the problem on the **full** graph (a
:class:`~gnnsolve.adapters.clustering.Modularity` or
:class:`~gnnsolve.adapters.kcenter.KCenter`) and the **observed** graph (the same nodes, fewer
edges). The methods see only the observed graph and ``problem.k`` (and ``problem.weight``); the
full graph is used once, to score the decision exactly with ``problem.evaluate``.

**Two-stage** (:func:`two_stage`): learn, then optimise.

1. A link-prediction GCN is trained on the observed graph: two GCN layers (Kipf and Welling
   2017) give node embeddings :math:`e`, a DistMult score :math:`s(u, v) = \sum_l e_{ul} w_l e_{vl}`
   (learnable :math:`w`) rates a pair, and the loss is binary cross-entropy with logits on the
   observed edges against as many random non-edges, drawn afresh each epoch; 20% of the edges
   are dropped from the GCN's input each epoch (:func:`train_link_predictor`).
2. The predicted graph is the observed graph plus the unobserved pairs of highest score, as many
   as the expected number of missing edges :math:`m_{obs}(1/f - 1)`, for an assumed observed
   fraction :math:`f` (:func:`predict_graph`; all pairs are scored block by block).
3. The classical algorithm solves the predicted graph: Louvain (Blondel et al. 2008) merged
   greedily down to at most ``k`` communities (:func:`merge_communities`) for modularity, and
   Gonzalez's farthest-first traversal for k-center.

**GCN-e2e** (:func:`gcn_e2e`): decision-focused learning without the clustering layer. A GCN
outputs the decision directly (a softmax over ``k`` communities per node, or a facility
probability per node rescaled to sum at most ``k``) and is trained on the observed graph's
differentiable objective (ClusterNet's ``soft_objective``).

**Classical on the observed graph** (:func:`classical_on_observed`): Louvain (merged to ``k``)
or farthest-first run on the observed graph alone.

The defaults follow the authors' reference code: GCN of 2 layers, hidden width 50, embedding
width 50, dropout 0.5, Adam with learning rate 0.01 and weight decay 5e-4, 300 epochs of link
prediction and 1001 epochs of GCN-e2e, the best training loss checked every 100 epochs.

The functions that train a GCN take ``threads``, torch's intra-op thread count for the call
(``None``: chosen from a training step's work by :func:`~gnnsolve.samplers._torch.default_threads`,
one thread on graphs of this size); the caller's setting is restored afterwards, and
``info["threads"]`` reports the count used.

Example:
    >>> import networkx as nx
    >>> from gnnsolve.adapters.clustering import Modularity, observe_edges
    >>> from gnnsolve.baselines.clustering import classical_on_observed, two_stage
    >>> G = nx.Graph(nx.karate_club_graph().edges)          # unweighted
    >>> problem = Modularity(G, k=2)
    >>> observed = observe_edges(G, 0.4, seed=0)
    >>> base = classical_on_observed(problem, observed, seed=0)
    >>> learned = two_stage(problem, observed, epochs=30, seed=0)
    >>> len(set(learned.decision.values())) <= 2, learned.objective == problem.evaluate(learned.decision)
    (True, True)
    >>> base.name, learned.info["added_edges"]
    ('observed', 47)

References:
    B. Wilder, E. Ewing, B. Dilkina and M. Tambe, "End to End Learning and Optimization on
    Graphs", NeurIPS 2019.

    T. N. Kipf and M. Welling, "Semi-Supervised Classification with Graph Convolutional
    Networks", ICLR 2017.

    B. Yang, W. Yih, X. He, J. Gao and L. Deng, "Embedding Entities and Relations for Learning
    and Inference in Knowledge Bases" (DistMult), ICLR 2015.

    V. D. Blondel, J.-L. Guillaume, R. Lambiotte and E. Lefebvre, "Fast unfolding of communities
    in large networks", J. Stat. Mech. (2008) P10008.

    T. F. Gonzalez, "Clustering to minimize the maximum intercluster distance", Theoretical
    Computer Science 38 (1985).
"""

from __future__ import annotations

import math
import numbers
import time
import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import networkx as nx
import numpy as np
import scipy.sparse
import scipy.stats
import torch
from torch import nn
from torch_geometric.nn.conv.gcn_conv import gcn_norm

from gnnsolve.adapters.clustering import Modularity
from gnnsolve.adapters.kcenter import KCenter, greedy_k_center, lift_to_k
from gnnsolve.errors import InvalidModelError, UnsupportedModelError
from gnnsolve.nn.sparse import SparseOperator, spmm
from gnnsolve.samplers._torch import check_threads, torch_threads

__all__ = [
    "BaselineResult",
    "LinkPredictor",
    "classical_on_observed",
    "gcn_e2e",
    "held_out_auc",
    "merge_communities",
    "predict_graph",
    "train_link_predictor",
    "two_stage",
]

HIDDEN = 50
"""Width of the first GCN layer (reference code)."""
EMBEDDING = 50
"""Width of the link-prediction embeddings (reference code)."""
DROPOUT = 0.5
LEARNING_RATE = 0.01
WEIGHT_DECAY = 5e-4
BLOCK_ENTRIES = 1 << 22
"""Pairs scored at once by :meth:`LinkPredictor.top_pairs` (16 MB of float32 scores)."""

Problem: TypeAlias = Modularity | KCenter
Features: TypeAlias = np.ndarray | scipy.sparse.spmatrix | torch.Tensor | None


@dataclass(frozen=True)
class BaselineResult:
    """One baseline's decision on a problem, scored on the full graph.

    Attributes:
        name: the baseline, e.g. ``"two-stage"``.
        decision: node → community label (modularity) or a frozenset of facilities (k-center).
        objective: ``problem.evaluate(decision)``, exact, on the full graph (modularity to
            maximise; the largest distance to minimise, ``inf`` if a component has no facility).
        seconds: wall-clock time of the whole baseline, training included.
        info: facts of the run (see each function).
    """

    name: str
    decision: Any
    objective: float
    seconds: float
    info: dict = field(default_factory=dict, repr=False, compare=False)


# ---------------------------------------------------------------- checks and conversions


def _kind(problem: Any) -> str:
    if isinstance(problem, Modularity):
        return "modularity"
    if isinstance(problem, KCenter):
        return "k-center"
    raise UnsupportedModelError(f"the clustering baselines solve Modularity or KCenter problems, got {type(problem).__name__}")


def _check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_fraction(value: Any, name: str, *, allow_zero: bool = False, allow_one: bool = True) -> float:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
        # typeshed's numbers.Real declares only < and <=; every real type has >= and > too
        and (value >= 0 if allow_zero else value > 0)  # type: ignore[operator]
        and (value <= 1 if allow_one else value < 1)
    )
    if not ok:
        low = "0 <=" if allow_zero else "0 <"
        high = "<= 1" if allow_one else "< 1"
        raise ValueError(f"{name} must be a number with {low} {name} {high}, got {value!r}")
    return float(value)


def _prepare(problem: Problem, observed: nx.Graph) -> tuple[str, nx.Graph]:
    """Check the pair and return the kind and the observed graph with its nodes in problem order."""
    kind = _kind(problem)
    if not isinstance(observed, nx.Graph):
        raise InvalidModelError(f"observed must be a networkx graph, got {type(observed).__name__}")
    if observed.is_directed():
        raise InvalidModelError("the observed graph must be undirected, like the problem's; pass observed.to_undirected()")
    nodes = problem.nodes
    missing = next((node for node in nodes if node not in observed), None)
    if missing is not None or observed.number_of_nodes() != len(nodes):
        known = set(nodes)
        extra = next((node for node in observed if node not in known), None)
        what = f"node {missing!r} is missing" if missing is not None else f"node {extra!r} is not in the problem"
        raise InvalidModelError(
            f"the observed graph must have exactly the nodes of the problem's graph ({what}); "
            "observe_edges(G, fraction) keeps every node"
        )
    if kind == "modularity" and observed.number_of_edges() == 0:
        raise InvalidModelError(
            "the observed graph has no edges: modularity on it is undefined (it divides by 2m = 0); "
            "observe a larger fraction of the edges"
        )
    ordered = observed.__class__()
    ordered.graph.update(observed.graph)
    ordered.add_nodes_from((node, observed.nodes[node]) for node in nodes)
    ordered.add_edges_from(observed.edges(keys=True, data=True) if observed.is_multigraph() else observed.edges(data=True))
    return kind, ordered


def _edge_array(G: nx.Graph, index: Mapping[Hashable, int]) -> np.ndarray:
    """The distinct non-loop edges of ``G`` as index pairs ``(i, j)``, ``i < j``, sorted."""
    pairs = np.array([(index[u], index[v]) for u, v in G.edges() if u != v], dtype=np.int64).reshape(-1, 2)
    pairs = np.sort(pairs, axis=1)
    return np.unique(pairs, axis=0)


def _pair_keys(pairs: np.ndarray, n: int) -> np.ndarray:
    """Sorted keys ``i * n + j`` of index pairs with ``i < j``."""
    lo, hi = np.minimum(pairs[:, 0], pairs[:, 1]), np.maximum(pairs[:, 0], pairs[:, 1])
    return np.unique(lo * n + hi)


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    at = np.searchsorted(sorted_keys, keys).clip(max=len(sorted_keys) - 1)
    return sorted_keys[at] == keys


def _random_non_edges(count: int, n: int, edge_keys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``count`` uniform random pairs ``(i, j)``, ``i != j``, that are not edges (fewer if they are rare)."""
    total = n * (n - 1) // 2
    if count == 0 or total - len(edge_keys) <= 0:
        return np.zeros((0, 2), dtype=np.int64)
    found: list[np.ndarray] = []
    have = 0
    for _ in range(100):
        draw = rng.integers(n, size=(2 * (count - have) + 16, 2))
        draw = draw[draw[:, 0] != draw[:, 1]]
        draw = draw[~_contains(edge_keys, np.minimum(draw[:, 0], draw[:, 1]) * n + np.maximum(draw[:, 0], draw[:, 1]))]
        found.append(draw[: count - have])
        have += len(found[-1])
        if have == count:
            break
    return np.concatenate(found)


def _seeds(seed: int | None, count: int) -> list[int]:
    """``count`` independent integer seeds from one (fresh entropy when ``seed`` is None)."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    entropy = None if seed is None else int(seed)
    return [int(s) for s in np.random.SeedSequence(entropy).generate_state(count, dtype=np.uint32)]


def _simple_weighted(G: nx.Graph, weight: str | None) -> nx.Graph:
    """A simple graph with every edge's weight in ``"weight"`` (1 when ``weight`` is None;
    parallel edges add up, as in :class:`~gnnsolve.adapters.clustering.Modularity`)."""
    H = nx.Graph()
    H.add_nodes_from(G)
    for u, v, w in G.edges(data=weight, default=1) if weight is not None else ((u, v, 1) for u, v in G.edges()):
        H.add_edge(u, v, weight=H[u][v]["weight"] + w if H.has_edge(u, v) else w)
    return H


class _Inputs:
    """The GCN's input features ``X`` (``n × F``), or the identity (learnable embeddings) when None.

    Sparse inputs (under 10% non-zero, as bag-of-words features) are kept as CSR tensors, so
    :math:`XW` costs the number of non-zeros and its gradient one more sparse product.
    """

    def __init__(self, features: Features, n: int) -> None:
        self.n = n
        self.dense: torch.Tensor | None = None
        self.sparse: tuple[torch.Tensor, torch.Tensor] | None = None
        if features is None:
            self.width = n
            return
        if isinstance(features, torch.Tensor):
            features = features.detach().cpu().numpy()
        if scipy.sparse.issparse(features):
            matrix = scipy.sparse.csr_matrix(features, dtype=np.float32)
        else:
            try:
                matrix = np.asarray(features, dtype=np.float32)
            except (TypeError, ValueError) as err:
                raise ValueError(f"features must be an n × F numeric array, got {type(features).__name__}") from err
        if matrix.ndim != 2 or matrix.shape[0] != n or matrix.shape[1] == 0:
            raise ValueError(
                f"features must have shape (n, F) = ({n}, F ≥ 1), one row per node in problem.nodes order; got {matrix.shape}"
            )
        values = matrix.data if scipy.sparse.issparse(matrix) else matrix
        if not np.all(np.isfinite(values)):
            raise ValueError("features contain NaN or infinite entries")
        self.width = matrix.shape[1]
        nonzero = matrix.nnz if scipy.sparse.issparse(matrix) else int(np.count_nonzero(matrix))
        if nonzero < 0.1 * matrix.shape[0] * matrix.shape[1]:
            coo = scipy.sparse.coo_matrix(matrix)
            index = torch.as_tensor(np.vstack([coo.row, coo.col]), dtype=torch.int64)
            values = torch.as_tensor(coo.data, dtype=torch.float32)
            with warnings.catch_warnings():
                # torch marks CSR as beta; construction and sparse @ dense are all this uses.
                warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")
                warnings.filterwarnings("ignore", message="Sparse invariant checks are implicitly")
                forward = torch.sparse_coo_tensor(index, values, matrix.shape).coalesce()
                self.sparse = (forward.to_sparse_csr(), forward.t().coalesce().to_sparse_csr())
        else:
            self.dense = torch.as_tensor(matrix.toarray() if scipy.sparse.issparse(matrix) else matrix)

    def project(self, weight: torch.Tensor) -> torch.Tensor:
        """:math:`X W`."""
        if self.sparse is not None:
            return spmm(self.sparse[0], self.sparse[1], weight)
        if self.dense is not None:
            return self.dense @ weight
        return weight


def _feature_width(features: Features) -> int:
    """The width of the features as given; 0 for learned embeddings, whose identity input costs no product."""
    if features is None:
        return 0
    shape = features.shape if hasattr(features, "shape") else np.shape(features)
    return int(shape[1]) if len(shape) == 2 else 0


def _gcn_work(n: int, edges: int, width: int, out_dim: int, loss: float, hidden: int = HIDDEN) -> float:
    """Multiply-adds of one training step of :class:`_GCN` on ``n`` nodes and ``edges`` undirected
    edges, its loss included: three forward passes (forward and backward)."""
    messages = 2 * edges + n
    return 3.0 * (n * width * hidden + messages * (hidden + out_dim) + n * hidden * out_dim + loss)


def _link_prediction_work(n: int, edges: int, features: Features, embedding_dim: int = EMBEDDING, hidden: int = HIDDEN) -> float:
    """Multiply-adds of one step of :func:`train_link_predictor`, which scores every observed edge
    and as many non-edges."""
    return _gcn_work(n, edges, _feature_width(features), embedding_dim, 2 * edges * embedding_dim, hidden)


def _gcn_operator(pairs: np.ndarray, n: int) -> SparseOperator:
    """:math:`\\hat A = D^{-1/2}(A + I)D^{-1/2}` of the undirected index pairs."""
    pairs_t = torch.as_tensor(pairs, dtype=torch.int64).reshape(-1, 2)
    edge_index = torch.cat([pairs_t.T, pairs_t.T.flip(0)], dim=1)
    index, weight = gcn_norm(edge_index, None, n, add_self_loops=True)
    return SparseOperator.from_coo(index[1], index[0], weight.float(), n, symmetric=True)


class _GCN(nn.Module):
    """Two GCN layers, :math:`\\hat A\\, \\mathrm{dropout}(\\mathrm{relu}(\\hat A X W_1 + b_1)) W_2 + b_2`."""

    def __init__(self, inputs: _Inputs, out_dim: int, hidden: int = HIDDEN, dropout: float = DROPOUT) -> None:
        super().__init__()
        self.inputs = inputs
        self.weight1 = nn.Parameter(torch.empty(inputs.width, hidden))
        self.bias1 = nn.Parameter(torch.zeros(hidden))
        self.weight2 = nn.Parameter(torch.empty(hidden, out_dim))
        self.bias2 = nn.Parameter(torch.zeros(out_dim))
        self.dropout = nn.Dropout(dropout)
        for weight in (self.weight1, self.weight2):
            bound = math.sqrt(6.0 / (weight.shape[0] + weight.shape[1]))
            nn.init.uniform_(weight, -bound, bound)

    def forward(self, operator: SparseOperator) -> torch.Tensor:
        h = torch.relu(operator.matmul(self.inputs.project(self.weight1)) + self.bias1)
        return operator.matmul(self.dropout(h) @ self.weight2) + self.bias2


# ---------------------------------------------------------------- link prediction


class LinkPredictor:
    """A trained link predictor: node embeddings :math:`e` and the DistMult relation :math:`w`.

    The score of a pair is :math:`s(u, v) = \\sum_l e_{ul} w_l e_{vl}` (symmetric), its predicted
    probability :math:`\\sigma(s)`.

    Attributes:
        nodes: the nodes, in the order of the rows of ``embeddings``.
        embeddings: ``n × d`` float32 tensor.
        relation: ``d`` float32 tensor.
    """

    def __init__(self, nodes: list, embeddings: torch.Tensor, relation: torch.Tensor) -> None:
        self.nodes = list(nodes)
        self.index = {node: i for i, node in enumerate(self.nodes)}
        self.embeddings = embeddings.detach()
        self.relation = relation.detach()

    def _logits(self, pairs: np.ndarray) -> np.ndarray:
        pairs_t = torch.as_tensor(pairs, dtype=torch.int64).reshape(-1, 2)
        e = self.embeddings
        return ((e[pairs_t[:, 0]] * self.relation) * e[pairs_t[:, 1]]).sum(dim=1).numpy().astype(np.float64)

    def probabilities(self, pairs: list[tuple[Hashable, Hashable]]) -> np.ndarray:
        """The predicted probability that each pair ``(u, v)`` of nodes is an edge.

        Raises:
            InvalidModelError: a pair names an unknown node.
        """
        try:
            index = np.array([(self.index[u], self.index[v]) for u, v in pairs], dtype=np.int64).reshape(-1, 2)
        except KeyError as err:
            raise InvalidModelError(f"node {err.args[0]!r} is not a node of the predictor's graph") from None
        return 1.0 / (1.0 + np.exp(-self._logits(index)))

    def top_pairs(self, count: int, exclude: np.ndarray | None = None, block_entries: int = BLOCK_ENTRIES) -> np.ndarray:
        """The ``count`` index pairs ``(i, j)``, ``i < j``, of highest score, best first.

        Scores all :math:`n(n-1)/2` pairs, ``block_entries`` at a time (rows of the score matrix),
        keeping a running top ``count``, so memory stays :math:`O(\\text{block} + \\text{count})`.
        Pairs in ``exclude`` (index pairs, either order) are skipped.
        """
        n = len(self.nodes)
        excluded = _pair_keys(exclude, n) if exclude is not None and len(exclude) else np.zeros(0, dtype=np.int64)
        count = min(_check_positive_int(count, "count", 0), n * (n - 1) // 2 - len(excluded))
        if count <= 0:
            return np.zeros((0, 2), dtype=np.int64)
        weighted = self.embeddings * self.relation
        rows = max(1, block_entries // max(n, 1))
        best_scores = torch.empty(0)
        best_keys = torch.empty(0, dtype=torch.int64)
        excluded_t = torch.as_tensor(excluded)
        columns = torch.arange(n)
        for start in range(0, n - 1, rows):
            stop = min(start + rows, n)
            scores = weighted[start:stop] @ self.embeddings.T
            scores[columns[None, :] <= torch.arange(start, stop)[:, None]] = -math.inf
            lo, hi = torch.searchsorted(excluded_t, torch.tensor([start * n, stop * n]))
            inside = excluded_t[lo:hi]
            scores[inside // n - start, inside % n] = -math.inf
            flat = scores.reshape(-1)
            top = torch.topk(flat, min(count, flat.numel()))
            keep = torch.isfinite(top.values)
            scores_cat = torch.cat([best_scores, top.values[keep]])
            keys_cat = torch.cat([best_keys, top.indices[keep] + start * n])
            order = torch.topk(scores_cat, min(count, scores_cat.numel())).indices
            best_scores, best_keys = scores_cat[order], keys_cat[order]
        keys = best_keys.numpy()
        return np.stack([keys // n, keys % n], axis=1)


def train_link_predictor(
    observed: nx.Graph,
    features: Features = None,
    *,
    epochs: int = 300,
    seed: int | None = None,
    edge_dropout: float = 0.2,
    hidden: int = HIDDEN,
    embedding_dim: int = EMBEDDING,
    dropout: float = DROPOUT,
    lr: float = LEARNING_RATE,
    weight_decay: float = WEIGHT_DECAY,
    threads: int | None = None,
) -> LinkPredictor:
    """Train the two-stage baseline's link-prediction GCN on the observed edges.

    Each epoch drops ``edge_dropout`` of the observed edges from the GCN's input, draws one
    uniform random non-edge (of the observed graph) per observed edge, and takes one Adam step
    on the binary cross-entropy (with logits) of the DistMult scores: observed edges 1, non-edges
    0. The returned embeddings come from the full observed graph without dropout.

    Args:
        observed: an undirected graph; parallel edges and self-loops are ignored.
        features: ``n × F`` node features in ``observed.nodes`` order (numpy, scipy sparse or
            torch), or None for learnable node embeddings (identity features).
        epochs: training epochs (the reference code uses 300).
        seed: the same seed gives the same predictor on the CPU; None draws one.
        edge_dropout: share of edges dropped from the GCN's input each epoch, in ``[0, 1)``.
        hidden, embedding_dim, dropout, lr, weight_decay: GCN and Adam settings.
        threads: torch's intra-op threads for the training (``None``: chosen from an epoch's work).

    Raises:
        InvalidModelError: the graph is directed or has no edge between distinct nodes.
        ValueError: a setting is out of range or ``features`` has the wrong shape.
    """
    threads = check_threads(threads)
    if observed.is_directed():
        raise InvalidModelError("link prediction needs an undirected graph; pass observed.to_undirected()")
    epochs = _check_positive_int(epochs, "epochs", 0)
    edge_dropout = _check_fraction(edge_dropout, "edge_dropout", allow_zero=True, allow_one=False)
    dropout = _check_fraction(dropout, "dropout", allow_zero=True, allow_one=False)
    nodes = list(observed.nodes)
    n = len(nodes)
    positives = _edge_array(observed, {node: i for i, node in enumerate(nodes)})
    if len(positives) == 0:
        raise InvalidModelError("link prediction needs at least one observed edge between two distinct nodes")
    inputs = _Inputs(features, n)
    numpy_seed, torch_seed = _seeds(seed, 2)
    rng = np.random.default_rng(numpy_seed)
    edge_keys = _pair_keys(positives, n)
    positives_t = torch.as_tensor(positives)
    work = _link_prediction_work(n, len(positives), features, embedding_dim, hidden)
    with torch_threads(threads, work), torch.random.fork_rng(devices=[]):
        torch.manual_seed(torch_seed)
        gcn = _GCN(inputs, _check_positive_int(embedding_dim, "embedding_dim"), _check_positive_int(hidden, "hidden"), dropout)
        relation = nn.Parameter(torch.ones(embedding_dim))
        optimiser = torch.optim.Adam([*gcn.parameters(), relation], lr=lr, weight_decay=weight_decay)
        loss_fn = nn.BCEWithLogitsLoss()
        for _ in range(epochs):
            gcn.train()
            kept = positives[rng.random(len(positives)) >= edge_dropout]
            embeddings = gcn(_gcn_operator(kept, n))
            negatives = torch.as_tensor(_random_non_edges(len(positives), n, edge_keys, rng))
            pairs = torch.cat([positives_t, negatives])
            logits = ((embeddings[pairs[:, 0]] * relation) * embeddings[pairs[:, 1]]).sum(dim=1)
            labels = torch.cat([torch.ones(len(positives)), torch.zeros(len(negatives))])
            loss = loss_fn(logits, labels)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        gcn.eval()
        with torch.no_grad():
            embeddings = gcn(_gcn_operator(positives, n))
    return LinkPredictor(nodes, embeddings, relation)


def predict_graph(
    observed: nx.Graph, predictor: LinkPredictor, observed_fraction: float = 0.4, weight: str | None = None
) -> nx.Graph:
    """The observed graph plus the unobserved pairs the predictor rates highest.

    Adds ``round(m_obs * (1 / observed_fraction - 1))`` pairs (``m_obs``: distinct observed edges
    between distinct nodes), the expected number of missing edges if ``observed_fraction`` of
    them were observed. The method does not know the true fraction: it is an assumption (0.4 in
    the paper's split). With ``weight`` set, each added edge gets the mean observed weight.

    Raises:
        ValueError: ``observed_fraction`` is not in ``(0, 1]``.
        InvalidModelError: the predictor was trained on other nodes.
    """
    observed_fraction = _check_fraction(observed_fraction, "observed_fraction")
    if list(observed.nodes) != predictor.nodes:
        raise InvalidModelError("the predictor was trained on a graph with other nodes (or another node order)")
    edges = _edge_array(observed, predictor.index)
    count = math.floor(len(edges) * (1.0 / observed_fraction - 1.0) + 0.5)
    added = predictor.top_pairs(count, exclude=edges)
    predicted = observed.copy()
    nodes = predictor.nodes
    if weight is None:
        predicted.add_edges_from((nodes[i], nodes[j]) for i, j in added)
    else:
        weights = [w for _, _, w in observed.edges(data=weight, default=1)]
        mean = float(np.mean(weights)) if weights else 1.0
        predicted.add_edges_from((nodes[i], nodes[j], {weight: mean}) for i, j in added)
    predicted.graph["predicted_edges"] = len(added)
    return predicted


def held_out_auc(predictor: LinkPredictor, full: nx.Graph, observed: nx.Graph, *, seed: int | None = None) -> float:
    """ROC AUC of the predictor: held-out true edges against as many random non-edges.

    Positives are the edges of ``full`` missing from ``observed``; negatives are uniform random
    pairs of distinct nodes that are not edges of ``full``. The AUC is the probability that a
    random positive outscores a random negative (ties count one half).

    Raises:
        InvalidModelError: no edge is held out, or the graphs' nodes differ from the predictor's.
    """
    index = predictor.index
    if set(full.nodes) != set(index) or set(observed.nodes) != set(index):
        raise InvalidModelError("the full and observed graphs must have the predictor's nodes")
    n = len(index)
    full_edges = _edge_array(full, index)
    held = full_edges[~_contains(_pair_keys(_edge_array(observed, index), n), full_edges[:, 0] * n + full_edges[:, 1])]
    if len(held) == 0:
        raise InvalidModelError("no edge of the full graph is held out of the observed graph: the AUC is undefined")
    negatives = _random_non_edges(len(held), n, _pair_keys(full_edges, n), np.random.default_rng(seed))
    if len(negatives) == 0:
        raise InvalidModelError("the full graph has no non-edges: the AUC is undefined")
    scores = np.concatenate([predictor._logits(held), predictor._logits(negatives)])
    ranks = scipy.stats.rankdata(scores)
    positives = len(held)
    return float((ranks[:positives].sum() - positives * (positives + 1) / 2) / (positives * len(negatives)))


# ---------------------------------------------------------------- communities


def merge_communities(G: nx.Graph, labels: Mapping[Hashable, Hashable], k: int, weight: str | None = None) -> dict[Hashable, int]:
    """Merge communities greedily until at most ``k`` remain, each time the pair that loses least modularity.

    Merging communities :math:`c` and :math:`d` changes the modularity of ``G`` by
    :math:`\\Delta Q = 2\\,(w_{cd}/2m - a_c a_d)`, with :math:`w_{cd}` the weight of the edges
    between them and :math:`a_c` the share of the total degree in :math:`c`; each step takes a
    pair of largest :math:`\\Delta Q` (the agglomeration of Clauset, Newman and Moore, started from
    ``labels``). Communities of total degree 0 are merged first: that changes no :math:`\\Delta Q`
    (each such merge has :math:`\\Delta Q = 0`), so it gives the same modularity as any order.

    Args:
        G: an undirected graph with at least one edge.
        labels: node → community, for every node (any hashable labels).
        k: the most communities to keep, ``k ≥ 1``.
        weight: the edge attribute holding the weight, or None for weight 1.

    Returns:
        node → label in ``0..c-1``, ``c = min(k, communities)``, numbered by first appearance in
        ``G.nodes``. With at most ``k`` communities already, only the labels are renumbered.

    Raises:
        InvalidModelError: a node has no label, or ``G`` has no edges (total weight 0).
        ValueError: ``k`` is not a positive integer.

    Example:
        >>> import networkx as nx
        >>> from gnnsolve.baselines.clustering import merge_communities
        >>> G = nx.Graph([(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 3)])
        >>> merge_communities(G, {v: v for v in G}, 2)
        {0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 1}
    """
    k = _check_positive_int(k, "k")
    nodes = list(G.nodes)
    missing = next((node for node in nodes if node not in labels), None)
    if missing is not None:
        raise InvalidModelError(f"the labels give no community for node {missing!r}")
    numbering: dict[Hashable, int] = {}
    community = np.array([numbering.setdefault(labels[node], len(numbering)) for node in nodes], dtype=np.int64)
    count = len(numbering)
    if count > k:
        community = _agglomerate(G, nodes, community, count, k, weight)
    renumber: dict[int, int] = {}
    return {node: renumber.setdefault(int(c), len(renumber)) for node, c in zip(nodes, community)}


def _agglomerate(G: nx.Graph, nodes: list, community: np.ndarray, count: int, k: int, weight: str | None) -> np.ndarray:
    index = {node: i for i, node in enumerate(nodes)}
    simple = _simple_weighted(G, weight)
    rows, cols, weights = [], [], []
    for u, v, w in simple.edges(data="weight"):
        rows.append(index[u])
        cols.append(index[v])
        weights.append(float(w))
    rows_a, cols_a, weights_a = np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64), np.array(weights)
    degree = np.bincount(rows_a, weights_a, len(nodes)) + np.bincount(cols_a, weights_a, len(nodes))
    two_m = float(degree.sum())
    if two_m <= 0:
        raise InvalidModelError("modularity is undefined on a graph without edges: merge_communities needs edges")
    totals = np.bincount(community, degree, count)
    parent = np.arange(count)
    merges = count - k
    # Communities of degree 0 first: each merge has gain 0 and changes no other gain.
    empty = np.flatnonzero(totals <= 0)
    target = int(np.argmax(totals))
    for c in empty[:merges]:
        parent[c] = target
    merges -= min(merges, len(empty))
    if merges > 0:
        alive = np.flatnonzero(totals > 0)  # every community of degree 0 is folded already
        position = np.full(count, -1)
        position[alive] = np.arange(len(alive))
        cu, cv = community[rows_a], community[cols_a]
        between = (cu != cv) & (weights_a > 0)
        size = len(alive)
        share = scipy.sparse.coo_matrix(
            (weights_a[between] / two_m, (position[cu[between]], position[cv[between]])), shape=(size, size)
        ).toarray()
        share = share + share.T
        a = totals[alive] / two_m
        _greedy_merges(share, a, merges, parent, alive)
    roots = parent.copy()
    while np.any(roots[roots] != roots):
        roots = roots[roots]
    return roots[community]


def _greedy_merges(share: np.ndarray, a: np.ndarray, merges: int, parent: np.ndarray, alive: np.ndarray) -> None:
    """Greedy agglomeration on the ``share`` (:math:`w_{cd}/2m`) matrix; records merges in ``parent``."""
    size = len(a)
    active = np.ones(size, dtype=bool)
    gain = 2.0 * (share - np.outer(a, a))
    np.fill_diagonal(gain, -np.inf)
    best = gain.max(axis=1)
    arg = gain.argmax(axis=1)
    for _ in range(merges):
        i = int(np.argmax(best))
        j = int(arg[i])
        i, j = min(i, j), max(i, j)
        share[i] += share[j]
        share[:, i] += share[:, j]
        a[i] += a[j]
        active[j] = False
        parent[alive[j]] = alive[i]
        row = 2.0 * (share[i] - a[i] * a)
        row[~active] = -np.inf
        row[i] = -np.inf
        gain[i], gain[:, i] = row, row
        gain[j], gain[:, j] = -np.inf, -np.inf
        best[j] = -np.inf
        best[i], arg[i] = row.max(), row.argmax()
        stale = active & ((arg == i) | (arg == j))
        stale[i] = False
        if stale.any():
            best[stale], arg[stale] = gain[stale].max(axis=1), gain[stale].argmax(axis=1)
        better = active & ~stale & (row > best)
        better[i] = False
        best[better], arg[better] = row[better], i


def _louvain(G: nx.Graph, k: int, weight: str | None, seed: int) -> tuple[dict, dict]:
    """Louvain's partition of ``G`` (node → label) and that partition merged down to ``k``."""
    simple = _simple_weighted(G, weight)
    communities = nx.community.louvain_communities(simple, weight="weight", seed=seed)
    first = {node: i for i, node in enumerate(G.nodes)}
    communities = sorted(communities, key=lambda members: min(first[v] for v in members))
    raw = {node: c for c, members in enumerate(communities) for node in members}
    raw = {node: raw[node] for node in G.nodes}
    return raw, merge_communities(simple, raw, k, weight="weight")


def _classical(kind: str, problem: Problem, graph: nx.Graph, seed: int) -> tuple[Any, dict]:
    if kind == "modularity":
        raw, merged = _louvain(graph, problem.k, problem.weight, seed)
        return merged, {"unrestricted_decision": raw, "communities": len(set(raw.values()))}
    return greedy_k_center(graph, problem.k, seed=seed, weight=problem.weight), {}


def _results(name: str, kind: str, problem: Problem, decision: Any, start: float, info: dict) -> BaselineResult:
    raw = info.pop("unrestricted_decision", None)
    seconds = time.perf_counter() - start
    if raw is not None:
        info["unrestricted"] = BaselineResult(
            f"{name}-unrestricted", raw, problem.evaluate(raw), seconds, {"communities": info["communities"]}
        )
    return BaselineResult(name, decision, problem.evaluate(decision), seconds, info)


# ---------------------------------------------------------------- the baselines


def two_stage(
    problem: Problem,
    observed: nx.Graph,
    features: Features = None,
    *,
    epochs: int = 300,
    seed: int | None = None,
    observed_fraction: float = 0.4,
    edge_dropout: float = 0.2,
    threads: int | None = None,
) -> BaselineResult:
    """The two-stage baseline: predict the missing edges, then solve the predicted graph classically.

    Trains :func:`train_link_predictor` on ``observed``, builds :func:`predict_graph` with the
    assumed ``observed_fraction``, then runs Louvain merged to at most ``k`` communities
    (:func:`merge_communities`) or Gonzalez's farthest-first k-center on the predicted graph.

    Args:
        problem: :class:`~gnnsolve.adapters.clustering.Modularity` or
            :class:`~gnnsolve.adapters.kcenter.KCenter` on the full graph; only ``k`` and
            ``weight`` are used before scoring.
        observed: the observed graph: the problem's nodes, a subset of its edges.
        features: ``n × F`` node features in ``problem.nodes`` order, or None (learnable
            embeddings).
        epochs: link-prediction epochs (reference: 300).
        seed: the same seed gives the same result on the CPU; None draws one.
        observed_fraction: the share of edges assumed observed, ``0 < f ≤ 1``.
        edge_dropout: the share of edges dropped from the GCN input each epoch.
        threads: torch's intra-op threads for training and scoring (``None``: chosen from an
            epoch's work).

    Returns:
        :class:`BaselineResult` named ``"two-stage"`` with ``info``: ``predictor``
        (:class:`LinkPredictor`, for :func:`held_out_auc`), ``predicted_graph``,
        ``added_edges``, ``threads``; for modularity also ``communities`` (Louvain's count before merging)
        and ``unrestricted``, the :class:`BaselineResult` of Louvain's own partition (possibly
        more than ``k`` communities).

    Raises:
        InvalidModelError: the observed graph's nodes differ from the problem's, it is
            directed, or it has no edges.
        UnsupportedModelError: ``problem`` is neither kind.
        ValueError: a setting is out of range or ``features`` has the wrong shape.
    """
    start = time.perf_counter()
    threads = check_threads(threads)
    kind, observed = _prepare(problem, observed)
    edges = _edge_array(observed, {node: i for i, node in enumerate(problem.nodes)})
    if edges.size == 0:
        raise InvalidModelError("the two-stage baseline needs at least one observed edge between distinct nodes to learn from")
    train_seed, solve_seed = _seeds(seed, 2)
    with torch_threads(threads, _link_prediction_work(len(problem.nodes), len(edges), features)) as used:
        predictor = train_link_predictor(
            observed, features, epochs=epochs, seed=train_seed, edge_dropout=edge_dropout, threads=used
        )
        predicted = predict_graph(observed, predictor, observed_fraction, weight=problem.weight)
    decision, info = _classical(kind, problem, predicted, solve_seed)
    info.update(predictor=predictor, predicted_graph=predicted, added_edges=predicted.graph["predicted_edges"], threads=used)
    return _results("two-stage", kind, problem, decision, start, info)


def gcn_e2e(
    problem: Problem,
    observed: nx.Graph,
    features: Features = None,
    *,
    epochs: int = 1001,
    seed: int | None = None,
    check_every: int = 100,
    roundings: int = 50,
    threads: int | None = None,
) -> BaselineResult:
    """GCN-e2e: a GCN that outputs the decision, trained on the observed graph's soft objective.

    Modularity: a softmax over ``k`` outputs per node gives soft assignments :math:`r`; the loss
    is ``-Modularity(observed, k).soft_objective(r)``; the decision is each node's argmax.

    k-center: a sigmoid per node gives :math:`x`, rescaled to :math:`k x / \\sum x` when
    :math:`\\sum x > k`; the loss is ``KCenter(observed, k).soft_objective(x, beta=0)``, the mean
    over nodes of the expected distance to the nearest facility (the reference code trains on
    the mean). The decision is the best, by that objective on 0/1 selections, of ``roundings``
    pipage roundings of :math:`x` lifted to sum exactly ``k`` (the missing mass is spread in
    proportion to :math:`1 - x_j`).

    Every ``check_every`` epochs (and after the last) the network is run without dropout and
    its output kept if its training loss is the lowest so far, as in the reference code.

    Args:
        problem, observed, features, seed: as :func:`two_stage`.
        epochs: training epochs (reference: 1001).
        check_every: epochs between checks of the training loss.
        roundings: pipage roundings tried (k-center).
        threads: torch's intra-op threads for the training (``None``: chosen from an epoch's work).

    Returns:
        :class:`BaselineResult` named ``"gcn-e2e"``; ``info`` holds ``training_loss`` (the best
        checked), ``threads`` and, for k-center, ``soft_selection`` (the lifted :math:`x`, in
        ``problem.nodes`` order).

    Raises:
        As :func:`two_stage`.
    """
    start = time.perf_counter()
    kind, observed = _prepare(problem, observed)
    epochs = _check_positive_int(epochs, "epochs")
    check_every = _check_positive_int(check_every, "check_every")
    roundings = _check_positive_int(roundings, "roundings")
    threads = check_threads(threads)
    nodes, k = problem.nodes, problem.k
    n = len(nodes)
    inputs = _Inputs(features, n)
    edges = _edge_array(observed, {node: i for i, node in enumerate(nodes)})
    operator = _gcn_operator(edges, n)
    torch_seed, rounding_seed = _seeds(seed, 2)
    if kind == "modularity":
        surrogate: Problem = Modularity(observed, k, weight=problem.weight)

        def decide(out: torch.Tensor) -> torch.Tensor:
            return torch.softmax(out, dim=1)

        def loss_of(decision: torch.Tensor) -> torch.Tensor:
            return -surrogate.soft_objective(decision)
    else:
        surrogate = KCenter(observed, k, weight=problem.weight)

        def decide(out: torch.Tensor) -> torch.Tensor:
            x = torch.sigmoid(out.squeeze(1))
            total = x.sum()
            return x * (k / total) if total > k else x

        def loss_of(decision: torch.Tensor) -> torch.Tensor:
            return surrogate.soft_objective(decision, beta=0.0)

    best_loss, best = math.inf, None
    out_dim = k if kind == "modularity" else 1
    loss_work = (2 * len(edges) + n) * k if kind == "modularity" else 6 * n * n
    work = _gcn_work(n, len(edges), _feature_width(features), out_dim, loss_work)
    with torch_threads(threads, work) as used, torch.random.fork_rng(devices=[]):
        torch.manual_seed(torch_seed)
        gcn = _GCN(inputs, out_dim)
        optimiser = torch.optim.Adam(gcn.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
        for epoch in range(epochs):
            gcn.train()
            loss = loss_of(decide(gcn(operator)))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            if epoch % check_every == 0 or epoch == epochs - 1:
                gcn.eval()
                with torch.no_grad():
                    decision = decide(gcn(operator))
                    value = float(loss_of(decision))
                if value < best_loss or best is None:
                    best_loss, best = value, decision
    assert best is not None, "the last epoch is always checked"
    info: dict[str, Any] = {"training_loss": best_loss, "threads": used}
    if kind == "modularity":
        communities = best.argmax(dim=1).tolist()
        chosen: Any = {node: int(c) for node, c in zip(nodes, communities)}
    else:
        assert isinstance(surrogate, KCenter)  # kind is k-center
        x = lift_to_k(best.numpy(), k)
        rng = np.random.default_rng(rounding_seed)
        capped = surrogate.capped_distances
        position = {node: i for i, node in enumerate(nodes)}
        chosen, best_mean = None, math.inf
        for _ in range(roundings):
            candidate = surrogate.round_selection(x, "pipage", seed=rng)
            mean = float(capped[:, [position[v] for v in candidate]].min(axis=1).mean())
            if mean < best_mean:
                chosen, best_mean = candidate, mean
        info["soft_selection"] = x
    return _results("gcn-e2e", kind, problem, chosen, start, info)


def classical_on_observed(problem: Problem, observed: nx.Graph, *, seed: int | None = None) -> BaselineResult:
    """The classical algorithm on the observed graph alone, scored on the full graph.

    Modularity: Louvain on the observed graph, merged to at most ``k`` communities
    (:func:`merge_communities`); ``info["unrestricted"]`` is Louvain's own partition, scored.
    k-center: Gonzalez's farthest-first traversal on the observed graph.

    Returns:
        :class:`BaselineResult` named ``"observed"``.

    Raises:
        As :func:`two_stage`.
    """
    start = time.perf_counter()
    kind, observed = _prepare(problem, observed)
    (solve_seed,) = _seeds(seed, 1)
    decision, info = _classical(kind, problem, observed, solve_seed)
    return _results("observed", kind, problem, decision, start, info)
