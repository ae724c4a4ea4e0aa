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

The k-means is warm-started: each forward pass starts from the centres the previous one ended
with (the buffer :attr:`ClusterNet.centres`, uniform random at first), runs ``iterations``
updates without gradient and one more, differentiable update (``backward="one_step"``, the
paper's approximation, or ``"exact"``, the implicit gradient).

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
from numbers import Integral, Real
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GCNConv

from gnnsolve.nn.kmeans import BACKWARDS, KMeansResult, soft_kmeans

__all__ = ["ClusterNet", "ClusterNetOutput", "check_settings"]


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

    def __init__(self, in_features: int | None, k: int, hidden: int = 50, embedding_dim: int = 50,
                 dropout: float = 0.5, beta: float = 30.0, backward: str = "one_step",
                 num_nodes: int | None = None) -> None:
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
        self.conv1 = GCNConv(width, hidden)
        self.conv2 = GCNConv(hidden, embedding_dim)
        self.register_buffer("centres", torch.rand(k, embedding_dim))

    def encode(self, features: torch.Tensor | None, edge_index: torch.Tensor) -> torch.Tensor:
        """The node embeddings :math:`Z` (``n × embedding_dim``).

        Raises:
            ValueError: features are given to a network with an embedding table, or missing or
                of the wrong width for one without.
        """
        if self.node_embedding is not None:
            if features is not None:
                raise ValueError("this ClusterNet learns its own node embeddings; pass features=None")
            x = self.node_embedding.weight
        elif features is None or features.dim() != 2 or features.shape[1] != self.in_features:
            shape = None if features is None else tuple(features.shape)
            raise ValueError(f"features must be a tensor of shape (n, {self.in_features}), got {shape}")
        else:
            x = features
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, self.dropout, training=self.training)
        return self.conv2(x, edge_index)

    def forward(self, features: torch.Tensor | None, edge_index: torch.Tensor,
                iterations: int = 1) -> ClusterNetOutput:
        """Embed, then cluster from the warm-start centres, which become the new ones.

        Args:
            features: ``n × in_features`` node features, or ``None`` with the embedding table.
            edge_index: ``2 × E`` edges, both directions of each undirected edge.
            iterations: k-means updates without gradient before the differentiable one.
        """
        embeddings = self.encode(features, edge_index)
        clusters = soft_kmeans(embeddings, self.k, beta=self.beta, init=self.centres,
                               max_iterations=iterations, backward=self.backward)
        self.centres = clusters.centres.detach()
        return ClusterNetOutput(embeddings, clusters)

    def facility_weights(self, embeddings: torch.Tensor, centres: torch.Tensor,
                         temperature: float = 100.0) -> torch.Tensor:
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
