"""Baselines that learned backends are compared against (see :mod:`gnnsolve.baselines.clustering`)."""

from gnnsolve.baselines.clustering import (
    BaselineResult,
    LinkPredictor,
    classical_on_observed,
    gcn_e2e,
    held_out_auc,
    merge_communities,
    predict_graph,
    train_link_predictor,
    two_stage,
)

__all__ = [
    "BaselineResult",
    "LinkPredictor",
    "classical_on_observed",
    "gcn_e2e",
    "held_out_auc",
    "merge_communities",
    "predict_graph",
    "train_link_predictor",
    "two_stage",
]
