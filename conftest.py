"""Test collection: the Gurobi sampler's examples need gurobipy, an optional extra."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("gurobipy") else ["gnnsolve/samplers/gurobi.py"]
