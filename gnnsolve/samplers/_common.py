"""Small pieces every gnnsolve sampler shares: timing, devices, seeds, argument checks."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

__all__ = ["Stopwatch", "resolve_device", "check_time_limit", "check_positive_int", "seed_generator"]


@dataclass
class Stopwatch:
    """Integer-nanosecond phase timer whose :meth:`timing` is the dimod ``info["timing"]`` dict.

    Example:
        >>> watch = Stopwatch()
        >>> with watch.phase("sampling"):
        ...     pass
        >>> sorted(watch.timing())
        ['postprocessing_ns', 'preprocessing_ns', 'sampling_ns']
    """

    start_ns: int = field(default_factory=time.perf_counter_ns)
    phases: dict[str, int] = field(default_factory=dict)

    def phase(self, name: str) -> "_Phase":
        return _Phase(self, name)

    def elapsed(self) -> float:
        """Seconds since the stopwatch was created."""
        return (time.perf_counter_ns() - self.start_ns) * 1e-9

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


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``"cpu"``, ``"cuda"``, ``"cuda:1"`` or a torch device; a clear error if CUDA is absent."""
    try:
        resolved = torch.device("cpu" if device is None else device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"device={str(device)!r} was asked for but torch sees no CUDA GPU "
            f"(torch {torch.__version__}); use device='cpu' or install a CUDA build of torch"
        )
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    return resolved


def check_time_limit(time_limit: float | None) -> float | None:
    """``None`` or a positive finite number of seconds."""
    if time_limit is None:
        return None
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)):
        raise TypeError(f"time_limit must be a number of seconds, got {time_limit!r}")
    if not math.isfinite(time_limit) or time_limit <= 0:
        raise ValueError(f"time_limit must be a positive, finite number of seconds, got {time_limit!r}")
    return float(time_limit)


def check_positive_int(name: str, value: int) -> int:
    """``value`` as an int if it is a positive integer, else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def seed_generator(seed: int | None) -> np.random.Generator:
    """A numpy generator; ``seed=None`` draws fresh entropy."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer or None, got {seed!r}")
    return np.random.default_rng(seed)
