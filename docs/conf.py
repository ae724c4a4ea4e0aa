"""Sphinx configuration of the gnnsolve documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` after
``pip install -e ".[docs]"``.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
# The installed package is documented; the checkout's root only comes first when gnnsolve is
# not installed, so that `gnnsolve` resolves (gnnsolve.adapters then needs the install).
try:
    import gnnsolve
except ImportError:  # pragma: no cover - a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))
    import gnnsolve

project = "gnnsolve"
author = "gnnsolve contributors"
copyright = "gnnsolve contributors, Apache-2.0"
release = gnnsolve.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.intersphinx",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "**/*.json", "Thumbs.db", ".DS_Store"]

# MyST: the Markdown pages (benchmarks, distributed) and the guides.
myst_enable_extensions = ["colon_fence", "deflist", "dollarmath"]
myst_heading_anchors = 3

# autodoc + napoleon: the code's docstrings are Google style.
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True
# Optional extras: documented even where they are not installed.
autodoc_mock_imports = ["gurobipy", "elkai", "leidenalg", "elf"]
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False
napoleon_attr_annotations = True

# intersphinx: links into the documentation of the libraries gnnsolve speaks to.
INTERSPHINX = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "dimod": ("https://docs.dwavequantum.com/en/latest/", None),
    "networkx": ("https://networkx.org/documentation/stable/", None),
    "pyomo": ("https://pyomo.readthedocs.io/en/stable/", None),
    "torch": ("https://docs.pytorch.org/docs/stable/", None),
    "torch_geometric": ("https://pytorch-geometric.readthedocs.io/en/latest/", None),
}


def _reachable(url: str, timeout: float = 3.0) -> bool:
    """Whether ``url``'s host accepts a connection (an inventory can be fetched from it)."""
    host = urlparse(url).hostname
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


# Offline (no route to a host, or GNNSOLVE_DOCS_OFFLINE=1) an inventory that cannot be fetched is
# left out rather than failing a `-W` build; its references then render as plain text.
if os.environ.get("GNNSOLVE_DOCS_OFFLINE"):
    intersphinx_mapping: dict = {}
else:
    _hosts: dict[str, bool] = {}
    intersphinx_mapping = {}
    for _name, (_url, _inv) in INTERSPHINX.items():
        _host = urlparse(_url).hostname
        if _host not in _hosts:
            _hosts[_host] = _reachable(_url)
        if _hosts[_host]:
            intersphinx_mapping[_name] = (_url, _inv)
intersphinx_timeout = 10

html_theme = "furo"
html_title = f"gnnsolve {release}"
html_static_path: list[str] = []

# Doctests of the guide pages (`sphinx-build -b doctest docs ...`).
# Only the ``{doctest}`` blocks of the guides: pytest's --doctest-modules already runs the
# docstrings' examples.
doctest_global_setup = "import gnnsolve"
doctest_test_doctest_blocks = ""

# Names a module re-exports from a sibling whose own page documents them.
autosummary_context = {"reexported": {"gnnsolve.adapters.clustering": "KCenter"}}

# Benchmark tables written by the scripts without a heading get one on the site.
UNTITLED = {
    "benchmarks/gset_maxcut": "G-set MaxCut, the full table",
    "benchmarks/epoch_cost": "Cost of one training epoch",
}


def _add_title(app, docname, source):
    if docname in UNTITLED and not source[0].lstrip().startswith("#"):
        source[0] = f"# {UNTITLED[docname]}\n\n{source[0]}"


def setup(app):
    app.connect("source-read", _add_title)
