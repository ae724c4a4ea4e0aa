"""The torch pieces every learned sampler shares: devices and intra-op threads.

Threads. torch's intra-op pool defaults to one thread per core, and its threads spin while they
wait for work. A learned sampler's per-step work (one message pass over a sparse graph, an Adam
step on a few hundred thousand parameters) is small, so on a machine where any other process
competes for the cores those spinning threads cost far more than they save: measured on a
2-core machine, an 800-node PI-GNN epoch took 1.2 ms with one thread whether idle or not, and
7.2 ms with two as soon as one other busy process ran (13 ms against 2.5 ms with three). So the
samplers run with one thread unless a step's work is large enough to amortise the pool
(:data:`PARALLEL_WORK`) and the cores are idle (:func:`default_threads`); the count is set for the
call only (:func:`torch_threads`) and reported in ``info["threads"]``.

Example:
    >>> import torch
    >>> from gnnsolve.samplers._torch import torch_threads
    >>> before = torch.get_num_threads()
    >>> with torch_threads(1) as used:
    ...     torch.get_num_threads(), used
    (1, 1)
    >>> torch.get_num_threads() == before
    True
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import overload

import numpy as np
import torch

__all__ = ["resolve_device", "check_threads", "default_threads", "torch_threads", "PARALLEL_WORK", "seeded_generator"]

PARALLEL_WORK = 50_000_000
"""Multiply-adds per training step from which more than one thread is considered. Below it
one thread is never slower than two on an idle 2-core machine, and several times faster on a
busy one (``benchmarks/budget.py``)."""


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


def seeded_generator(seed: int | None) -> torch.Generator:
    """A CPU generator seeded with ``seed``, or with fresh entropy where it is ``None`` (drawn
    from the operating system, so torch's global generator, which the caller may have seeded,
    is left alone).

    Example:
        >>> from gnnsolve.samplers._torch import seeded_generator
        >>> a, b = seeded_generator(3), seeded_generator(3)
        >>> bool(torch.equal(torch.rand(2, generator=a), torch.rand(2, generator=b)))
        True
    """
    return torch.Generator().manual_seed(seed if seed is not None else secrets.randbits(63))


@overload
def check_threads(threads: int) -> int: ...
@overload
def check_threads(threads: int | None) -> int | None: ...
def check_threads(threads: int | None) -> int | None:
    """``None`` (the library chooses) or a positive number of intra-op threads."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be a positive integer or None (the library chooses), got {threads!r}")
    return int(threads)


def _usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _other_runnable() -> float:
    """How many other threads want a core now: the kernel's count of runnable tasks
    (``/proc/loadavg``, sampled a few times, the largest kept) less this one; elsewhere the
    one-minute load average."""
    try:
        counts = []
        for _ in range(3):
            with open("/proc/loadavg") as file:
                counts.append(int(file.read().split()[3].partition("/")[0]))
            time.sleep(0.001)
        return max(counts) - 1
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except (AttributeError, OSError):
            return 0.0


def default_threads(work: float) -> int:
    """The intra-op thread count for a training step of ``work`` multiply-adds on the CPU.

    One thread below :data:`PARALLEL_WORK`. Above it, one per core that no other runnable
    thread wants at the start of the call (at least one): a busy core makes torch's spinning
    threads slower than a single one.
    """
    if work < PARALLEL_WORK:
        return 1
    cores = _usable_cores()
    return max(1, min(cores, int(cores - _other_runnable())))


@contextmanager
def torch_threads(threads: int | None, work: float = 0.0) -> Iterator[int]:
    """Run the block with ``threads`` intra-op threads (``None``: :func:`default_threads` of ``work``).

    The caller's setting is restored on exit, also after an exception. Yields the count used.
    """
    count = default_threads(work) if threads is None else check_threads(threads)
    before = torch.get_num_threads()
    if count != before:
        torch.set_num_threads(count)
    try:
        yield count
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
