"""PI-GNN: a physics-inspired graph network whose loss is a relaxed QUBO energy.

Implements the network of Schuetz, Brubaker and Katzgraber, "Combinatorial optimization with
physics-inspired graph neural networks", Nature Machine Intelligence 4, 367–377 (2022):
a learnable node embedding, two graph convolutions with a ReLU between them, and a sigmoid that
gives each node's probability of taking value 1.

``num_replicas`` independent networks (one per read) are held in stacked parameter tensors and
run in one forward pass. Each replica has its own embedding and weights; what they share is the
graph, so every neighbourhood aggregation is a single sparse product over all replicas'
features laid side by side (``[n, replicas * width]``). The layers compute exactly what
``torch_geometric.nn.GCNConv`` and ``SAGEConv`` (mean aggregation) compute for one replica
(the tests check this against those layers with copied weights); the normalised adjacency is
built by ``torch_geometric``'s own ``gcn_norm``.

Example:
    >>> import torch
    >>> from gnnsolve.nn.pignn import PIGNN, GraphOperators
    >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    >>> graph = GraphOperators.build(edge_index, num_nodes=3, conv="gcn")
    >>> net = PIGNN(num_nodes=3, num_replicas=4, embedding_dim=5, hidden_dim=3, conv="gcn",
    ...             generator=torch.Generator().manual_seed(0))
    >>> net(graph).shape
    torch.Size([4, 3])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import degree

from gnnsolve.nn.sparse import SparseOperator

__all__ = ["CONVOLUTIONS", "GraphOperators", "ReplicaGCNConv", "ReplicaSAGEConv", "PIGNN"]

CONVOLUTIONS = ("gcn", "sage", "signed")


@dataclass(frozen=True)
class GraphOperators:
    """The sparse operators a convolution needs, built once per graph.

    ``gcn``: :math:`\\hat A = D^{-1/2}(A + I)D^{-1/2}` (symmetric).
    ``sage``: the mean over neighbours, :math:`D^{-1}A` (isolated nodes aggregate to zero).
    ``signed``: the couplings themselves, :math:`D^{-1/2}(I - \\tilde J)D^{-1/2}` with
    :math:`\\tilde J = J / \\operatorname{mean}|J|` and :math:`D = I + \\operatorname{diag}(|\\tilde J| \\mathbf 1)`:
    a GCN whose messages carry the sign and size of each coupling (a positive coupling,
    which rewards its ends for differing, sends a neighbour's features negated), so that
    frustrated models are not seen as plain graphs. Needs ``weight``, the coupling of each edge.
    """

    conv: str
    propagate: SparseOperator
    num_nodes: int

    @classmethod
    def build(
        cls, edge_index: torch.Tensor, num_nodes: int, conv: str = "gcn", weight: torch.Tensor | None = None
    ) -> "GraphOperators":
        """The operator of ``conv`` for the graph ``edge_index`` (both directions of each edge);
        ``weight``, one value per column of ``edge_index``, is the coupling ``signed`` needs."""
        if conv not in CONVOLUTIONS:
            raise ValueError(f"conv must be one of {CONVOLUTIONS}, got {conv!r}")
        if conv == "signed":
            if weight is None:
                raise ValueError("conv='signed' needs the weight (coupling) of every edge")
            return cls(conv, _signed_operator(edge_index, weight, num_nodes), num_nodes)
        if conv == "gcn":
            index, weight = gcn_norm(edge_index, None, num_nodes, add_self_loops=True)
            operator = SparseOperator.from_coo(index[1], index[0], weight, num_nodes, symmetric=True)
        else:
            src, dst = edge_index
            deg = degree(dst, num_nodes).clamp(min=1)
            operator = SparseOperator.from_coo(dst, src, 1.0 / deg[dst], num_nodes)
        return cls(conv, operator, num_nodes)

    def to(self, device: torch.device | str) -> "GraphOperators":
        return GraphOperators(self.conv, self.propagate.to(device), self.num_nodes)

    def aggregate(self, h: torch.Tensor) -> torch.Tensor:
        """Apply the propagation operator to every replica's features ``h`` of shape ``[R, n, k]``."""
        replicas, n, width = h.shape
        stacked = h.permute(1, 0, 2).reshape(n, replicas * width)
        return self.propagate.matmul(stacked).reshape(n, replicas, width).permute(1, 0, 2)


def _signed_operator(edge_index: torch.Tensor, weight: torch.Tensor, num_nodes: int) -> SparseOperator:
    """:math:`D^{-1/2}(I - \\tilde J)D^{-1/2}` of :class:`GraphOperators`'s ``signed``."""
    weight = weight.to(torch.float32)
    scale = weight.abs().mean() if weight.numel() else torch.tensor(1.0)
    coupling = weight / torch.where(scale > 0, scale, torch.ones_like(scale))
    src, dst = edge_index
    deg = torch.ones(num_nodes).index_add_(0, dst, coupling.abs())
    norm = deg.rsqrt()
    loops = torch.arange(num_nodes)
    rows = torch.cat([dst, loops])
    cols = torch.cat([src, loops])
    values = torch.cat([-coupling * norm[dst] * norm[src], norm * norm])
    return SparseOperator.from_coo(rows, cols, values, num_nodes, symmetric=True)


def _uniform_(tensor: torch.Tensor, fan_in: int, generator: torch.Generator | None) -> None:
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    nn.init.uniform_(tensor, -bound, bound, generator=generator)


def _glorot_(tensor: torch.Tensor, generator: torch.Generator | None) -> None:
    fan_in, fan_out = tensor.shape[-2], tensor.shape[-1]
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    nn.init.uniform_(tensor, -bound, bound, generator=generator)


class ReplicaGCNConv(nn.Module):
    """GCN layer (Kipf & Welling 2017) with separate weights per replica.

    .. math::

        X'_r = \\hat A \\, X_r W_r + b_r

    Shapes: input ``[R, n, in]``, output ``[R, n, out]``.
    """

    def __init__(self, num_replicas: int, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_replicas, in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(num_replicas, 1, out_channels))

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        _glorot_(self.weight, generator)
        nn.init.zeros_(self.bias)

    def forward(self, x: torch.Tensor, graph: GraphOperators) -> torch.Tensor:
        return graph.aggregate(torch.bmm(x, self.weight)) + self.bias


class ReplicaSAGEConv(nn.Module):
    """GraphSAGE layer with mean aggregation (Hamilton et al. 2017), separate weights per replica.

    .. math::

        x'_{r,i} = W_{r,1} x_{r,i} + W_{r,2} \\operatorname{mean}_{j \\in N(i)} x_{r,j} + b_r

    The neighbour weights are applied before the mean (the same result, on narrower features).
    """

    def __init__(self, num_replicas: int, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.weight_neighbours = nn.Parameter(torch.empty(num_replicas, in_channels, out_channels))
        self.weight_root = nn.Parameter(torch.empty(num_replicas, in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(num_replicas, 1, out_channels))

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        fan_in = self.weight_root.shape[1]
        _uniform_(self.weight_neighbours, fan_in, generator)
        _uniform_(self.weight_root, fan_in, generator)
        _uniform_(self.bias, fan_in, generator)

    def forward(self, x: torch.Tensor, graph: GraphOperators) -> torch.Tensor:
        neighbours = graph.aggregate(torch.bmm(x, self.weight_neighbours))
        return neighbours + torch.bmm(x, self.weight_root) + self.bias


class PIGNN(nn.Module):
    """Embedding → conv → ReLU → (dropout) → conv → sigmoid, for ``num_replicas`` independent nets.

    Args:
        num_nodes: nodes of the graph (variables of the model).
        num_replicas: independent networks trained side by side (one per read).
        embedding_dim: width of the learnable node embedding (PI-GNN uses about sqrt(n)).
        hidden_dim: width after the first convolution (PI-GNN uses half the embedding).
        conv: ``"gcn"``, ``"sage"`` or ``"signed"`` (a GCN layer on the signed operator).
        dropout: dropout between the convolutions (PI-GNN uses 0).
        generator: torch generator for the initialisation (reproducible seeds).
    """

    def __init__(
        self,
        num_nodes: int,
        num_replicas: int,
        embedding_dim: int,
        hidden_dim: int,
        conv: str = "gcn",
        dropout: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if conv not in CONVOLUTIONS:
            raise ValueError(f"conv must be one of {CONVOLUTIONS}, got {conv!r}")
        layer = ReplicaSAGEConv if conv == "sage" else ReplicaGCNConv
        self.conv = conv
        self.embedding = nn.Parameter(torch.empty(num_replicas, num_nodes, embedding_dim))
        self.conv1 = layer(num_replicas, embedding_dim, hidden_dim)
        self.conv2 = layer(num_replicas, hidden_dim, 1)
        self.dropout = nn.Dropout(dropout)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        nn.init.normal_(self.embedding, generator=generator)
        self.conv1.reset_parameters(generator)
        self.conv2.reset_parameters(generator)

    def forward(self, graph: GraphOperators) -> torch.Tensor:
        """Probabilities of value 1, shape ``[num_replicas, num_nodes]``."""
        h = torch.relu(self.conv1(self.embedding, graph))
        h = self.conv2(self.dropout(h), graph)
        return torch.sigmoid(h.squeeze(-1))
