"""``WarmStartComposite``: warm-start any initialisable dimod sampler along a sequence of models.

In dynamic combinatorial optimisation the same problem is solved again and again as it changes:
edges appear and vanish, variables come and go. Each snapshot is close to the previous one, so
the previous best answer is a good place to start. ``WarmStartComposite`` wraps any dimod
sampler that accepts ``initial_states`` (dwave-samplers' ``SimulatedAnnealingSampler``,
``TabuSampler``, ``SteepestDescentSolver``, ...) and remembers the best sample of each call.
On the next call it builds ``num_reads`` initial states for the new model:

* a variable present in both models (matched by label) starts from its previous best value;
* a new variable starts from a random value (``fill="random"``, reproducible through the
  composite's ``seed`` or the call's ``seed``) or from the value that minimises its local field
  given the variables already set (``fill="greedy"``, new variables taken in the model's
  variable order, ties to the lower value);
* a variable of the previous model that is gone now is simply dropped.

Every returned SampleSet is the child's own (its ``info`` keys kept) with
``info["warm_start"] = {"snapshot": k, "carried": c, "new": n, "dropped": d}``: ``k`` counts the
completed calls before this one since construction or :meth:`WarmStartComposite.reset` (0 for
the first), ``c`` the variables whose values were carried over, ``n`` the variables absent from
the remembered sample and ``d`` the remembered sample's variables absent now. Outside the
caller-given-states case below, ``c + n`` is the number of variables of the model.

Decisions, each visible in ``info["warm_start"]``:

* **Change of vartype.** If the new model is BINARY and the previous one was SPIN (or the other
  way round), the remembered values are converted (SPIN −1 ↔ BINARY 0, +1 ↔ 1), so the warm
  start is the same assignment; ``info["warm_start"]["converted_from"]`` names the old vartype.
* **Cold starts.** The child is called exactly as the caller called it, without added initial
  states, on the first call, and also, saying why in ``info["warm_start"]["fallback"]``, when the
  new model shares no variable with the previous one (``"no shared variables"``), when it has no
  variables at all (``"empty model"``) and when the caller passed ``initial_states`` themselves
  (``"initial_states given by the caller"``; those are never overridden).
* **What is remembered.** The lowest-energy sample of the latest call on a model with variables
  that returned at least one sample. An empty model, or a child answering with no rows, leaves
  the memory as it was, so a transient empty snapshot does not lose the warm start.

When the child takes ``initial_states_generator`` and the caller did not choose one, the
composite passes ``"none"``: it always supplies exactly ``num_reads`` states (default 1), so the
child uses them all and never pads them with states of its own.

The composite is stateful (one sequence per instance) and not meant to be shared between threads.
A call is all or nothing: the remembered sample, the random fill's generator and the snapshot
count change only when the child's answer has come back, so a call that raises (a
``KeyboardInterrupt`` in the child included) leaves the composite as it was.

Example:
    Two snapshots of a MaxCut model: the cycle ``0-1-2-3-4-5`` gains a node and two chords.

    >>> import networkx as nx
    >>> from dwave.samplers import SteepestDescentSolver
    >>> from gnnsolve.adapters.graphs import cut_value, maxcut_bqm
    >>> from gnnsolve.samplers.warm_start import WarmStartComposite
    >>> sampler = WarmStartComposite(SteepestDescentSolver(), seed=0)
    >>> G = nx.cycle_graph(6)
    >>> first = sampler.sample(maxcut_bqm(G), seed=1)
    >>> first.info["warm_start"]
    {'snapshot': 0, 'carried': 0, 'new': 6, 'dropped': 0}
    >>> G.add_edges_from([(0, 3), (5, 6), (6, 2)])
    >>> second = sampler.sample(maxcut_bqm(G), num_reads=4)
    >>> second.info["warm_start"]
    {'snapshot': 1, 'carried': 6, 'new': 1, 'dropped': 0}
    >>> cut_value(G, second.first.sample) >= cut_value(nx.cycle_graph(6), first.first.sample)
    True
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Mapping
from typing import Any, Literal

import dimod
import numpy as np

from gnnsolve.qubo import check_finite
from gnnsolve.samplers._common import check_positive_int, check_seed, seed_generator

__all__ = ["WarmStartComposite", "greedy_fill", "random_values"]

Fill = Literal["random", "greedy"]
FILLS: tuple[str, ...] = ("random", "greedy")
WARM_CAPABLE = "dwave.samplers' SimulatedAnnealingSampler, TabuSampler or SteepestDescentSolver"


class WarmStartComposite(dimod.ComposedSampler):
    """Start each call of ``child`` from the best sample of the previous call, matched by label.

    Args:
        child: a dimod sampler whose ``parameters`` include ``initial_states``.
        fill: how variables new to this model start: ``"random"`` (uniform values) or
            ``"greedy"`` (the value minimising the local field of the variables already set).
        seed: seeds the random fill when a call passes no ``seed`` of its own; ``None`` draws
            fresh entropy. A call's ``seed`` (also handed to the child) takes precedence.

    Raises:
        ValueError: ``child`` does not accept ``initial_states``, ``fill`` is unknown or ``seed``
            is not a non-negative integer.

    Example:
        >>> import dimod
        >>> from dwave.samplers import SteepestDescentSolver
        >>> from gnnsolve.samplers.warm_start import WarmStartComposite
        >>> sampler = WarmStartComposite(SteepestDescentSolver(), fill="greedy")
        >>> a = sampler.sample(dimod.BQM.from_ising({"x": 1.0, "y": -1.0}, {("x", "y"): 0.5}))
        >>> sampler.previous_sample  # a's best sample
        {'x': -1, 'y': 1}
        >>> b = sampler.sample(dimod.BQM.from_ising({}, {("y", "z"): 1.0}))
        >>> sampler.previous_sample, b.info["warm_start"]
        ({'y': 1, 'z': -1}, {'snapshot': 1, 'carried': 1, 'new': 1, 'dropped': 1})
    """

    parameters: dict[str, list] = None  # type: ignore[assignment]  # set in __init__
    properties: dict[str, Any] = None  # type: ignore[assignment]
    children: list[dimod.Sampler] = None  # type: ignore[assignment]

    def __init__(self, child: dimod.Sampler, fill: Fill = "random", seed: int | None = None) -> None:
        if "initial_states" not in getattr(child, "parameters", {}):
            raise ValueError(
                f"WarmStartComposite needs a child sampler that accepts initial_states; "
                f"{type(child).__name__} does not "
                f"(its parameters: {sorted(getattr(child, 'parameters', {}))}). "
                f"Use a sampler that does, e.g. {WARM_CAPABLE}."
            )
        if fill not in FILLS:
            raise ValueError(f"fill must be one of {FILLS}, got {fill!r}")
        seed_generator(seed)  # validates
        self.children = [child]
        self.fill = fill
        self.seed = seed
        self.parameters = dict(child.parameters)
        self.properties = {"child_properties": dict(child.properties), "fill": fill}
        self.reset()

    def reset(self) -> None:
        """Forget the remembered sample and the snapshot count; re-seed the random fill.

        Example:
            >>> import dimod
            >>> from dwave.samplers import SteepestDescentSolver
            >>> from gnnsolve.samplers.warm_start import WarmStartComposite
            >>> sampler = WarmStartComposite(SteepestDescentSolver())
            >>> bqm = dimod.BQM.from_ising({"a": 1.0}, {})
            >>> _ = sampler.sample(bqm)
            >>> sampler.reset()
            >>> sampler.snapshot, sampler.previous_sample
            (0, None)
        """
        self._snapshot = 0
        self._sample: dict[Hashable, int] | None = None
        self._vartype: dimod.Vartype | None = None
        self._rng = seed_generator(self.seed)

    @property
    def snapshot(self) -> int:
        """Index the next call will have (calls since construction or :meth:`reset`)."""
        return self._snapshot

    @property
    def previous_sample(self) -> dict[Hashable, int] | None:
        """A copy of the remembered best sample, in its own vartype; ``None`` before any."""
        return None if self._sample is None else dict(self._sample)

    def sample(self, bqm: dimod.BinaryQuadraticModel, **kwargs: Any) -> dimod.SampleSet:
        """Sample ``bqm`` with the child, warm-started from the previous call's best sample.

        Args:
            bqm: the model of this snapshot.
            **kwargs: passed to the child; ``num_reads`` (default 1) initial states are built
                unless ``initial_states`` is given, and ``seed`` also seeds the random fill.

        Returns:
            The child's SampleSet, with ``info["warm_start"]`` added (see the module docstring).

        Raises:
            InvalidModelError: a bias or the offset is NaN or infinite (named).
            ValueError: ``num_reads`` or ``seed`` is out of range.

        Keywords the child does not take are dropped with a ``SamplerUnknownArgWarning``, as
        dimod's samplers do.
        """
        check_finite(bqm)
        kwargs = self.remove_unknown_kwargs(**kwargs)
        num_reads = kwargs.get("num_reads")
        num_reads = 1 if num_reads is None else check_positive_int("num_reads", num_reads)
        check_seed(kwargs.get("seed"))
        report, carried = self._plan(bqm, user_states=kwargs.get("initial_states") is not None)
        rng = copy.deepcopy(self._rng)  # committed, with the rest, only when the call returns
        if carried is not None:
            kwargs["initial_states"] = self._initial_states(bqm, carried, num_reads, kwargs.get("seed"), rng)
            if "initial_states_generator" in self.parameters:
                kwargs.setdefault("initial_states_generator", "none")
        sampleset = self.child.sample(bqm, **kwargs)
        best = sampleset.first.sample if len(bqm.variables) and len(sampleset) else None  # waits for the child
        if best is not None:
            self._sample, self._vartype = {v: int(value) for v, value in best.items()}, sampleset.vartype
        self._rng, self._snapshot = rng, self._snapshot + 1
        sampleset.info["warm_start"] = report
        return sampleset

    def _plan(self, bqm: dimod.BinaryQuadraticModel, user_states: bool) -> tuple[dict[str, Any], dict[Hashable, int] | None]:
        """The ``info["warm_start"]`` report and the carried values (``None``: cold start)."""
        previous = {} if self._sample is None else self._sample
        carried = {v: previous[v] for v in bqm.variables if v in previous}
        report: dict[str, Any] = {
            "snapshot": self._snapshot,
            "carried": 0,
            "new": len(bqm.variables) - len(carried),
            "dropped": len(previous) - len(carried),
        }
        if self._sample is None:
            return report, None
        assert self._vartype is not None  # set together with self._sample
        fallback = _cold_start_reason(bqm, carried, user_states)
        if fallback is not None:
            report["fallback"] = fallback
            return report, None
        report["carried"] = len(carried)
        if self._vartype is not bqm.vartype:
            report["converted_from"] = self._vartype.name
            carried = {v: _convert(value, bqm.vartype) for v, value in carried.items()}
        return report, carried

    def _initial_states(
        self,
        bqm: dimod.BinaryQuadraticModel,
        carried: Mapping[Hashable, int],
        num_reads: int,
        seed: int | None,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, list[Hashable]]:
        """``num_reads`` states over ``bqm.variables``: carried values, new ones filled."""
        variables = list(bqm.variables)
        new = [v for v in variables if v not in carried]
        states = np.empty((num_reads, len(variables)), dtype=np.int8)
        columns = {v: i for i, v in enumerate(variables)}
        for v, value in carried.items():
            states[:, columns[v]] = value
        if new:
            new_columns = [columns[v] for v in new]
            if self.fill == "greedy":
                filled = greedy_fill(bqm, carried, new)
                states[:, new_columns] = [filled[v] for v in new]
            else:
                fill = rng if seed is None else seed_generator(seed)
                states[:, new_columns] = random_values(fill, (num_reads, len(new)), bqm.vartype)
        return states, variables


def _cold_start_reason(bqm: dimod.BinaryQuadraticModel, carried: Mapping[Hashable, int], user_states: bool) -> str | None:
    """Why a call with a remembered sample still starts cold, or ``None`` to warm-start."""
    if user_states:
        return "initial_states given by the caller"
    if not len(bqm.variables):
        return "empty model"
    if not carried:
        return "no shared variables"
    return None


def _convert(value: int, vartype: dimod.Vartype) -> int:
    """``value`` of the other vartype expressed in ``vartype`` (SPIN −1/+1 ↔ BINARY 0/1)."""
    return (value + 1) // 2 if vartype is dimod.BINARY else 2 * value - 1


def random_values(rng: np.random.Generator, shape: tuple[int, ...], vartype: dimod.Vartype) -> np.ndarray:
    """Uniform values of ``vartype`` (0/1 or −1/+1) as an int8 array of ``shape``.

    Example:
        >>> import dimod, numpy as np
        >>> values = random_values(np.random.default_rng(0), (2, 5), dimod.SPIN)
        >>> values.shape, set(values.ravel().tolist()) <= {-1, 1}
        ((2, 5), True)
    """
    bits = rng.integers(0, 2, size=shape, dtype=np.int8)
    return 2 * bits - 1 if vartype is dimod.SPIN else bits


def greedy_fill(bqm: dimod.BinaryQuadraticModel, fixed: Mapping[Hashable, int], new: list[Hashable]) -> dict[Hashable, int]:
    """Values for ``new``, each minimising its local field given ``fixed`` and the new ones before it.

    The local field of ``v`` is ``h_v + Σ_u J_uv·x_u`` over the neighbours ``u`` already set;
    ``v`` takes the upper value (+1 or 1) when the field is negative and the lower one (−1 or
    0) otherwise, in ``bqm``'s vartype.

    Example:
        >>> import dimod
        >>> bqm = dimod.BQM.from_ising({"c": 0.5}, {("a", "b"): 1.0, ("b", "c"): -2.0})
        >>> greedy_fill(bqm, {"a": 1}, ["b", "c"])
        {'b': -1, 'c': -1}
    """
    low, high = (-1, 1) if bqm.vartype is dimod.SPIN else (0, 1)
    state = dict(fixed)
    for v in new:
        field = bqm.get_linear(v) + sum(bias * state[u] for u, bias in bqm.iter_neighborhood(v) if u in state)
        state[v] = high if field < 0 else low
    return {v: state[v] for v in new}
