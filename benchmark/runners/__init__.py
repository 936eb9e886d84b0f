"""Running submissions: the contract (manifest, input and output folders), the runners (``docker``, ``local``),
the operator's policy, the output validator and the classification of failures. See docs/submissions.md for the
contract in words."""

from ._contract import (
    ENV_INPUT,
    ENV_LM_URL,
    ENV_MODELS,
    ENV_OUTPUT,
    REFERENCE_NAMES,
    RESERVED_NAMES,
    TASK_FILE,
    TRACES_FILE,
    TRAIN_FILE,
    Limits,
    RunResult,
    Submission,
    is_reference,
    load_submission,
    prepare_input,
)
from ._run import RUNNERS, run_split, submission_runs_dir
from .failures import INFRASTRUCTURE, KINDS, SUBMISSION, InfrastructureFailure, RunFailure, SubmissionFailure, blame
from .policy import Policy, load_policy
from .validate import LeakCheck, Validation, copied_share, validate_output

__all__ = [
    "ENV_INPUT", "ENV_LM_URL", "ENV_MODELS", "ENV_OUTPUT", "REFERENCE_NAMES", "RESERVED_NAMES", "TASK_FILE",
    "TRACES_FILE", "TRAIN_FILE", "Limits", "RunResult", "Submission", "is_reference", "load_submission",
    "prepare_input", "RUNNERS", "run_split", "submission_runs_dir", "INFRASTRUCTURE", "KINDS", "SUBMISSION",
    "InfrastructureFailure", "RunFailure", "SubmissionFailure", "blame", "Policy", "load_policy", "LeakCheck",
    "Validation", "copied_share", "validate_output",
]
