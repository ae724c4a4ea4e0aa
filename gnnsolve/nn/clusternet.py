r"""ClusterNet: a GCN whose node embeddings feed a differentiable soft k-means layer.

Implements the network of Wilder, Ewing, Dilkina and Tambe, "End to End Learning and
Optimization on Graphs", NeurIPS 2019. A two-layer graph convolution (Kipf and Welling) embeds
the nodes,

.. math::

    Z = \hat A\, \operatorname{dropout}\!\big(\operatorname{ReLU}(\hat A X W_1)\big)\, W_2,
    \qquad \hat A = D^{-1/2}(A + I)D^{-1/2},

and the soft k-means layer (:mod:`gnnsolve.nn.kmeans`) clusters the unit-length rows of
:math:`Z` into :math:`k` soft clusters :math:`r` with centres :math:`\mu`. When the nodes carry no
features, :math:`X` is a learnable ``n × embedding_dim`` table (one row per node), which ties the
network to the graph it was built for.

The convolutions are sparse-times-dense products with :math:`\hat A` built once
(:func:`normalized_adjacency`, a :class:`~gnnsolve.nn.sparse.SparseOperator`), each taken at the
narrower of its two widths (:math:`\hat A (X W)` or :math:`(\hat A X) W`); features may be a
sparse CSR tensor with its transpose (:func:`sparse_features`), as bag-of-words features are. An
epoch thus costs :math:`O(|E|(h + d) + n k d)` besides :math:`X W_1`, with no ``n × n``
temporary: at 20,000 nodes and 400,000 directed edges, about 25 times less than message passing
by gather and scatter (``GCNConv``).

The k-means is warm-started: each forward pass starts from the centres the previous one ended
with (the buffer :attr:`ClusterNet.centres`, uniform random at first), runs ``iterations``
updates without gradient and one more, differentiable update (``backward="one_step"``, the
paper's approximation, or ``"exact"``, the implicit gradient).

:meth:`ClusterNet.start_from` replaces the paper's random start by one read from the graph. The
learnable table becomes a spectral embedding of the graph, :math:`\sqrt n\,U` with :math:`U`
the orthonormal basis that subspace iteration on the lazy walk :math:`(I + \hat A)/2` reaches
from a Gaussian one (:func:`subspace_embedding`; Halko, Martinsson and Tropp 2011; cf. power
iteration clustering, Lin and Cohen 2010): nodes of one community start close. The centres
become k-means++ picks among the embeddings (Arthur and Vassilvitskii 2007), left soft: refined
to a k-means fixed point first, the assignments are so hard at :math:`\beta = 30` that training
from them stalled on small graphs (karate, caveman graphs with random features). From a random table the soft k-means merges every node into one cluster
within a few epochs on a 20,000-node planted partition (modularity 0 after 1001 epochs); from
the spectral one the first decision already has 0.994 of the planted modularity.

For k-center, :meth:`ClusterNet.facility_weights` turns the clustering into soft facility
selections: with unit-length embeddings :math:`\hat z_i`,

.. math::

    x_i = \sum_c \operatorname{softmax}_i\big(\beta_{kc}\, \hat z_i^\top \mu_c\big), \qquad
    x \leftarrow 2\big(\sigma(4x) - \tfrac12\big), \qquad
    x \leftarrow \frac{k\, x}{\sum_j x_j} \text{ if } \sum_j x_j > k,

each centre placing its unit of mass on the nodes most similar to it.

Example:
    >>> import torch
    >>> from gnnsolve.nn.clusternet import ClusterNet
    >>> _ = torch.manual_seed(0)
    >>> edge_index = torch.tensor([[0, 1, 1, 2, 3, 4, 4, 5], [1, 0, 2, 1, 4, 3, 5, 4]])
    >>> net = ClusterNet(in_features=None, k=2, num_nodes=6)
    >>> embeddings, clusters = net(None, edge_index, iterations=5)
    >>> clusters.assignments.shape, net.facility_weights(embeddings, clusters.centres).shape
    (torch.Size([6, 2]), torch.Size([6]))
    >>> round(clusters.assignments.sum().item(), 4)
    6.0
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real
from typing import NamedTuple, TypeAlias

import torch
import torch.nn.functional as F
from torch import nn

from gnnsolve.nn.kmeans import BACKWARDS, KMeansResult, kmeans_plus_plus, soft_kmeans
from gnnsolve.nn.sparse import SparseOperator, spmm

__all__ = [
    "ClusterNet",
    "ClusterNetOutput",
    "GraphConvolution",
    "SparseFeatures",
    "check_settings",
    "normalized_adjacency",
    "sparse_features",
    "subspace_embedding",
]

ORTHONORMALISE_EVERY = 5
"""Steps of subspace iteration between two orthonormalisations (the columns stay independent)."""


def subspace_embedding(
    adjacency: SparseOperator, dim: int, iterations: int = 40, generator: torch.Generator | None = None
) -> torch.Tensor:
    r"""An ``n × dim`` orthonormal basis of the leading invariant subspace of the lazy walk
    :math:`(I + \hat A)/2`, by ``iterations`` steps of subspace iteration from a Gaussian basis
    (re-orthonormalised every :data:`ORTHONORMALISE_EVERY` steps), times :math:`\sqrt n`; on a
    graph of fewer than ``dim`` nodes, the columns past the ``n``-th are zero.

    The lazy walk's eigenvalues lie in :math:`[0, 1]`, so the iteration favours the slow-mixing
    directions (communities, components) and never oscillating ones. Costs ``iterations``
    sparse products of width ``dim``.

    Example:
        >>> import torch
        >>> from gnnsolve.nn.clusternet import normalized_adjacency, subspace_embedding
        >>> two_pairs = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
        >>> u = subspace_embedding(normalized_adjacency(two_pairs, 4), 2, generator=torch.Generator().manual_seed(0))
        >>> bool(torch.allclose(u[0], u[1], atol=1e-4)), bool(torch.allclose(u[0], u[2], atol=1e-4))
        (True, False)
    """
    n = adjacency.matrix.shape[0]
    device = adjacency.matrix.device
    basis = torch.randn(n, min(n, dim), generator=generator, device=device)
    with torch.no_grad():
        for step in range(iterations):
            basis = (basis + adjacency.matmul(basis)) / 2
            if step % ORTHONORMALISE_EVERY == ORTHONORMALISE_EVERY - 1:
                basis = torch.linalg.qr(basis).Q
        return F.pad(torch.linalg.qr(basis).Q * math.sqrt(n), (0, dim - basis.shape[1]))


def normalized_adjacency(edge_index: torch.Tensor, num_nodes: int) -> SparseOperator:
    r""":math:`\hat A = D^{-1/2}(A + I)D^{-1/2}` of the graph ``edge_index`` (``2 × E``, both
    directions of each edge), as a sparse operator; given self-loops are replaced by the unit one
    and repeated edges add up, as in Kipf and Welling's GCN.

    Example:
        >>> import torch
        >>> from gnnsolve.nn.clusternet import normalized_adjacency
        >>> op = normalized_adjacency(torch.tensor([[0, 1], [1, 0]]), 2)
        >>> op.matmul(torch.ones(2, 1)).ravel().round(decimals=4).tolist()
        [1.0, 1.0]
    """
    rows, cols = edge_index.to(torch.long)
    off = rows != cols
    loops = torch.arange(num_nodes, device=edge_index.device)
    rows, cols = torch.cat([rows[off], loops]), torch.cat([cols[off], loops])
    degree = torch.zeros(num_nodes, device=edge_index.device).index_add_(
        0, rows, torch.ones(rows.shape[0], device=edge_index.device)
    )
    scale = degree.rsqrt()
    return SparseOperator.from_coo(rows, cols, scale[rows] * scale[cols], num_nodes)


class SparseFeatures(NamedTuple):
    """An ``n × F`` feature matrix in CSR form with its transpose (the backward of :math:`X W`)."""

    matrix: torch.Tensor
    matrix_t: torch.Tensor

    @property
    def shape(self) -> torch.Size:
        return self.matrix.shape

    def dim(self) -> int:
        return 2


Features: TypeAlias = torch.Tensor | SparseFeatures
"""Node features: a dense ``n × F`` tensor or its :func:`sparse_features`."""


def sparse_features(features: torch.Tensor) -> SparseFeatures:
    """``features`` (dense, ``n × F``) in the sparse form :class:`ClusterNet` multiplies fast.

    Example:
        >>> import torch
        >>> from gnnsolve.nn.clusternet import sparse_features
        >>> sparse_features(torch.eye(3)).shape
        torch.Size([3, 3])
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta state")
        return SparseFeatures(features.to_sparse_csr(), features.T.to_sparse_csr())


