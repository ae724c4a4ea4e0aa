r"""Train the multicut contraction policy by imitating exact solutions; write the checkpoint.

::

    python -m gnnsolve.train_multicut --out gnnsolve/data/multicut_policy.pt

**Data.** Random signed graphs with weights uniform in :math:`[-1, 1]`: half Erdős–Rényi
(:math:`p = 0.3`, 20–30 nodes; denser or larger ones slow the exact solver down by orders of
magnitude) and half Barabási–Albert (:math:`m = 2`, 20–40 nodes). Each graph is solved exactly
(:func:`~gnnsolve.search.multicut_ilp.solve_multicut_ilp`) and one episode of
:class:`~gnnsolve.search.contraction.ContractionEnv` is played from singletons. At every state
the targets are

- policy: the contractible pairs (positive weight) whose clusters lie in one cluster of the
  optimal partition; each of them keeps the optimum reachable;
- value: the share of the state's positive inter-cluster weight that the optimum still earns,
  :math:`(\mathrm{cost} - \mathrm{cost}^*) / \sum_{W'_{kl} > 0} W'_{kl}`.

The episode follows a random target pair, and with probability ``explore`` a random
contractible pair instead, so that the network also sees states off the optimal path; when a
contraction leaves the optimal partition, the contracted graph is solved exactly again
(time-limited: the best partition found then stands in for the optimum).

So that the network also sees the sizes it is applied to, ``large`` further graphs of the two
kinds have 41–100 nodes; their targets come from the solver stopped after
:data:`LARGE_SOLVE_SECONDS`, that is from GAEC followed by Kernighan–Lin joins as improved by
the first cutting-plane rounds: good partitions, not proven optimal ones.

**Training.** Adam on the policy loss :math:`-\log \sum_{a \in \mathrm{targets}} \pi(a)` (the
probability of keeping the optimum reachable) plus the squared error of the value, in
mini-batches of states; a tenth of the small graphs is held out and the weights with the lowest
held-out loss are kept. Graphs, episodes and initial weights are seeded; only the solver's
time limits depend on the machine's speed (a solve cut short may return another partition), so
runs on different machines can differ slightly. On 2 CPU cores the default run takes about six
minutes (two to generate the data, four to train).

Example (a tiny run):
    >>> import tempfile, os
    >>> from gnnsolve.train_multicut import train
    >>> from gnnsolve.nn.multicut import load_policy
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "policy.pt")
    ...     record = train(path, graphs=4, large=0, epochs=1, seed=0, verbose=False)
    ...     net, training = load_policy(path)
    >>> sorted(training) == sorted(record), record["graphs"]
    (True, 4)
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import torch

from gnnsolve.nn.multicut import ContractionPolicy, EncodedState, encode_state, save_policy
from gnnsolve.search.contraction import ContractionEnv
from gnnsolve.search.multicut import SignedGraph
from gnnsolve.search.multicut_ilp import solve_multicut_ilp

__all__ = ["random_signed_graph", "train", "main"]

#: Seconds per exact solve while generating targets on the small graphs.
SOLVE_SECONDS = 2.0
#: Seconds per solve on the large graphs (GAEC + KLj, improved where the solver gets further).
LARGE_SOLVE_SECONDS = 0.1


def random_signed_graph(kind: str, n: int, rng: np.random.Generator) -> nx.Graph:
    """An Erdős–Rényi (``"er"``, :math:`p = 0.3`) or Barabási–Albert (``"ba"``, :math:`m = 2`) graph
    with weights uniform in :math:`[-1, 1]`.

    Example:
        >>> import numpy as np
        >>> from gnnsolve.train_multicut import random_signed_graph
        >>> G = random_signed_graph("ba", 10, np.random.default_rng(0))
        >>> G.number_of_edges(), all(-1 <= w <= 1 for _, _, w in G.edges(data="weight"))
        (16, True)
    """
    seed = int(rng.integers(2**31))
    if kind == "er":
        G = nx.erdos_renyi_graph(n, 0.3, seed=seed)
    elif kind == "ba":
        G = nx.barabasi_albert_graph(n, 2, seed=seed)
    else:
        raise ValueError(f"kind must be 'er' or 'ba', got {kind!r}")
    for u, v in G.edges:
        G.edges[u, v]["weight"] = float(rng.uniform(-1.0, 1.0))
    return G


@dataclass
class _Sample:
    state: EncodedState
    targets: torch.Tensor
    value: float


def _solve(env: ContractionEnv, seconds: float) -> tuple[np.ndarray, float]:
    """The best partition of the contracted graph, as a cluster per node (by representative) and its cost."""
    graph: SignedGraph = env.contracted_graph()
    result = solve_multicut_ilp(graph, time_limit=seconds)
    clusters = env.clusters()
    position = np.empty(len(env.active), dtype=np.int64)
    position[clusters] = np.arange(len(clusters))
    labels = np.array([result.labels[i] for i in range(len(clusters))], dtype=np.int64)
    return labels[position[env.assignment]], result.cost


def _episode(G: nx.Graph, explore: float, seconds: float, rng: np.random.Generator) -> list[_Sample]:
    env = ContractionEnv.from_graph(G)
    target, target_cost = _solve(env, seconds)
    samples = []
    while not env.done:
        state = encode_state(env)
        pairs = state.pairs
        inside = target[pairs[:, 0]] == target[pairs[:, 1]]
        if not inside.any():  # the optimum is out of reach (or ties at zero weight): solve again
            target, target_cost = _solve(env, seconds)
            inside = target[pairs[:, 0]] == target[pairs[:, 1]]
        if inside.any():
            value = (env.cost - target_cost) / env.positive_weight
            samples.append(_Sample(state, torch.from_numpy(inside), float(np.clip(value, 0.0, 1.0))))
        choices = np.flatnonzero(inside) if inside.any() and rng.random() >= explore else np.arange(len(pairs))
        a, b = pairs[rng.choice(choices)]
        env.contract(a, b)
    return samples


def _collate(samples: list[_Sample]) -> dict[str, torch.Tensor | int]:
    offsets = np.cumsum([0] + [len(sample.state.x) for sample in samples])
    return {
        "x": torch.cat([sample.state.x for sample in samples]),
        "attraction": torch.block_diag(*[sample.state.attraction for sample in samples]).to_sparse(),
        "repulsion": torch.block_diag(*[sample.state.repulsion for sample in samples]).to_sparse(),
        "pair_index": torch.cat([sample.state.pair_index + int(k) for sample, k in zip(samples, offsets)], dim=1),
        "pair_attr": torch.cat([sample.state.pair_attr for sample in samples]),
        "batch": torch.cat([torch.full((len(sample.state.x),), k) for k, sample in enumerate(samples)]),
        "pair_batch": torch.cat([torch.full((len(sample.state.pairs),), k) for k, sample in enumerate(samples)]),
        "targets": torch.cat([sample.targets for sample in samples]),
        "values": torch.tensor([sample.value for sample in samples], dtype=torch.float32),
        "num_graphs": len(samples),
    }


def _segment_logsumexp(values: torch.Tensor, segments: torch.Tensor, count: int) -> torch.Tensor:
    top = torch.full((count,), -torch.inf).scatter_reduce(0, segments, values, "amax")
    sums = torch.zeros(count).index_add(0, segments, torch.exp(values - top[segments]))
    return torch.log(sums) + top


def _losses(net: ContractionPolicy, batch: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Policy loss, value loss (means over states) and the share of states whose top pair is a target."""
    logits, values = net(
        batch["x"],
        batch["attraction"],
        batch["repulsion"],
        batch["pair_index"],
        batch["pair_attr"],
        batch["batch"],
        batch["num_graphs"],
    )
    segments, targets, count = batch["pair_batch"], batch["targets"], batch["num_graphs"]
    everything = _segment_logsumexp(logits, segments, count)
    kept = _segment_logsumexp(logits[targets], segments[targets], count)
    policy = (everything - kept).mean()
    value = ((values - batch["values"]) ** 2).mean()
    best = torch.full((count,), -torch.inf).scatter_reduce(0, segments, logits, "amax")
    hit = torch.zeros(count).index_add(0, segments, (targets & (logits == best[segments])).float())
    return policy, value, (hit > 0).float().mean()


