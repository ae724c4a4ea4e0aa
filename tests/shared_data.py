"""What several test modules share: the benchmark data folder, file writing, an exact TSP solver."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gnnsolve.adapters.datasets import shared_data_dir

DATA = shared_data_dir()
needs_data = pytest.mark.skipif(
    DATA is None, reason="benchmark data not found at ../shared/data beside the project (or $GNNSOLVE_DATA)"
)


def write(path: Path, text: str) -> Path:
    """Write ``text`` byte for byte (CRLF stays CRLF) and return the path."""
    path.write_bytes(text.encode())
    return path


def held_karp(D: np.ndarray) -> float:
    """Optimal closed-tour length, by dynamic programming over the subsets of cities 1..n-1."""
    n = len(D)
    full = 1 << (n - 1)
    cost = np.full((full, n - 1), np.inf)
    for j in range(n - 1):
        cost[1 << j, j] = D[0, j + 1]
    inner = D[1:, 1:]
    for subset in range(1, full):
        members = [k for k in range(n - 1) if subset >> k & 1]
        for j in members:
            previous = subset & ~(1 << j)
            if previous:
                cost[subset, j] = np.min(cost[previous, members] + inner[members, j])
    return float(np.min(cost[full - 1] + D[1:, 0]))
