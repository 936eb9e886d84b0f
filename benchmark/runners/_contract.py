"""The submission contract: the manifest, the input folder the harness hands a submission, and the run result a
runner reports. Both runners (docker, local) honour exactly this contract; docs/submissions.md explains it to
outsiders.

Input folder (read-only for the submission):
    task.json     what to do (schema ``submission_task``): pack, user, limits, the output file name
    train.jsonl   the user's training records (schema ``record``), one per line
Output folder (writable): the submission writes ``traces.jsonl`` (schema ``traces``) and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataError
from ..io import dumps_canonical, read_json, sha256_bytes, write_json
from ..paths import REPO_ROOT, SUBMISSIONS_DIR
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


# The reference methods ship as submissions/<name>/ in this checkout; their names (and a few that would pass for
# them) are reserved: only those folders may use them, so no outside submission can pose as the baseline.
REFERENCE_NAMES = ("backward", "recon_select", "recon_grpo", "e2e_grpo")
RESERVED_NAMES = frozenset(REFERENCE_NAMES) | {"backward_synthesis", "backward-synthesis", "baseline", "reference",
                                               "oracle", "recon-select", "recon-grpo", "e2e-grpo"}


def _reserved(name: str) -> bool:
    folded = name.replace("-", "_")
    return name in RESERVED_NAMES or folded in RESERVED_NAMES or folded.rstrip("_0123456789") in REFERENCE_NAMES


def is_reference(sub: Submission) -> bool:
    """Whether ``sub`` is one of the project's own reference methods: its name is a reference name and its folder is
    this checkout's ``submissions/<name>/`` (a manifest name alone proves nothing)."""
    return sub.name in REFERENCE_NAMES and sub.folder == (SUBMISSIONS_DIR / sub.name).resolve()


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    return any(path == r or r in path.parents for r in roots)


def load_submission(folder: Path | str) -> Submission:
    """Read and validate ``<folder>/manifest.json``; a Dockerfile and its build context must lie inside the
    submission folder or the RECON-Bench checkout (so a manifest cannot send the host's files into a build)."""
    folder = Path(folder).resolve()
    path = folder / "manifest.json"
    manifest = read_json(path)
    validate("submission_manifest", manifest, file=path)
    if _reserved(manifest["name"]) and folder != (SUBMISSIONS_DIR / manifest["name"]).resolve():
        raise DataError(f"the name {manifest['name']!r} is reserved for the project's reference methods (only "
                        f"submissions/{manifest['name']}/ of this checkout may use it); choose another name",
                        file=path, field="name")
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
    """What a runner saw: how the process ended, and its logs (stdout and stderr: the head and the tail, capped).
    ``output_dir`` is where the output is to be validated (None: the folder the runner was given); ``cleanup``
    releases it once the validated bytes are copied."""

    exit_code: int | None
    timed_out: bool
    oom_killed: bool
    duration_s: float
    logs: str
    image: str | None = None
    image_id: str | None = None
    output_exceeded: bool = False  # the output folder grew past the policy's output_bytes
    output_quota: str = "none"  # how the output folder was capped while running: tmpfs, watchdog
    output_dir: Path | None = None
    cleanup: Callable[[], None] | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)

    def release(self) -> None:
        if self.cleanup is not None:
            self.cleanup()
            self.cleanup = None


# default cap of a submission's logs kept in the outcome folder (the policy's log_bytes)
MAX_LOG_BYTES = 1 << 20
