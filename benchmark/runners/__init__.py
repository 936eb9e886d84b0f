"""Running submissions: the contract (manifest, input and output folders), the runners (``docker``, ``local``),
the output validator and the classification of failures. See docs/submissions.md for the contract in words."""

from ._contract import (ENV_INPUT, ENV_LM_URL, ENV_MODELS, ENV_OUTPUT, TASK_FILE, TRACES_FILE, TRAIN_FILE, Limits,
                        RunResult, Submission, load_submission, prepare_input)
from ._run import RUNNERS, run_split, submission_runs_dir
from .failures import INFRASTRUCTURE, KINDS, SUBMISSION, InfrastructureFailure, blame
from .validate import LeakCheck, Validation, copied_share, validate_output

__all__ = [
    "ENV_INPUT", "ENV_LM_URL", "ENV_MODELS", "ENV_OUTPUT", "TASK_FILE", "TRACES_FILE", "TRAIN_FILE", "Limits",
    "RunResult", "Submission", "load_submission", "prepare_input", "RUNNERS", "run_split", "submission_runs_dir",
    "INFRASTRUCTURE", "KINDS", "SUBMISSION", "InfrastructureFailure", "blame", "LeakCheck", "Validation",
    "copied_share", "validate_output",
]
