"""The evaluation pipeline: the fixed yardstick every method is measured with.

retrieval (same-user top-k neighbours) -> ``predict`` (frozen action model with k demonstrations) ->
``judge_pairs`` (pairwise judge, both orders, style/intent/values/overall) -> ``summarize`` (win rates with paired
users-then-examples bootstrap CIs) -> result file. ``evaluate`` composes them. See docs/evaluation.md.
"""

from __future__ import annotations

from ..records.result import digest, read_result, write_result
from ..records.stats import summarize, summarize_by, win_rate, win_rate_ties_half
from ..records.verdicts import DIMENSIONS, final_verdict
from ..retrieval import neighbours
from .calibration import calibrate, cohen_kappa
from .health import judge_health
from .judge import judge_pairs, parse_choice
from .pipeline import dtype_field, evaluate
from .predict import load_splits, oracle_predictions, parse_prediction, predict
from .traces import load_traces, traces_sha256

__all__ = ["DIMENSIONS", "calibrate", "cohen_kappa", "digest", "dtype_field", "evaluate", "final_verdict",
           "judge_health", "judge_pairs", "load_splits", "load_traces", "neighbours", "oracle_predictions",
           "parse_choice", "parse_prediction", "predict", "read_result", "summarize", "summarize_by", "traces_sha256",
           "win_rate", "win_rate_ties_half", "write_result"]
