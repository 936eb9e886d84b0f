"""Who is to blame when a run fails. A submission's own failures (bad output, a command that cannot run, a Dockerfile
that does not build, non-zero exit, timeout, out of memory, copying the real action, asking for more than the
operator's policy allows) are its result; the infrastructure's (engine down, image missing, a build the engine could
not carry out, an error of the harness itself) say the run did not really happen and may be retried. Both are
recorded with their logs in the run outcome."""

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
    "bad_command": SUBMISSION,  # the manifest's command cannot be started (not in the image, not executable)
    "bad_build": SUBMISSION,  # the submission's Dockerfile failed (a RUN step failed, a syntax error, over time)
    "over_policy": SUBMISSION,  # the manifest asks for more than the operator's policy allows (policy: refuse)
    "engine_down": INFRASTRUCTURE,
    "image_missing": INFRASTRUCTURE,
    "build_failed": INFRASTRUCTURE,  # the engine could not carry out the build (not the Dockerfile's fault)
    "harness_error": INFRASTRUCTURE,  # an unexpected error of the harness itself (a bug: please report it)
}


def blame(kind: str) -> str:
    """``"submission"`` or ``"infrastructure"`` for a failure kind of ``KINDS``."""
    return KINDS[kind]


class RunFailure(ReconBenchError):
    """The run ended before the submission's process could run (or finish) normally; ``kind`` is one of ``KINDS``."""

    def __init__(self, kind: str, message: str, logs: str = ""):
        blame(kind)  # a KeyError for an unknown kind
        self.kind, self.logs = kind, logs
        super().__init__(f"{kind}: {message}")
        self.message = message


class InfrastructureFailure(RunFailure):
    """The harness could not run the submission at all; ``kind`` is one of the infrastructure kinds."""

    def __init__(self, kind: str, message: str, logs: str = ""):
        if blame(kind) != INFRASTRUCTURE:
            raise ValueError(f"{kind!r} is not an infrastructure failure")
        super().__init__(kind, message, logs)


class SubmissionFailure(RunFailure):
    """The submission made the run impossible (its command cannot start, its Dockerfile fails, it asks too much)."""

    def __init__(self, kind: str, message: str, logs: str = ""):
        if blame(kind) != SUBMISSION:
            raise ValueError(f"{kind!r} is not a submission failure")
        super().__init__(kind, message, logs)
