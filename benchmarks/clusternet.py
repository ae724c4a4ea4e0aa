"""ClusterNet against Louvain, two-stage, GCN-e2e and classical-on-observed, on real graphs.

Three parts, one process, the same graphs (``../shared/data``: karate, dolphins, football, polbooks
from ``community/``; cora and citeseer with their bag-of-words features from ``planetoid/``):

``full``
    Modularity on the whole graph. ClusterNet (single instance, no training data) with ``k`` =
    the number of communities networkx's Louvain finds (seed 0), against that Louvain partition
    and, for karate and dolphins, the proven optimum (``modularity/optima.json``). ClusterNet's
    decision and its polished form (``polish=True``) come from the same run.
``observed``
    The paper's partially observed setting: every method sees 40% of the edges
    (:func:`~gnnsolve.adapters.clustering.observe_edges`, one draw per seed) and its decision is
    scored exactly on the full graph. Modularity with ``k`` = 5 and k-center with ``k`` = 5 (on the
    largest connected component, since a graph with more components than ``k`` has an infinite
    k-center radius). Rows: ClusterNet (its decision, and that decision polished on the observed
    graph), two-stage (link-prediction GCN, then Louvain merged to
    ``k`` / farthest-first), GCN-e2e, and the classical algorithm on the observed edges. Cells are
    mean ± std over the seeds, with mean seconds.
``transfer``
    Generalisation: one ClusterNet is fitted on 10 generated graphs and applied to 5 unseen ones,
    as it is (no training), fine-tuned for 50 epochs, and against a fresh ClusterNet trained on
    each graph (1001 epochs) and Louvain. The graphs are planted partitions (5 communities of 40
    nodes, edge probability 0.15 inside and 0.01 across) whose 16 node features are a random
    projection of the community indicator plus Gaussian noise of the same scale, so features
    carry some, not all, of the structure. Modularity with ``k`` = 5.

The community graphs have no node features: ClusterNet, GCN-e2e and the link predictor learn node
embeddings instead. ClusterNet runs its epochs without a time limit (``time_limit=math.inf``; its default
budget would cut the larger graphs short). Run: ``python benchmarks/clusternet.py [--part full|observed|transfer|all]
[--graphs karate,dolphins,...] [--objectives modularity,kcenter] [--seeds 0,1,2,3,4] [--epochs 1001]
[--tag NAME] [--out docs/benchmarks]``; the JSON is ``clusternet_<tag>.json`` (tag: the part).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import networkx as nx
import numpy as np

from gnnsolve.adapters.clustering import KCenter, Modularity, modularity, observe_edges
from gnnsolve.adapters.datasets import read_gml, read_planetoid, shared_data_dir
from gnnsolve.baselines.clustering import classical_on_observed, gcn_e2e, two_stage
from gnnsolve.samplers.clusternet import ClusterNetSampler

GRAPHS = ("karate", "dolphins", "football", "polbooks", "cora", "citeseer")
PLANETOID = ("cora", "citeseer")
K = 5


def load(name: str, data: Path) -> tuple[nx.Graph, np.ndarray | None]:
    """The graph (nodes in a fixed order) and its node features, or ``None`` when it has none."""
    if name in PLANETOID:
        planetoid = read_planetoid(data / "planetoid", name)
        return planetoid.graph, planetoid.features
    G = read_gml(data / "community" / f"{name}.gml")
    return nx.Graph(G.edges()), None  # unweighted, attributes dropped


def largest_component(G: nx.Graph, features: np.ndarray | None) -> tuple[nx.Graph, np.ndarray | None]:
    nodes = sorted(max(nx.connected_components(G), key=len))
    H = nx.Graph(G.subgraph(nodes))
    position = {node: row for row, node in enumerate(G.nodes)}
    return H, None if features is None else features[[position[node] for node in H.nodes]]


def timed(run: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def full_graph_part(
    name: str, G: nx.Graph, features: np.ndarray | None, epochs: int, reads: int, optima: dict
) -> dict:
    """Louvain, ClusterNet (best of ``reads``, as decided and polished) with Louvain's community count,
    and the proven optimum."""
    communities, louvain_seconds = timed(lambda: nx.community.louvain_communities(G, seed=0))
    louvain_q = nx.community.modularity(G, communities)
    k = len(communities)
    sampleset, seconds = timed(
        lambda: ClusterNetSampler().sample(Modularity(G, k), features=features, epochs=epochs, num_reads=reads, seed=0,
                                           polish=True, time_limit=math.inf)
    )
    labels = dict(sampleset.first.sample)
    row = {
        "graph": name, "n": G.number_of_nodes(), "m": G.number_of_edges(), "k": k, "reads": reads,
        "louvain": louvain_q, "louvain_seconds": louvain_seconds,
        "clusternet": -min(sampleset.info["raw_energy"]), "clusternet_seconds": seconds,
        "clusternet_polished": modularity(G, labels),
        "clusternet_communities": len(set(labels.values())),
        "optimum": optima.get(name, {}).get("modularity"),
    }
    print(json.dumps(row), flush=True)
    return row


def observed_part(
    name: str, G: nx.Graph, features: np.ndarray | None, seeds: list[int], epochs: int, objectives: list[str]
) -> dict:
    """Per objective and method, the full-graph objective and seconds of each seed.

    ClusterNet's decision and its polished form (on the observed graph) come from one training
    run, whose seconds both report."""
    runs: dict[str, dict[str, list[tuple[float, float]]]] = {objective: {} for objective in objectives}
    component, component_features = largest_component(G, features)
    inputs = {  # each problem is built once: KCenter's distance matrix costs seconds on cora
        objective: (Modularity(G, K), G, features) if objective == "modularity"
        else (KCenter(component, K), component, component_features)
        for objective in objectives
    }
    for seed in seeds:
        for objective in objectives:
            problem, graph, feats = inputs[objective]
            observed = observe_edges(graph, 0.4, seed=seed)
            sampleset, seconds = timed(lambda: ClusterNetSampler().sample(
                problem, features=feats, observed=observed, epochs=epochs, seed=seed, polish=True, time_limit=math.inf))
            sign = -1.0 if objective == "modularity" else 1.0
            methods = {
                "clusternet": (sign * sampleset.info["raw_energy"][0], seconds),
                "clusternet+polish": (sign * float(sampleset.first.energy), seconds),
            }
            for method in (two_stage, gcn_e2e, classical_on_observed):
                keywords: dict[str, Any] = {"seed": seed}
                if method is not classical_on_observed:
                    keywords["features"] = feats
                result = method(problem, observed, **keywords)
                methods[result.name] = (result.objective, result.seconds)
            for method, cell in methods.items():
                runs[objective].setdefault(method, []).append(cell)
            print(name, objective, seed, {m: round(v, 4) for m, (v, _) in methods.items()}, flush=True)
    return {"graph": name, "k": K, "kcenter_nodes": component.number_of_nodes(), "runs": runs}


def planted_graph(seed: int) -> tuple[nx.Graph, np.ndarray]:
    """A planted partition and its noisy community features (see the ``transfer`` part)."""
    rng = np.random.default_rng(seed)
    planted = nx.planted_partition_graph(K, 40, 0.15, 0.01, seed=seed)
    community = np.array([planted.nodes[node]["block"] for node in planted.nodes])
    projection = np.random.default_rng(12345).normal(size=(K, 16))  # the same for every graph
    features = projection[community] + rng.normal(size=(len(community), 16))
    G = nx.Graph()
    G.add_nodes_from(planted.nodes)
    G.add_edges_from(planted.edges)
    return G, features.astype(np.float32)


def transfer_part(seeds: list[int], epochs: int) -> dict:
    """Fitted once on 10 graphs; then on 5 unseen graphs: as is, fine-tuned, fresh, Louvain."""
    train = [planted_graph(100 + i) for i in range(10)]
    test = [planted_graph(200 + i) for i in range(5)]
    runs: dict[str, list[tuple[float, float]]] = {}
    fit_seconds = []
    for seed in seeds:
        sampler = ClusterNetSampler()
        _, seconds_to_fit = timed(lambda: sampler.fit(
            [Modularity(G, K) for G, _ in train], features=[f for _, f in train], epochs=epochs, seed=seed,
            time_limit=math.inf))
        for G, features in test:
            problem = Modularity(G, K)
            for method, run in (
                ("fitted, no training", lambda: sampler.sample(problem, features=features, epochs=0, seed=seed)),
                ("fitted + 50 epochs", lambda: sampler.sample(problem, features=features, epochs=50, seed=seed)),
                ("fresh, 1001 epochs", lambda: ClusterNetSampler().sample(problem, features=features, epochs=epochs, seed=seed,
                                                                          time_limit=math.inf)),
            ):
                sampleset, seconds = timed(run)
                runs.setdefault(method, []).append((float(-sampleset.first.energy), seconds))
            communities, seconds = timed(lambda: nx.community.louvain_communities(G, seed=seed))
            runs.setdefault("louvain (unrestricted k)", []).append((nx.community.modularity(G, communities), seconds))
        fit_seconds.append(seconds_to_fit)
        print("transfer", seed, {m: round(statistics.fmean(v for v, _ in values[-len(test):]), 4)
                                 for m, values in runs.items()}, flush=True)
    return {"runs": runs, "fit_seconds": fit_seconds}


def cell(values: list[tuple[float, float]]) -> str:
    objectives = [v for v, _ in values]
    spread = f" ± {statistics.stdev(objectives):.3f}" if len(objectives) > 1 else ""
    return f"{statistics.fmean(objectives):.3f}{spread} ({statistics.fmean(s for _, s in values):.1f} s)"


def markdown_full(rows: list[dict]) -> str:
    lines = ["| graph | n | m | k (Louvain's) | Louvain Q | ClusterNet Q (/ Louvain) | polished Q (/ Louvain) | proven optimum | "
             "seconds: Louvain, ClusterNet |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        optimum = f"{r['optimum']:.4f}" if r["optimum"] is not None else "–"
        polished = r.get("clusternet_polished")
        polished_cell = f"{polished:.4f} ({polished / r['louvain']:.3f})" if polished is not None else "–"
        lines.append(f"| {r['graph']} | {r['n']} | {r['m']} | {r['k']} | {r['louvain']:.4f} | "
                     f"{r['clusternet']:.4f} ({r['clusternet'] / r['louvain']:.3f}) | {polished_cell} | {optimum} | "
                     f"{r['louvain_seconds']:.2f}, {r['clusternet_seconds']:.1f} |")
    return "\n".join(lines)


def markdown_observed(results: list[dict]) -> str:
    out = []
    for objective, better in (("modularity", "higher"), ("kcenter", "lower")):
        if objective not in results[0]["runs"]:
            continue
        methods = list(dict.fromkeys(m for r in results for m in r["runs"][objective]))
        out.append(f"\n{objective} (k = {K}; {better} is better)\n")
        out.append("| graph | " + " | ".join(methods) + " |")
        out.append("|---|" + "---:|" * len(methods))
        for r in results:
            out.append(f"| {r['graph']} | " + " | ".join(
                cell(r["runs"][objective][m]) if m in r["runs"][objective] else "–" for m in methods) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("full", "observed", "transfer", "all"), default="all")
    parser.add_argument("--graphs", default=",".join(GRAPHS))
    parser.add_argument("--objectives", default="modularity,kcenter")
    parser.add_argument("--tag", help="names the JSON (default: the part)")
    parser.add_argument("--seeds", default="0,1,2,3,4")
    parser.add_argument("--epochs", type=int, default=1001)
    parser.add_argument("--reads", type=int, default=1, help="ClusterNet restarts in the full part (best kept)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    data = shared_data_dir()
    if data is None:
        raise SystemExit("benchmark data not found: set GNNSOLVE_DATA or place it at ../shared/data")
    optima = json.loads((data / "modularity" / "optima.json").read_text())
    seeds = [int(s) for s in args.seeds.split(",")]
    objectives = args.objectives.split(",")
    record: dict[str, Any] = {"epochs": args.epochs, "seeds": seeds, "full": [], "observed": [], "transfer": {}}
    for name in args.graphs.split(",") if args.part != "transfer" else []:
        G, features = load(name, data)
        if args.part in ("full", "all"):
            record["full"].append(full_graph_part(name, G, features, args.epochs, args.reads, optima))
        if args.part in ("observed", "all"):
            record["observed"].append(observed_part(name, G, features, seeds, args.epochs, objectives))
    if args.part in ("transfer", "all"):
        record["transfer"] = transfer_part(seeds, args.epochs)
    if record["full"]:
        print(markdown_full(record["full"]))
    if record["observed"]:
        print(markdown_observed(record["observed"]))
    if record["transfer"]:
        print(f"fitting on 10 graphs: {statistics.fmean(record['transfer']['fit_seconds']):.1f} s per seed")
        print("| method | Q on 5 unseen graphs × seeds (mean ± std, seconds per graph) |\n|---|---:|")
        for method, values in record["transfer"]["runs"].items():
            print(f"| {method} | {cell(values)} |")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / f"clusternet_{args.tag or args.part}.json").write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
