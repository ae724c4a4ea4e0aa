"""GNNSampler in an Ocean workflow: a dwave-networkx graph algorithm and a dimod composite.

``dwave.graphs`` (the dwave-networkx algorithms, installed as the ``dwave-graphs`` package)
takes any dimod sampler, so ``GNNSampler`` goes where a quantum or classical sampler would:

- ``maximum_cut`` and ``min_vertex_cover`` on a 3-regular graph of 40 nodes (``GNNSampler``
  with a fixed 300 epochs, beside ``SimulatedAnnealingSampler``), checked with
  ``dwave.graphs.is_vertex_cover``;
- ``dimod.TruncateComposite(GNNSampler(), n=3)`` on a random BQM: of the child's 8 reads the
  composite keeps the three of lowest energy, as it does for any sampler.

Prints, per sampler, the cut size (54 for both on this graph), the vertex cover's size (23 for
both) and ``True`` for its validity, then the three truncated energies, lowest first, beside
``ExactSolver``'s ground-state energy (all -38.0: this BQM has several ground states). With epochs and seeds fixed these do
not depend on the machine's load; about 7 s on a busy 2-core machine.

Run: ``python examples/ocean_workflow.py``
"""

from __future__ import annotations

import math

import dimod
import dwave.graphs as dnx
import networkx as nx
from dwave.samplers import SimulatedAnnealingSampler

from gnnsolve import GNNSampler


def main() -> None:
    G = nx.random_regular_graph(3, 40, seed=0)
    budget = {"num_reads": 4, "seed": 0, "max_epochs": 300, "time_limit": math.inf}
    samplers: dict[str, tuple[dimod.Sampler, dict]] = {
        "GNNSampler": (GNNSampler(), budget),
        "SimulatedAnnealing": (SimulatedAnnealingSampler(), {"num_reads": 16, "seed": 0}),
    }
    for name, (sampler, options) in samplers.items():
        side = dnx.maximum_cut(G, sampler, **options)
        cut = sum(1 for u, v in G.edges if (u in side) != (v in side))
        cover = dnx.min_vertex_cover(G, sampler, **options)
        print(
            f"{name:<20} maximum_cut {cut:3d} edges   min_vertex_cover {len(cover):3d} nodes,"
            f" valid {dnx.is_vertex_cover(G, cover)}"
        )

    bqm = dimod.generators.ran_r(1, 16, seed=3)
    truncated = dimod.TruncateComposite(GNNSampler(), n=3).sample(bqm, **{**budget, "num_reads": 8})
    ground = dimod.ExactSolver().sample(bqm).first.energy
    print(f"TruncateComposite(GNNSampler(), n=3): energies {[float(e) for e in truncated.record.energy]}   ground state {ground}")


if __name__ == "__main__":
    main()
