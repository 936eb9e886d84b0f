"""RECON-Bench: how much do synthesized reasoning traces help a frozen action model imitate a real person?

Pipeline stages, one sub-package each: ``packs`` (build frozen domain packs) -> ``synthesize`` (write a trace per
training pair) -> ``evaluate`` (retrieval-augmented action prediction, pairwise judge, win rates) -> ``publish``
(scorer and static leaderboard). ``models`` is the one LM interface every stage uses; ``runners`` runs submitted
synthesizer containers.
"""

__version__ = "0.1.0"