def train(
    out: str,
    *,
    graphs: int = 600,
    large: int = 60,
    epochs: int = 40,
    batch_size: int = 32,
    learning_rate: float = 2e-3,
    explore: float = 0.25,
    hidden: int = 64,
    layers: int = 3,
    seed: int = 0,
    verbose: bool = True,
) -> dict:
    """Generate the data, train, and write the best held-out checkpoint to ``out``.

    Args:
        out: the checkpoint file to write.
        graphs: small graphs with exact targets (alternately Erdős–Rényi and Barabási–Albert);
            the first tenth is held out.
        large: graphs of 41–100 nodes with time-limited targets, for training only.
        epochs: passes over the training states (cosine-annealed learning rate).
        batch_size: states per Adam step.
        learning_rate: Adam's initial step size.
        explore: probability of a random contraction instead of a target one in the episodes.
        hidden, layers: the network's size (see :class:`~gnnsolve.nn.multicut.ContractionPolicy`).
        seed: seed of the graphs, episodes and initial weights.
        verbose: print progress.

    Returns:
        The training record stored in the checkpoint: settings, sample counts, the held-out
        losses and top-1 accuracy of the kept weights, and the seconds spent.
    """
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    episodes = []
    for k in range(graphs):
        kind = "er" if k % 2 == 0 else "ba"
        n = int(rng.integers(20, 31 if kind == "er" else 41))
        episodes.append(_episode(random_signed_graph(kind, n, rng), explore, SOLVE_SECONDS, rng))
        if verbose and (k + 1) % 50 == 0:
            print(f"graph {k + 1}/{graphs}: {sum(map(len, episodes))} states, {time.perf_counter() - started:.0f} s", flush=True)
    for k in range(large):
        kind = "er" if k % 2 == 0 else "ba"
        episodes.append(_episode(random_signed_graph(kind, int(rng.integers(41, 101)), rng), explore, LARGE_SOLVE_SECONDS, rng))
    if verbose and large:
        print(f"{large} large graphs: {sum(map(len, episodes))} states, {time.perf_counter() - started:.0f} s", flush=True)
    held = max(1, graphs // 10)
    training = [s for episode in episodes[held:] for s in episode] or [s for e in episodes for s in e]
    validation = [s for episode in episodes[:held] for s in episode]
    generated = time.perf_counter() - started

    net = ContractionPolicy(hidden=hidden, layers=layers)
    optimiser = torch.optim.Adam(net.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, max(1, epochs))
    check = _collate(validation)
    best: dict[str, Any] = {"loss": math.inf}
    for epoch in range(epochs):
        net.train()
        order = rng.permutation(len(training))
        for start in range(0, len(order), batch_size):
            policy, value, _ = _losses(net, _collate([training[i] for i in order[start : start + batch_size]]))
            optimiser.zero_grad()
            (policy + value).backward()
            optimiser.step()
        schedule.step()
        net.eval()
        with torch.no_grad():
            policy, value, accuracy = _losses(net, check)
        loss = float(policy + value)
        if loss < best["loss"]:
            best = {
                "loss": loss,
                "policy_loss": float(policy),
                "value_loss": float(value),
                "top1_accuracy": float(accuracy),
                "epoch": epoch + 1,
                "state": {key: tensor.clone() for key, tensor in net.state_dict().items()},
            }
        if verbose:
            print(
                f"epoch {epoch + 1}/{epochs}: held-out policy {float(policy):.4f} value {float(value):.5f} "
                f"top-1 {float(accuracy):.3f}, {time.perf_counter() - started:.0f} s",
                flush=True,
            )
    if "state" in best:
        net.load_state_dict(best.pop("state"))
    record = {
        "graphs": graphs,
        "large_graphs": large,
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "explore": explore,
        "seed": seed,
        "training_states": len(training),
        "held_out_states": len(validation),
        "held_out": best,
        "data_seconds": round(generated, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }
    save_policy(net, out, record)
    return record


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m gnnsolve.train_multicut", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="gnnsolve/data/multicut_policy.pt", help="checkpoint to write")
    parser.add_argument("--graphs", type=int, default=600, help="training graphs (a tenth is held out)")
    parser.add_argument("--large", type=int, default=60, help="extra graphs of 41-100 nodes, targets time-limited")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    record = train(args.out, graphs=args.graphs, large=args.large, epochs=args.epochs, seed=args.seed)
    print(f"wrote {args.out}: held-out top-1 {record['held_out']['top1_accuracy']:.3f}, {record['seconds']} s")


if __name__ == "__main__":
    main()
