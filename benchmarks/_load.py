"""A competing CPU load for benchmarks that measure under one: busy processes for the duration of a block."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

SPIN = "import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    for _ in range(1_000_000):\n        pass\n"
"""A busy process that ends by itself once the benchmark is gone (its parent changes)."""


@contextmanager
def competing_load(processes: int) -> Iterator[None]:
    """``processes`` busy Python processes for the duration of the block, ended after it whatever happens."""
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(processes)]
    try:
        if spinners:
            time.sleep(1.0)  # let them reach the cores
        yield
    finally:
        for spinner in spinners:
            spinner.terminate()
        for spinner in spinners:
            try:
                spinner.wait(timeout=5)
            except subprocess.TimeoutExpired:
                spinner.kill()
                spinner.wait()
