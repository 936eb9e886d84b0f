"""Scoring protocols: one file each, registered by name (see ``_base`` for the interface).

- ``pairwise``: the paper's rule, both orders, a flip is a tie;
- ``pairwise-calibrated``: balanced position calibration of the same judgments (Wang et al. 2023);
- ``pointwise``: each prediction rated alone against the real response (probability-weighted 1-5), compared;
- ``likelihood``: judge-free, the action model's log-probability of the real action under each side's prompt;
- ``likelihood-reasoned``: the same, read after the action model's own greedy reasoning (its prediction up to
  "Response:").
"""

from . import likelihood, likelihood_reasoned, pairwise, pointwise  # noqa: F401  (each file registers its protocols)
from ._base import PROTOCOLS, Job, Protocol, decision_params, get_protocol, register

DEFAULT = "likelihood"  # the CPU default, chosen by the recorded controls (docs/controls.md)

__all__ = ["DEFAULT", "PROTOCOLS", "Job", "Protocol", "decision_params", "get_protocol", "register"]
