"""Cost of one PI-GNN training epoch on G-set G1: the published form against gnnsolve's.

Rows, all measured in one process on the same graph and interleaved:

* ``published``: PI-GNN as published — an ``nn.Embedding``, two ``torch_geometric`` ``GCNConv``
  layers, the loss ``pᵀQp`` with a dense Q; one independent model per read, trained in a loop.
* ``PyG block-diagonal batch``: the reads as one ``torch_geometric`` batch (one graph of
  ``reads x n`` nodes), PyG's standard batching. The stock layers then share their weights across
  reads (only the embeddings are per read), so it does less than gnnsolve does.
* ``gnnsolve, stock CSR backward``: gnnsolve's replica layers with torch's own CSR autograd.
* ``gnnsolve``: the shipped sampler (custom sparse backward, replicas stacked node-major);
  its epoch includes tracking each replica's best rounded state.

Run: ``python benchmarks/epoch_cost.py [--epochs 200]``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn
from torch_geometric.data import Batch, Data
from torch_geometric.nn import GCNConv

from _cli import add_progress_option, progress, say
from gnnsolve import GNNSampler
from gnnsolve.adapters.datasets import read_gset, shared_data_dir
from gnnsolve.adapters.graphs import maxcut_bqm
from gnnsolve.nn import sparse
from gnnsolve.qubo import CompiledBQM


class PublishedPIGNN(nn.Module):
    """Embedding → GCNConv → ReLU → GCNConv → sigmoid, as in the PI-GNN paper's code."""

    def __init__(self, num_nodes: int, embedding_dim: int, hidden_dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(num_nodes, embedding_dim)
        self.conv1 = GCNConv(embedding_dim, hidden_dim)
        self.conv2 = GCNConv(hidden_dim, 1)

    def forward(self, edge_index: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.conv1(self.embedding.weight, edge_index))
        return torch.sigmoid(self.conv2(h, edge_index)).squeeze(-1)


def dense_qubo(model: CompiledBQM) -> torch.Tensor:
    """The upper-triangular QUBO matrix with the linear terms on the diagonal, as published."""
    n = model.num_variables
    Q = torch.zeros(n, n)
    Q[model.rows, model.cols] = torch.tensor(model.quadratic, dtype=torch.float32)
    Q[range(n), range(n)] = torch.tensor(model.linear, dtype=torch.float32)
    return Q


def time_epochs(step, epochs: int) -> float:
    for _ in range(5):
        step()
    start = time.perf_counter()
    for _ in range(epochs):
        step()
    return (time.perf_counter() - start) / epochs * 1e3


def published(model, edge_index, Q, reads, dims, epochs):
    nets = [PublishedPIGNN(model.num_variables, *dims) for _ in range(reads)]
    optimizers = [torch.optim.Adam(net.parameters(), lr=1e-4) for net in nets]

    def step():
        for net, optimizer in zip(nets, optimizers):
            p = net(edge_index)
            loss = p @ Q @ p
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return time_epochs(step, epochs)


def pyg_batch(model, edge_index, Q, reads, dims, epochs):
    n = model.num_variables
    batch = Batch.from_data_list([Data(edge_index=edge_index, num_nodes=n) for _ in range(reads)])
    net = PublishedPIGNN(n * reads, *dims)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-4)

    def step():
        p = net(batch.edge_index).view(reads, n)
        loss = torch.einsum("ri,ij,rj->", p, Q, p)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return time_epochs(step, epochs)


def gnnsolve_epoch(bqm, reads, epochs):
    sampleset = GNNSampler().sample(bqm, num_reads=reads, seed=0, max_epochs=epochs, patience=10**9, polish=False)
    return sampleset.info["timing"]["sampling_ns"] / 1e6 / sampleset.info["epochs"]


def stock_backward(bqm, reads, epochs):
    original = sparse.spmm
    sparse.spmm = lambda matrix, matrix_t, dense: matrix @ dense
    try:
        return gnnsolve_epoch(bqm, reads, epochs)
    finally:
        sparse.spmm = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--reads", type=int, nargs="+", default=[1, 16])
    add_progress_option(parser)
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None:
        raise SystemExit("../shared/data is missing: the benchmark needs G-set G1")
    G = read_gset(data / "gset" / "G1.txt")
    bqm = maxcut_bqm(G)
    model = CompiledBQM(bqm)
    edge_index = model.edge_index()
    Q = dense_qubo(model)
    dims = (28, 14)  # round(sqrt(800)) and half of it, as gnnsolve's defaults
    print(f"G1: n={model.num_variables}, m={model.num_interactions}, torch threads={torch.get_num_threads()}")
    print("| implementation | " + " | ".join(f"ms/epoch, {r} read{'s' * (r > 1)}" for r in args.reads) + " |")
    print("|---|" + "---:|" * len(args.reads))
    rows = {
        "published (GCNConv, dense Q, loop over reads)": lambda r: published(model, edge_index, Q, r, dims, args.epochs),
        "PyG block-diagonal batch (shared weights)": lambda r: pyg_batch(model, edge_index, Q, r, dims, args.epochs),
        "gnnsolve layers, torch's CSR backward": lambda r: stock_backward(bqm, r, args.epochs),
        "gnnsolve (shipped)": lambda r: gnnsolve_epoch(bqm, r, args.epochs),
    }
    for name, run in progress(rows.items(), args, desc="epoch cost", unit="implementation"):
        costs = [run(r) for r in args.reads]
        say(f"| {name} | " + " | ".join(f"{c:.2f}" for c in costs) + " |")


if __name__ == "__main__":
    main()
