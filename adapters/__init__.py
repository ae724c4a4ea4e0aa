"""Adapters: translate problems stated elsewhere (graphs, files, Pyomo models) to and from dimod models."""
