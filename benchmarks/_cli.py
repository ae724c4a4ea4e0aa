"""Command-line conventions the benchmarks share: ``--quick`` and full-run defaults, and ``--out``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def fill_defaults(args: argparse.Namespace, quick: dict[str, Any], full: dict[str, Any]) -> None:
    """Options left unset take the ``--quick`` run's value or the full run's; a full run writes to
    ``docs/benchmarks`` unless ``--out`` says otherwise, a quick one nowhere."""
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.out is None and not args.quick:
        args.out = Path("docs/benchmarks")
