"""Data files shipped with gnnsolve: the trained multicut policy checkpoint."""
