"""Small pieces every gnnsolve sampler shares: timing and budgets, seeds, argument checks.

This module imports no torch, so the exact samplers load without it; the torch pieces (devices,
threads) are in :mod:`gnnsolve.samplers._torch`.

The budget convention, shared by every sampler (and by dimod's Leap hybrid samplers, whose
``time_limit=None`` also means "the default for this problem's size"):

- ``time_limit=None`` (the default): the sampler's documented default budget, derived from the
  model's size, so a call with no keywords ends on its own;
- ``time_limit=math.inf``: no limit at all (the run ends when the method says it is done);
- a positive number: seconds for the whole call, from the moment ``sample`` is entered to the
  moment it returns, model building and polishing included.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dimod
import numpy as np

__all__ = [
    "Stopwatch",
    "check_time_limit",
    "resolve_time_limit",
    "check_positive_int",
    "check_seed",
    "seed_generator",
    "MAX_SEED",
    "available_memory",
    "cqm_sampleset",
    "labelled",
]


@dataclass
class Stopwatch:
    """Integer-nanosecond phase timer whose :meth:`timing` is the dimod ``info["timing"]`` dict.

    It also holds the call's budget: ``time_limit`` seconds from its creation (``math.inf`` for
    none), so every phase of a call reads one clock and one deadline.

    Example:
        >>> watch = Stopwatch(time_limit=5.0)
        >>> with watch.phase("sampling"):
        ...     pass
        >>> sorted(watch.timing())
        ['postprocessing_ns', 'preprocessing_ns', 'sampling_ns']
        >>> 4.9 < watch.remaining() <= 5.0, watch.expired()
        (True, False)
    """

    time_limit: float = math.inf
    start_ns: int = field(default_factory=time.perf_counter_ns)
    phases: dict[str, int] = field(default_factory=dict)

    def phase(self, name: str) -> "_Phase":
        return _Phase(self, name)

    def elapsed(self) -> float:
        """Seconds since the stopwatch was created."""
        return (time.perf_counter_ns() - self.start_ns) * 1e-9

    def remaining(self) -> float:
        """Seconds left of the budget (``math.inf`` without one; never below 0)."""
        return max(self.time_limit - self.elapsed(), 0.0)

    def expired(self) -> bool:
        """Whether the budget is spent."""
        return self.elapsed() >= self.time_limit

    def deadline(self, share: float = 1.0) -> float:
        """The time on this clock (as :meth:`elapsed` reads it) by which ``share`` of what is left will be spent."""
        return self.elapsed() + share * self.remaining()

    def timing(self) -> dict[str, int]:
        names = ("preprocessing", "sampling", "postprocessing")
        return {f"{name}_ns": int(self.phases.get(name, 0)) for name in names}


class _Phase:
    def __init__(self, watch: Stopwatch, name: str) -> None:
        self.watch, self.name = watch, name

    def __enter__(self) -> "_Phase":
        self.t0 = time.perf_counter_ns()
        return self

    def __exit__(self, *exc: object) -> None:
        spent = time.perf_counter_ns() - self.t0
        self.watch.phases[self.name] = self.watch.phases.get(self.name, 0) + spent


def check_time_limit(time_limit: float | None) -> float | None:
    """``None`` (the sampler's default budget), ``math.inf`` (no limit) or a positive number of seconds.

    Example:
        >>> check_time_limit(None), check_time_limit(2), check_time_limit(float("inf"))
        (None, 2.0, inf)
    """
    if time_limit is None:
        return None
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float, np.integer, np.floating)):
        raise TypeError(f"time_limit must be a number of seconds, got {time_limit!r}")
    if math.isnan(time_limit) or time_limit <= 0:
        raise ValueError(
            f"time_limit must be a positive number of seconds (math.inf for no limit, None for the "
            f"sampler's default), got {time_limit!r}"
        )
    return float(time_limit)


def resolve_time_limit(time_limit: float | None, default: float) -> float:
    """The budget of a call: ``time_limit`` checked, or ``default`` where it is ``None``."""
    checked = check_time_limit(time_limit)
    return default if checked is None else checked


def check_positive_int(name: str, value: int) -> int:
    """``value`` as an int if it is a positive integer, else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


MAX_SEED = 2_000_000_000
"""The largest seed any sampler accepts: the largest that every backend takes (Gurobi's ``Seed``
parameter stops at 2e9, HiGHS's ``random_seed`` at 2**31 - 1, dwave-samplers' at 2**32 - 1), so
that one seed can be handed to all of them, as ``gnnsolve compare --seed`` does."""


def check_seed(seed: int | None) -> int | None:
    """``seed`` as an int, or ``None``; anything but an integer in [0, :data:`MAX_SEED`] is a
    ValueError naming ``seed`` and the range.

    Example:
        >>> from gnnsolve.samplers._common import check_seed
        >>> check_seed(7), check_seed(None)
        (7, None)
        >>> check_seed(1.5)
        Traceback (most recent call last):
        ...
        ValueError: seed must be None or an integer in [0, 2000000000], got 1.5
    """
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be None or an integer in [0, {MAX_SEED}], got {seed!r}")
    return int(seed)


def seed_generator(seed: int | None) -> np.random.Generator:
    """A numpy generator from a :func:`check_seed`-checked ``seed``; ``None`` draws fresh entropy."""
    return np.random.default_rng(check_seed(seed))


def available_memory() -> float:
    """Bytes this process can still allocate, as far as the system says: the least of the
    memory available to new allocations (Linux ``MemAvailable``), the room left under a
    control group's ``memory.max`` and under the address-space limit (``ulimit -v``);
    ``math.inf`` where none of them is known.

    Example:
        >>> from gnnsolve.samplers._common import available_memory
        >>> available_memory() > 0
        True
    """
    limits = [math.inf]
    meminfo = _read_text("/proc/meminfo")
    for line in meminfo.splitlines():
        if line.startswith("MemAvailable:"):
            limits.append(float(line.split()[1]) * 1024)
    cap, used = _read_text("/sys/fs/cgroup/memory.max").strip(), _read_text("/sys/fs/cgroup/memory.current").strip()
    if cap.isdigit() and used.isdigit():
        limits.append(float(int(cap) - int(used)))
    try:
        import resource  # POSIX only
    except ImportError:
        return max(0.0, min(limits))
    address_space = resource.getrlimit(resource.RLIMIT_AS)[0]
    if address_space != resource.RLIM_INFINITY:
        statm = _read_text("/proc/self/statm").split()
        mapped = float(statm[0]) * os.sysconf("SC_PAGE_SIZE") if statm else 0.0
        limits.append(float(address_space) - mapped)
    return max(0.0, min(limits))


def _read_text(path: str) -> str:
    """A small system file's text, or ``""`` where it does not exist or cannot be read."""
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def labelled(sampleset: dimod.SampleSet, label: str | None) -> dimod.SampleSet:
    """``sampleset`` with ``info["problem_label"]`` set where a ``label`` was given, as Leap's
    hybrid samplers keep the ``label`` of a call.

    Example:
        >>> import dimod
        >>> labelled(dimod.SampleSet.from_samples([], "BINARY", []), "run 3").info
        {'problem_label': 'run 3'}
    """
    if label is not None:
        sampleset.info["problem_label"] = label
    return sampleset


def cqm_sampleset(samples: dimod.typing.SamplesLike, cqm: dimod.ConstrainedQuadraticModel, **vectors: Any) -> dimod.SampleSet:
    """:meth:`dimod.SampleSet.from_samples_cqm` (data ``vectors`` included), with the energy of an
    objective of no variables set to its constant (dimod 0.12 gives 0 there, dropping a
    feasibility model's constant).

    Example:
        >>> import dimod
        >>> cqm = dimod.ConstrainedQuadraticModel()
        >>> cqm.set_objective(dimod.QuadraticModel() + 3.0)
        >>> x = dimod.Binary("x")
        >>> _ = cqm.add_constraint(x == 1, label="one")
        >>> float(cqm_sampleset({"x": 1}, cqm).first.energy)
        3.0
    """
    sampleset = dimod.SampleSet.from_samples_cqm(samples, cqm, **vectors)
    if cqm.objective.num_variables == 0:
        sampleset.record.energy[:] = cqm.objective.offset
    return sampleset
