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


def check_lists(parser: argparse.ArgumentParser, lists: tuple[tuple[str, str, Any], ...]) -> None:
    """Each ``(option, comma-separated value, known names)`` names only known items, else the
    parser's usage error naming the unknown ones and the choices."""
    for option, value, known in lists:
        unknown = set(value.split(",")) - set(known)
        if unknown:
            parser.error(f"--{option}: unknown {sorted(unknown)}; choose from {', '.join(known)}")
