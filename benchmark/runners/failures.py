"""Who is to blame when a run fails. A submission's own failures (bad output, non-zero exit, timeout, out of memory,
copying the real action) are its result; the infrastructure's (engine down, image missing, build failure) say the
run did not really happen and may be retried. Both are recorded with their logs in the run outcome."""

from __future__ import annotations

from ..errors import ReconBenchError

SUBMISSION = "submission"
INFRASTRUCTURE = "infrastructure"

# failure kind -> who is to blame
KINDS: dict[str, str] = {
    "bad_output": SUBMISSION,  # traces.jsonl missing, malformed, duplicate/unknown/missing ids, oversize, extra files
    "leak": SUBMISSION,  # too many traces copy the real action
    "nonzero_exit": SUBMISSION,
    "timeout": SUBMISSION,
    "oom": SUBMISSION,
    "engine_down": INFRASTRUCTURE,
    "image_missing": INFRASTRUCTURE,
    "build_failed": INFRASTRUCTURE,
}


def blame(kind: str) -> str:
    """``"submission"`` or ``"infrastructure"`` for a failure kind of ``KINDS``."""
    return KINDS[kind]


class InfrastructureFailure(ReconBenchError):
    """The harness could not run the submission at all; ``kind`` is one of the infrastructure kinds."""

    def __init__(self, kind: str, message: str, logs: str = ""):
        if blame(kind) != INFRASTRUCTURE:
            raise ValueError(f"{kind!r} is not an infrastructure failure")
        self.kind, self.logs = kind, logs
        super().__init__(f"{kind}: {message}")
        self.message = message
