"""A ``highspy.Highs`` object that can be created without the banner highspy prints."""

from __future__ import annotations

import os
import sys

import highspy

__all__ = ["new_highs"]


def new_highs(quiet: bool = True) -> highspy.Highs:
    """A fresh ``Highs`` object; with ``quiet``, the banner highspy prints on the first one is dropped.

    highspy (1.16) writes that banner from C++ to file descriptor 1 before any option can be set,
    which would corrupt machine-readable output such as ``gnnsolve compare --json``.
    """
    if not quiet:
        return highspy.Highs()
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
