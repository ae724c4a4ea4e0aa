"""Community detection from a partially observed graph: ClusterNet beside Louvain.

Zachary's karate club (34 members, 78 friendships, unweighted) split into at most 4
communities by modularity, whose proven best is 0.4198. ``ClusterNetSampler`` (ClusterNet: a
GCN and a differentiable k-means trained on the soft modularity, 500 epochs) first sees the whole
graph, then only 40% of its edges (``observed=observe_edges(G, 0.4, seed=0)``): it trains on the
observed edges, and its answer is scored on the full graph. Louvain (gnnsolve's
``LouvainSampler``, networkx's method merged down to 4 communities) gets the same two views.

Prints the graph's and the observed view's edge counts, then one line per sampler and view: the
modularity on the full graph, the number of communities and the share of the best modularity.
On the full graph both reach the best, 0.4198 (ratio 1.000); from 31 of the 78 edges ClusterNet
keeps 0.2539 (0.605) and Louvain 0.2187 (0.521). With epochs and seeds fixed the values do not
depend on the machine's load; about 8 s on a busy 2-core machine.

Run: ``python examples/community_partial.py``
"""

from __future__ import annotations

import networkx as nx

from gnnsolve import ClusterNetSampler
from gnnsolve.adapters.clustering import Modularity, observe_edges
from gnnsolve.samplers.references import LouvainSampler

BEST_MODULARITY = 0.419790  # karate, at most 4 communities, proven (shared data's modularity/optima.json)


def main() -> None:
    G = nx.karate_club_graph()
    problem = Modularity(G, k=4, weight=None)
    seen = observe_edges(G, 0.4, seed=0)
    print(f"karate club: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges; observed view: {seen.number_of_edges()} edges")

    runs = {}
    for view, observed in (("full graph", None), ("40% of edges", seen)):
        sampleset = ClusterNetSampler().sample(problem, observed=observed, seed=0, epochs=500)
        runs["ClusterNet", view] = sampleset.first.sample
        # Louvain sees only what is observed; its communities are scored on the full graph below.
        louvain = LouvainSampler().sample(Modularity(G if observed is None else observed, k=4, weight=None), seed=0)
        runs["Louvain", view] = louvain.first.sample

    for (name, view), labels in runs.items():
        score = problem.evaluate(labels)
        print(
            f"{name:<11} sees {view:<13} modularity {score:.4f}   communities {len(set(labels.values()))}"
            f"   ratio to best {score / BEST_MODULARITY:.3f}"
        )


if __name__ == "__main__":
    main()
