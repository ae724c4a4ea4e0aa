"""Graph problems as dimod models: MaxCut.

A cut of a weighted graph :math:`G` assigns each node a spin :math:`s_v = \\pm 1`; its value is
the weight of the edges whose ends differ,

.. math::

    \\mathrm{cut}(s) = \\sum_{(u,v) \\in E} w_{uv} \\frac{1 - s_u s_v}{2},

so the SPIN model :math:`E(s) = \\sum_{(u,v)} \\tfrac{w_{uv}}{2} s_u s_v - \\tfrac12 \\sum_{(u,v)} w_{uv}`
has :math:`E(s) = -\\mathrm{cut}(s)` exactly, offset included: minimising energy maximises the cut.
Self-loops never cross a cut; they are left out of the model and of :func:`cut_value`.

Example:
    >>> import networkx as nx
    >>> from gnnsolve.adapters.graphs import cut_value, maxcut_bqm
    >>> G = nx.cycle_graph(4)
    >>> bqm = maxcut_bqm(G)
    >>> sample = {0: 1, 1: -1, 2: 1, 3: -1}
    >>> float(bqm.energy(sample)), cut_value(G, sample)
    (-4.0, 4)
"""

from __future__ import annotations

from typing import Hashable, Mapping

import dimod
import networkx as nx

__all__ = ["maxcut_bqm", "cut_value"]


def maxcut_bqm(G: nx.Graph, weight: str = "weight") -> dimod.BinaryQuadraticModel:
    """The SPIN model whose energy is minus the cut value, one variable per node.

    Args:
        G: an undirected graph; parallel edges of a multigraph add up.
        weight: the edge attribute holding the weight; edges without it weigh 1.

    Returns:
        A SPIN :class:`dimod.BinaryQuadraticModel` over all nodes of ``G`` (isolated ones too)
        with ``bqm.energy(s) == -cut_value(G, s)``. Self-loops are ignored.
    """
    bqm = dimod.BinaryQuadraticModel(dimod.SPIN)
    bqm.add_variables_from((node, 0.0) for node in G.nodes)
    for u, v, w in G.edges(data=weight, default=1):
        if u == v:
            continue
        bqm.add_quadratic(u, v, w / 2)
        bqm.offset -= w / 2
    return bqm


def cut_value(G: nx.Graph, sample: Mapping[Hashable, int], weight: str = "weight") -> float:
    """The total weight of the edges whose ends take different values in ``sample``.

    ``sample`` may be SPIN (±1) or BINARY (0/1); self-loops never count.
    """
    return sum(w for u, v, w in G.edges(data=weight, default=1) if sample[u] != sample[v])