class GraphConvolution(nn.Module):
    r"""One graph convolution :math:`\hat A X W + b` (Kipf and Welling, ICLR 2017) over a fixed
    :math:`\hat A` (:func:`normalized_adjacency`); :math:`W` is ``lin.weight``, Glorot-initialised,
    and :math:`b` starts at zero, as in PyTorch Geometric's ``GCNConv``."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.lin.weight)
        nn.init.zeros_(self.bias)

    def forward(self, x: Features, adjacency: SparseOperator) -> torch.Tensor:
        if isinstance(x, SparseFeatures):
            projected = spmm(x.matrix, x.matrix_t, self.lin.weight.T)
        elif x.shape[1] <= self.lin.out_features:
            return self.lin(adjacency.matmul(x)) + self.bias
        else:
            projected = self.lin(x)
        return adjacency.matmul(projected) + self.bias


class ClusterNetOutput(NamedTuple):
    """What :class:`ClusterNet` returns: the GCN's node embeddings and the soft clustering."""

    embeddings: torch.Tensor
    clusters: KMeansResult


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_settings(hidden: int, embedding_dim: int, dropout: float, beta: float, backward: str) -> None:
    """Raise ValueError unless the widths are positive integers, ``0 <= dropout < 1``, ``beta`` is
    finite and positive and ``backward`` is one of :data:`~gnnsolve.nn.kmeans.BACKWARDS`."""
    _positive_int("hidden", hidden)
    _positive_int("embedding_dim", embedding_dim)
    if isinstance(dropout, bool) or not isinstance(dropout, Real) or not 0 <= dropout < 1:
        raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
    if isinstance(beta, bool) or not isinstance(beta, Real) or not math.isfinite(beta) or beta <= 0:
        raise ValueError(f"beta must be a finite positive number, got {beta!r}")
    if backward not in BACKWARDS:
        raise ValueError(f"backward must be one of {BACKWARDS}, got {backward!r}")


