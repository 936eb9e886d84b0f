"""The submission contract: the manifest, the input folder the harness hands a submission, and the run result a
runner reports. Both runners (docker, local) honour exactly this contract; docs/submissions.md explains it to
outsiders.

Input folder (read-only for the submission):
    task.json     what to do (schema ``submission_task``): pack, user, limits, the output file name
    train.jsonl   the user's training records (schema ``record``), one per line
Output folder (writable): the submission writes ``traces.jsonl`` (schema ``traces``) and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError
from ..io import dumps_canonical, read_json, sha256_bytes, write_json
from ..paths import REPO_ROOT
from ..schema import validate

ENV_INPUT = "RECONBENCH_INPUT"
ENV_OUTPUT = "RECONBENCH_OUTPUT"
ENV_MODELS = "RECONBENCH_MODELS"
ENV_LM_URL = "RECONBENCH_LM_URL"

TASK_FILE = "task.json"
TRAIN_FILE = "train.jsonl"
TRACES_FILE = "traces.jsonl"
DEFAULT_PIDS = 256

TASK_TEXT = (
    "Write one reasoning trace for every training record in train.jsonl: why this user said `action` after "
    "`context`. Write traces.jsonl to the output folder, one JSON object {\"id\", \"trace\", \"meta\"?} per line, "
    "every training id exactly once. The traces are shown, with context and action, as demonstrations to a frozen "
    "action model that predicts the user's unseen next turns; do not copy the action into the trace."
)


@dataclass(frozen=True)
class Limits:
    """Output caps the validator enforces and task.json announces."""

    max_trace_chars: int = 8000  # the traces schema's maxLength
    max_line_bytes: int = 64 * 1024  # one traces.jsonl line, meta included
    max_file_bytes: int = 64 * 1024 * 1024


@dataclass(frozen=True)
class Submission:
    """A validated manifest and the folder it came from."""

    folder: Path
    manifest: dict
    manifest_sha256: str

    @property
    def name(self) -> str:
        return self.manifest["name"]

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def resources(self) -> dict:
        return {"pids": DEFAULT_PIDS, **self.manifest["resources"]}

    @property
    def image_tag(self) -> str:
        """The tag an image built from this submission's Dockerfile gets (deterministic from the manifest)."""
        image = self.manifest["image"]
        return image.get("name") or f"reconbench-sub-{self.name}:{self.version}".lower()


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def load_submission(folder: Path | str) -> Submission:
    """Read and validate ``<folder>/manifest.json``; a Dockerfile and its build context must lie inside the
    submission folder or the RECON-Bench checkout (so a manifest cannot send the host's files into a build)."""
    folder = Path(folder).resolve()
    path = folder / "manifest.json"
    manifest = read_json(path)
    validate("submission_manifest", manifest, file=path)
    image = manifest["image"]
    if "dockerfile" in image:
        roots = (folder, REPO_ROOT)
        for field in ("dockerfile", "context"):
            if field not in image:
                continue
            target = (folder / image[field]).resolve()
            if not _inside(target, roots):
                raise DataError(f"{image[field]!r} leaves the submission folder and the checkout", file=path,
                                field=f"image/{field}")
            if not target.exists():
                raise DataError(f"{image[field]!r} does not exist", file=path, field=f"image/{field}")
    return Submission(folder, manifest, sha256_bytes(path.read_bytes()))


def prepare_input(dest: Path | str, *, pack: str, user: str, records: list[dict], limits: Limits = Limits()) -> Path:
    """Write the input folder for one user split: ``task.json`` and ``train.jsonl``. Returns ``dest``."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for i, r in enumerate(records, 1):
        validate("record", r, file=TRAIN_FILE, record=r.get("id", f"line {i}") if isinstance(r, dict) else f"line {i}")
    task = {
        "schema_version": 1,
        "pack": pack,
        "user": user,
        "task": TASK_TEXT,
        "train_file": TRAIN_FILE,
        "n_records": len(records),
        "output_file": TRACES_FILE,
        "limits": {"max_trace_chars": limits.max_trace_chars, "max_line_bytes": limits.max_line_bytes,
                   "max_file_bytes": limits.max_file_bytes},
    }
    validate("submission_task", task, file=dest / TASK_FILE)
    write_json(dest / TASK_FILE, task)
    (dest / TRAIN_FILE).write_text("".join(dumps_canonical(r) + "\n" for r in records), encoding="utf-8")
    return dest


@dataclass
class RunResult:
    """What a runner saw: how the process ended, and its logs (stdout and stderr, tail-capped)."""

    exit_code: int | None
    timed_out: bool
    oom_killed: bool
    duration_s: float
    logs: str
    image: str | None = None
    image_id: str | None = None

# the tail of a submission's logs that is kept in the outcome folder
MAX_LOG_BYTES = 1 << 20
