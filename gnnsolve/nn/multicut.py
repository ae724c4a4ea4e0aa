r"""The policy and value network of multicut planning by edge contraction.

The network reads a state of :class:`~gnnsolve.search.contraction.ContractionEnv`: the graph
of the current clusters, whose edges join adjacent clusters and carry their inter-cluster
weight :math:`W'_{kl}`. Weights are divided by the state's largest :math:`|W'_{kl}|`, so the
network sees the same input for a graph and any positive multiple of it.

- Node (cluster) features, :data:`NODE_FEATURES`: the cluster's share of the nodes and its
  log-size, its total positive and negative weight to other clusters and its largest positive
  one, its number of adjacent clusters (share of the others), and the share of clusters left.
- Pair features, :data:`EDGE_FEATURES`, of each contractible pair (positive weight): the
  weight, a constant, the weight relative to the largest positive weight at either end (mean
  and minimum of the two ratios: 1 for the pair greedy contraction takes at both ends) and
  relative to both ends' total positive weight.

An input layer lifts the cluster features to ``hidden`` channels; ``layers`` residual signed
convolutions follow, which average the neighbours' embeddings weighted by attraction and by
repulsion separately (a signed GIN-style layer; :math:`D_v` is one plus the number of clusters
adjacent to :math:`v`):

.. math::

    h_v \leftarrow h_v + \mathrm{ReLU}\Big(\Theta \Big[h_v,\
    \tfrac{1}{D_v} \sum_{u} \max(W'_{uv}, 0)\, h_u,\
    \tfrac{1}{D_v} \sum_{u} \max(-W'_{uv}, 0)\, h_u\Big]\Big).

For one state both sums are products of a dense :math:`c \times c` matrix with the embeddings,
which on a CPU is faster than gathering and scattering messages along the edges; stacked states
(training) use block-diagonal sparse matrices, the same arithmetic, and a batch of states at
search time (:meth:`ContractionPolicy.forward_padded`) dense matrices padded to the largest.

The policy scores each contractible pair :math:`\{k, l\}` by
:math:`w^\top \mathrm{ReLU}\big(A(h_k + h_l) + (B h_k) \odot (B h_l) + C e_{kl} + b\big)`,
symmetric in :math:`k, l`, with :math:`A h` and :math:`B h` computed once per cluster; a
softmax over the pairs of a state is the prior of the search. The value head, an MLP of the
mean and maximum of the :math:`h_v`, predicts through a sigmoid the share of the state's
positive inter-cluster weight (:attr:`~gnnsolve.search.contraction.ContractionEnv.positive_weight`)
that the best completion still earns (the reward of contracting is at most that weight).

References:
    "Universal Spatial GNN-RL Planning for Active Edge Contraction Graph Partitioning".

    K. Xu, W. Hu, J. Leskovec and S. Jegelka, "How Powerful are Graph Neural Networks?",
    ICLR 2019 (GIN).

Example:
    >>> import networkx as nx, torch
    >>> from gnnsolve.nn.multicut import ContractionPolicy, encode_state
    >>> from gnnsolve.search.contraction import ContractionEnv
    >>> G = nx.Graph([(0, 1, {"weight": 3.0}), (1, 2, {"weight": 1.0}), (0, 2, {"weight": -2.0})])
    >>> state = encode_state(ContractionEnv.from_graph(G))
    >>> state.pairs.tolist()
    [[0, 1], [1, 2]]
    >>> _ = torch.manual_seed(0)
    >>> logits, value = ContractionPolicy().forward_state(state)
    >>> logits.shape, value.shape
    (torch.Size([2]), torch.Size([1]))
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import torch
from torch import nn
from torch_geometric.utils import scatter

from gnnsolve.errors import FileFormatError
from gnnsolve.search.contraction import ContractionEnv

__all__ = [
    "ContractionPolicy",
    "EncodedState",
    "encode_state",
    "load_policy",
    "save_policy",
    "NODE_FEATURES",
    "EDGE_FEATURES",
    "CHECKPOINT_FORMAT",
    "DEFAULT_CHECKPOINT",
]

NODE_FEATURES = 7
"""Features per cluster (see the module docstring)."""
EDGE_FEATURES = 5
"""Features per pair of adjacent clusters (see the module docstring)."""
CHECKPOINT_FORMAT = "gnnsolve.multicut_policy/1"
"""The ``format`` entry every checkpoint of :class:`ContractionPolicy` carries."""
DEFAULT_CHECKPOINT = "multicut_policy.pt"
"""The checkpoint shipped in ``gnnsolve/data``, trained by :mod:`gnnsolve.train_multicut`."""


@dataclass(frozen=True)
class EncodedState:
    r"""A state as network input, clusters in ``ContractionEnv.clusters()`` order.

    Attributes:
        x: ``c × NODE_FEATURES`` cluster features.
        attraction, repulsion: ``c × c`` matrices :math:`D^{-1} \max(\pm W', 0)` of the
            normalised weights, :math:`D` the number of adjacent clusters plus one (dense for one
            state, sparse when states are stacked).
        pair_index: ``2 × m`` positions of the ends of the contractible pairs (first < second),
            in :meth:`ContractionEnv.contractible_edges` order.
        pair_attr: ``m × EDGE_FEATURES`` features of those pairs.
        pairs: the pairs as representatives (``m × 2``), the actions.
        scale: the largest :math:`|W'|`, by which the weights were divided.
    """

    x: torch.Tensor
    attraction: torch.Tensor
    repulsion: torch.Tensor
    pair_index: torch.Tensor
    pair_attr: torch.Tensor
    pairs: np.ndarray
    scale: float


def encode_state(env: ContractionEnv) -> EncodedState:
    """The network input of a state (see the module docstring for the features)."""
    clusters = env.clusters()
    c = len(clusters)
    n = len(env.active)
    block = env.weights[np.ix_(clusters, clusters)]
    scale = float(np.abs(block).max(initial=0.0)) or 1.0
    block = block / scale
    positive = np.clip(block, 0.0, None)
    negative = np.clip(-block, 0.0, None)
    sizes = env.sizes[clusters].astype(np.float64)
    positive_sum = positive.sum(axis=1)
    largest = positive.max(axis=1, initial=0.0)
    degree = env.adjacent[np.ix_(clusters, clusters)].sum(axis=1).astype(np.float64)
    x = np.stack(
        [
            sizes / n,
            np.log1p(sizes) / np.log1p(n),
            positive_sum,
            -negative.sum(axis=1),
            largest,
            degree / max(c - 1, 1),
            np.full(c, c / n),
        ],
        axis=1,
    )
    rows, cols = np.nonzero(np.triu(positive, 1))
    w = block[rows, cols]
    relative_row, relative_col = w / largest[rows], w / largest[cols]
    pair_attr = np.stack(
        [
            w,
            np.ones_like(w),
            (relative_row + relative_col) / 2,
            np.minimum(relative_row, relative_col),
            w / (positive_sum[rows] + positive_sum[cols]),
        ],
        axis=1,
    )
    inverse = (1.0 / (1.0 + degree))[:, None]
    return EncodedState(
        x=torch.from_numpy(x.astype(np.float32)),
        attraction=torch.from_numpy((positive * inverse).astype(np.float32)),
        repulsion=torch.from_numpy((negative * inverse).astype(np.float32)),
        pair_index=torch.from_numpy(np.stack([rows, cols])),
        pair_attr=torch.from_numpy(pair_attr.astype(np.float32)),
        pairs=np.stack([clusters[rows], clusters[cols]], axis=1),
        scale=scale,
    )


class ContractionPolicy(nn.Module):
    """Signed message passing with a policy head over contractible pairs and a value head
    (see the module docstring).

    Args:
        hidden: channels of the cluster embeddings.
        layers: residual signed convolutions.
    """

    def __init__(self, hidden: int = 64, layers: int = 3) -> None:
        super().__init__()
        if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
            raise ValueError(f"hidden must be a positive integer, got {hidden!r}")
        if isinstance(layers, bool) or not isinstance(layers, int) or layers < 1:
            raise ValueError(f"layers must be a positive integer, got {layers!r}")
        self.hidden, self.layers = hidden, layers
        self.node_in = nn.Linear(NODE_FEATURES, hidden)
        self.convs = nn.ModuleList(nn.Linear(3 * hidden, hidden) for _ in range(layers))
        self.pair_sum = nn.Linear(hidden, hidden)
        self.pair_product = nn.Linear(hidden, hidden, bias=False)
        self.pair_edge = nn.Linear(EDGE_FEATURES, hidden, bias=False)
        self.pair_out = nn.Linear(hidden, 1)
        self.value = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def config(self) -> dict[str, int]:
        """The constructor's arguments, as stored in checkpoints."""
        return {"hidden": self.hidden, "layers": self.layers}

    def forward(
        self,
        x: torch.Tensor,
        attraction: torch.Tensor,
        repulsion: torch.Tensor,
        pair_index: torch.Tensor,
        pair_attr: torch.Tensor,
        batch: torch.Tensor | None = None,
        num_graphs: int = 1,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits of the contractible pairs and one value per state.

        Args:
            x, attraction, repulsion, pair_index, pair_attr: as :class:`EncodedState`, possibly
                several states stacked (block-diagonal sparse matrices, offset indices).
            batch: the state of each cluster, for stacked states; ``None`` for one state.
            num_graphs: the number of stacked states.

        Returns:
            ``(logits, value)``: one logit per pair (a softmax within each state gives the
            policy) and the predicted share of positive weight still to earn, in ``(0, 1)``.
        """
        h = self._embed(x, attraction, repulsion)
        logits = self._score_pairs(h, pair_index, pair_attr)
        if batch is None:
            pooled = torch.cat([h.mean(dim=0), h.max(dim=0).values]).unsqueeze(0)
        else:
            pooled = torch.cat([scatter(h, batch, 0, num_graphs, "mean"), scatter(h, batch, 0, num_graphs, "max")], dim=1)
        return logits, torch.sigmoid(self.value(pooled)).squeeze(1)

    def _embed(self, x: torch.Tensor, attraction: torch.Tensor, repulsion: torch.Tensor) -> torch.Tensor:
        """The cluster embeddings: the input layer and the residual signed convolutions (any
        leading batch dimension)."""
        h = torch.relu(self.node_in(x))
        for conv in self.convs:
            h = h + torch.relu(conv(torch.cat([h, attraction @ h, repulsion @ h], dim=-1)))
        return h

    def _score_pairs(self, h: torch.Tensor, pair_index: torch.Tensor, pair_attr: torch.Tensor) -> torch.Tensor:
        """The policy head: one logit per pair of rows of ``h``."""
        first, second = pair_index
        together = self.pair_sum(h)
        product = self.pair_product(h)
        # index_select gathers the same rows as together[first] with less overhead on the CPU
        z = (
            together.index_select(0, first)
            + together.index_select(0, second)
            + product.index_select(0, first) * product.index_select(0, second)
            + self.pair_edge(pair_attr)
        )
        return self.pair_out(torch.relu(z)).squeeze(1)

    @torch.no_grad()
    def forward_padded(self, states: list[EncodedState]) -> list[tuple[torch.Tensor, float]]:
        """:meth:`forward` on several states at once, without gradients: their dense matrices padded
        to the largest state and multiplied as one batch (padding rows are zero and left out of
        the pooling). Returns ``(logits, value)`` per state."""
        device = self.node_in.weight.device
        size = max(len(state.x) for state in states)
        count = len(states)
        x = torch.zeros(count, size, NODE_FEATURES)
        attraction = torch.zeros(count, size, size)
        repulsion = torch.zeros(count, size, size)
        mask = torch.zeros(count, size, 1)
        for k, state in enumerate(states):
            c = len(state.x)
            x[k, :c], attraction[k, :c, :c], repulsion[k, :c, :c], mask[k, :c] = (state.x, state.attraction, state.repulsion, 1.0)
        x, attraction, repulsion, mask = x.to(device), attraction.to(device), repulsion.to(device), mask.to(device)
        h = self._embed(x, attraction, repulsion)
        pair_index = torch.cat([state.pair_index + k * size for k, state in enumerate(states)], dim=1).to(device)
        pair_attr = torch.cat([state.pair_attr for state in states]).to(device)
        logits = self._score_pairs(h.reshape(count * size, -1), pair_index, pair_attr)
        mean = (h * mask).sum(dim=1) / mask.sum(dim=1)
        largest = h.masked_fill(mask == 0, -torch.inf).max(dim=1).values
        values = torch.sigmoid(self.value(torch.cat([mean, largest], dim=1))).squeeze(1)
        split = logits.split([len(state.pairs) for state in states])
        return [(part, float(value)) for part, value in zip(split, values.tolist())]

    @torch.no_grad()
    def forward_state(self, state: EncodedState) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`forward` on one encoded state, without gradients, on the network's device."""
        device = self.node_in.weight.device
        return self(
            state.x.to(device),
            state.attraction.to(device),
            state.repulsion.to(device),
            state.pair_index.to(device),
            state.pair_attr.to(device),
        )

    def evaluate(self, env: ContractionEnv) -> tuple[np.ndarray, np.ndarray, float]:
        """The prior function of :func:`gnnsolve.search.mcts.plan`: the contractible pairs of ``env``
        (representatives, ``m × 2``), their logits, and the predicted reward still to earn in
        the graph's units (the value times :attr:`~ContractionEnv.positive_weight`)."""
        return self.evaluate_batch([self.encode(env)])[0]

    def encode(self, env: ContractionEnv) -> tuple[EncodedState, float]:
        """A state as :meth:`evaluate_batch` takes it: :func:`encode_state` and the positive weight
        (:class:`~gnnsolve.search.mcts.BatchedPrior`)."""
        return encode_state(env), env.positive_weight

    def evaluate_batch(self, encoded: list[tuple[EncodedState, float]]) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """:meth:`evaluate` for several encoded states, one forward pass (:meth:`forward_padded`;
        a single state goes through :meth:`forward_state`)."""
        if len(encoded) == 1:
            logits, value = self.forward_state(encoded[0][0])
            answers = [(logits, float(value[0]))]
        else:
            answers = self.forward_padded([state for state, _ in encoded])
        return [
            (state.pairs, logits.cpu().numpy().astype(np.float64), value * positive)
            for (state, positive), (logits, value) in zip(encoded, answers)
        ]


def save_policy(net: ContractionPolicy, path: str | os.PathLike, training: dict[str, Any] | None = None) -> None:
    """Write ``net`` as a checkpoint :func:`load_policy` reads (weights in ``float32``)."""
    torch.save(
        {
            "format": CHECKPOINT_FORMAT,
            "config": net.config(),
            "state_dict": {key: value.detach().cpu() for key, value in net.state_dict().items()},
            "training": training or {},
        },
        path,
    )


def load_policy(path: str | os.PathLike | None = None) -> tuple[ContractionPolicy, dict[str, Any]]:
    """Read a checkpoint: ``None`` for the one shipped with gnnsolve.

    Returns:
        The network in evaluation mode and the checkpoint's ``training`` record.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        FileFormatError: the file is not a checkpoint of :class:`ContractionPolicy`, or its
            weights do not fit the network it describes.
    """
    if path is None:
        source = resources.files("gnnsolve.data").joinpath(DEFAULT_CHECKPOINT)
        if not source.is_file():
            raise FileNotFoundError(
                f"the multicut policy shipped with gnnsolve ({DEFAULT_CHECKPOINT}) is missing from this "
                "installation; reinstall gnnsolve, or write one with `python -m gnnsolve.train_multicut "
                "--out PATH` and pass checkpoint=PATH"
            )
        with resources.as_file(source) as shipped:
            return load_policy(shipped)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"no multicut policy checkpoint at {os.fspath(path)!r}; pass an existing file "
            "or checkpoint=None for the one shipped with gnnsolve"
        )
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for unreadable files
        raise FileFormatError(path, f"not a readable torch checkpoint ({type(error).__name__}: {error})") from None
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise FileFormatError(
            path,
            f"not a multicut policy checkpoint (expected format {CHECKPOINT_FORMAT!r}); "
            "write one with gnnsolve.nn.multicut.save_policy or `python -m gnnsolve.train_multicut`",
        )
    try:
        net = ContractionPolicy(**checkpoint["config"])
        net.load_state_dict(checkpoint["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise FileFormatError(path, f"the checkpoint does not fit ContractionPolicy ({error})") from None
    return net.eval(), dict(checkpoint.get("training", {}))
