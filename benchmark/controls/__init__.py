"""Validity controls: comparisons whose right answer is known, run through the ordinary evaluation pipeline, to
show that the benchmark's win rate moves with what it claims to measure and not with position, length or noise.

``run_controls(pack, user, ...)`` runs every control in ``CONTROLS`` and returns the report
(``schemas/controls_report.schema.json``); ``write_report`` records it with a Markdown table. See docs/controls.md.
"""

from __future__ import annotations

from ..records.controls_report import markdown, read_report, table, write_index, write_report
from .definitions import (
           CONTROLS,
           Comparison,
           Control,
           Inputs,
           Measurement,
           derangement,
           generation_settings,
           length_correlation,
           recheck,
           shuffle_traces,
)
from .run import run_controls

__all__ = ["CONTROLS", "Comparison", "Control", "Inputs", "Measurement", "derangement", "generation_settings",
           "length_correlation", "markdown", "read_report", "recheck", "run_controls", "shuffle_traces", "table",
           "write_index", "write_report"]