class ClusterNet(nn.Module):
    """GCN encoder and soft k-means, as in ClusterNet; see the module docstring.

    Args:
        in_features: width of the node features, or ``None`` for a learnable embedding table.
        k: number of clusters.
        hidden: width of the first convolution.
        embedding_dim: width of the embeddings (and of the learnable table).
        dropout: dropout probability between the convolutions, in ``[0, 1)``.
        beta: inverse temperature of the soft k-means.
        backward: ``"one_step"`` or ``"exact"`` (see :mod:`gnnsolve.nn.kmeans`).
        num_nodes: number of nodes; required (and only allowed) with ``in_features=None``.

    Raises:
        ValueError: a setting is out of range, or ``num_nodes`` does not match ``in_features``.
    """

    centres: torch.Tensor

    def __init__(
        self,
        in_features: int | None,
        k: int,
        hidden: int = 50,
        embedding_dim: int = 50,
        dropout: float = 0.5,
        beta: float = 30.0,
        backward: str = "one_step",
        num_nodes: int | None = None,
    ) -> None:
        super().__init__()
        check_settings(hidden, embedding_dim, dropout, beta, backward)
        k, hidden, embedding_dim = _positive_int("k", k), int(hidden), int(embedding_dim)
        if in_features is None:
            num_nodes = _positive_int("num_nodes", num_nodes)
            self.node_embedding: nn.Embedding | None = nn.Embedding(num_nodes, embedding_dim)
            width = embedding_dim
        elif num_nodes is not None:
            raise ValueError("num_nodes is only for the learnable embedding table (in_features=None)")
        else:
            width = _positive_int("in_features", in_features)
            self.node_embedding = None
        self.in_features, self.k, self.dropout = in_features, k, float(dropout)
        self.beta, self.backward = float(beta), backward
        self.conv1 = GraphConvolution(width, hidden)
        self.conv2 = GraphConvolution(hidden, embedding_dim)
        self.register_buffer("centres", torch.rand(k, embedding_dim))

    def encode(self, features: Features | None, graph: torch.Tensor | SparseOperator) -> torch.Tensor:
        """The node embeddings :math:`Z` (``n × embedding_dim``) over ``graph``: an ``edge_index``
        or, built once for many calls, its :func:`normalized_adjacency`.

        Raises:
            ValueError: features are given to a network with an embedding table, or missing or
                of the wrong width for one without.
        """
        x: Features
        if self.node_embedding is not None:
            if features is not None:
                raise ValueError("this ClusterNet learns its own node embeddings; pass features=None")
            x = self.node_embedding.weight
        elif features is None or features.dim() != 2 or features.shape[1] != self.in_features:
            shape = None if features is None else tuple(features.shape)
            raise ValueError(f"features must be a tensor of shape (n, {self.in_features}), got {shape}")
        else:
            x = features
        if not isinstance(graph, SparseOperator):
            graph = normalized_adjacency(graph, x.shape[0])
        x = F.relu(self.conv1(x, graph))
        x = F.dropout(x, self.dropout, training=self.training)
        return self.conv2(x, graph)

    def forward(self, features: Features | None, graph: torch.Tensor | SparseOperator, iterations: int = 1) -> ClusterNetOutput:
        """Embed, then cluster from the warm-start centres, which become the new ones.

        Args:
            features: ``n × in_features`` node features (dense, or :func:`sparse_features`), or
                ``None`` with the embedding table.
            graph: ``2 × E`` edges, both directions of each undirected edge, or their
                :func:`normalized_adjacency`.
            iterations: k-means updates without gradient before the differentiable one.
        """
        embeddings = self.encode(features, graph)
        clusters = soft_kmeans(
            embeddings, self.k, beta=self.beta, init=self.centres, max_iterations=iterations, backward=self.backward
        )
        self.centres = clusters.centres.detach()
        return ClusterNetOutput(embeddings, clusters)

    def start_from(self, features: Features | None, graph: SparseOperator, generator: torch.Generator | None = None) -> None:
        """Start from the graph (see the module docstring): the learnable table, if any, becomes
        :func:`subspace_embedding` of ``graph``; the centres, k-means++ picks among the
        unit-length embeddings (without dropout)."""
        with torch.no_grad():
            if self.node_embedding is not None:
                table = self.node_embedding.weight
                table.copy_(subspace_embedding(graph, table.shape[1], generator=generator))
            training = self.training
            self.eval()
            embeddings = F.normalize(self.encode(features, graph), dim=1)
            self.train(training)
            self.centres = kmeans_plus_plus(embeddings, self.k, generator)

    def facility_weights(self, embeddings: torch.Tensor, centres: torch.Tensor, temperature: float = 100.0) -> torch.Tensor:
        """Soft selections of ``k`` facilities in ``[0, 1]``, summing to at most ``k``.

        Args:
            embeddings: ``n × d`` node embeddings (scaled to unit length here).
            centres: ``k × d`` cluster centres.
            temperature: the inverse temperature :math:`\\beta_{kc}` of the softmax over nodes.
        """
        similarity = F.normalize(embeddings, dim=1) @ centres.T
        x = torch.softmax(temperature * similarity, dim=0).sum(dim=1)
        x = 2 * (torch.sigmoid(4 * x) - 0.5)
        total = x.sum()
        return x * (self.k / total) if total > self.k else x

    def extra_repr(self) -> str:
        return f"k={self.k}, beta={self.beta}, dropout={self.dropout}, backward={self.backward!r}"
