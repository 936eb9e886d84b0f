"""Keep the real action out of the traces. The harness fails a run whose traces copy their actions
(``benchmark.leak``: normalised word n-grams, shared pieces, gapped and reordered copies); a synthesizer that sees
the action (backward, RECON) redacts what would trip that rule before a trace is written or handed to the
reconstruction model, so that neither the output nor a GRPO reward can profit from quoting the answer."""

from __future__ import annotations

from ..leak import REDACTED, LeakCheck, redact_action

__all__ = ["REDACTED", "LeakCheck", "redact_action"]
