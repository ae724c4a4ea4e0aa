"""Baselines that learned backends are compared against: :mod:`gnnsolve.baselines.clustering`
(two-stage, GCN-e2e and classical-on-observed, for ClusterNet)."""
