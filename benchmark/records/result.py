"""The result file: build it, validate it against ``result.schema.json`` and write it atomically; ``Result`` is the
typed view readers use (``Result.read(path).overall.win_rate.estimate`` rather than nested dict chains).

Everything but ``run`` is deterministic, so rerunning an evaluation gives the same bytes for it; ``digest`` is the
sha256 of the canonical JSON of the document without ``run`` and ``digest`` and is what comparisons use. ``run``
holds what describes one invocation only: when, costs (calls, tokens, seconds, cache hits per stage), the git
revision and package versions.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from .. import layout, paths
from ..io import dumps_canonical, read_json, sha256_text, write_json
from ..schema import validate

SCHEMA_VERSION = 2  # 2: the scoring protocol and each example's raw numbers (version 1 files still load)
PACKAGES = ("reconbench", "torch", "transformers", "sentence-transformers", "numpy", "jsonschema")


def digest(doc: dict) -> str:
    """sha256 of the deterministic part of a result (everything but ``run`` and ``digest``)."""
    return sha256_text(dumps_canonical({k: v for k, v in doc.items() if k not in ("run", "digest")}))


def package_versions() -> dict[str, str | None]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_state() -> dict:
    """The repository's revision and whether the work tree has changes; nulls outside a git checkout."""
    def git(*args: str) -> str | None:
        try:
            return subprocess.run(["git", *args], cwd=paths.REPO_ROOT, capture_output=True, text=True,
                                  timeout=10, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    rev = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"revision": rev, "dirty": None if status is None else bool(status)}


def run_block(costs: dict, seconds: float) -> dict:
    return {"created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "git": git_state(),
            "packages": package_versions(), "python": sys.version.split()[0], "platform": platform.platform(),
            "costs": costs, "seconds": round(seconds, 3)}


def finalize(doc: dict, run: dict) -> dict:
    """Add ``schema_version``, ``digest`` and ``run``; validate. Raises DataError naming the field if invalid."""
    doc = {"schema_version": SCHEMA_VERSION} | {k: v for k, v in doc.items() if k not in ("run", "digest")}
    doc["digest"] = digest(doc)
    doc["run"] = run
    validate("result", doc, record=f"{doc.get('method', {}).get('name')} vs {doc.get('baseline', {}).get('name')}")
    return doc


def write_result(path: Path | str, doc: dict) -> Path:
    """Validate and atomically write a result file (pretty, key-sorted JSON)."""
    validate("result", doc, file=path)
    write_json(path, doc)
    return Path(path)


def read_result(path: Path | str) -> dict:
    """A result file, validated."""
    doc = read_json(path)
    validate("result", doc, file=path)
    return doc


def protocol_of(doc: dict) -> str:
    """The scoring protocol a result was decided with; version 1 files predate protocols and used ``pairwise``."""
    return doc.get("protocol", {}).get("name", "pairwise")


def default_result_path(pack: str, user: str, method: str, baseline: str, action_model: str, judge: str,
                        protocol: str = "pairwise") -> Path:
    """``<runs>/results/<pack>/<user>/<method>--vs--<baseline>--<action model>--<judge>--<protocol>.json``."""
    return layout.result_file(pack, user, method, baseline, action_model, judge, protocol)


# ---- the typed view: what readers use instead of nested dict chains ------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    estimate: float | None  # None: nothing decided
    ci_low: float | None
    ci_high: float | None

    @classmethod
    def of(cls, d: Mapping) -> Estimate:
        return cls(d["estimate"], d["ci_low"], d["ci_high"])


@dataclass(frozen=True)
class DimensionStat:
    n: int  # decided + tied examples (invalid ones excluded)
    wins: int
    losses: int
    ties: int
    invalid: int
    win_rate: Estimate  # ties excluded
    win_rate_ties_half: Estimate

    @classmethod
    def of(cls, d: Mapping) -> DimensionStat:
        return cls(d["n"], d["wins"], d["losses"], d["ties"], d["invalid"], Estimate.of(d["win_rate"]),
                   Estimate.of(d["win_rate_ties_half"]))


def precision(model: Mapping) -> str:
    """The precision a recorded model (a result's, report's or matrix's ``{"dtype"?}``) computed in: the recorded one,
    or float32 for files that predate the field (every one of them was made on the CPU, whose default is float32)."""
    return model.get("dtype") or "float32"


@dataclass(frozen=True)
class ModelRef:
    name: str
    fingerprint: str
    backend: str | None = None
    mode: str | None = None  # the judge's: options, text or likelihood (no judge)
    dtype: str | None = None  # the precision the weights computed in; None: not recorded (before 2026-12-01)

    @classmethod
    def of(cls, d: Mapping) -> ModelRef:
        return cls(d["name"], d["fingerprint"], d.get("backend"), d.get("mode"), d.get("dtype"))

    @property
    def precision(self) -> str:
        """The precision the board keys on: the recorded one, or float32 for files that predate the field (every
        one of them was made on the CPU, whose default is float32)."""
        return precision({"dtype": self.dtype})


@dataclass(frozen=True)
class Side:
    name: str
    traces_sha256: str | None  # None: the no-reasoning control
    n_traces: int
    reasoning: bool
    user: str | None = None  # the wrong-user control: the other user whose demonstrations were used
    unisolated: bool = False  # traces from the local runner (no container)

    @classmethod
    def of(cls, d: Mapping) -> Side:
        return cls(d["name"], d["traces_sha256"], d["n_traces"], d.get("reasoning", d["traces_sha256"] is not None),
                   d.get("user"), bool(d.get("unisolated", False)))


@dataclass(frozen=True)
class Result:
    """A result file with typed access to what readers need; ``doc`` is the document itself (what ``write`` writes
    and ``digest`` covers), kept whole so nothing a newer writer added is lost on a round trip. ``Result.read`` and
    ``Result.from_doc`` validate; ``Result(doc)`` is a view of a document already validated (``read_result``)."""

    doc: Mapping = field(repr=False)

    @classmethod
    def read(cls, path: Path | str) -> Result:
        return cls(read_result(path))

    @classmethod
    def from_doc(cls, doc: Mapping, *, name: str = "result") -> Result:
        validate("result", doc, record=name)
        return cls(doc)

    def write(self, path: Path | str) -> Path:
        return write_result(path, dict(self.doc))

    @property
    def digest(self) -> str:
        return self.doc["digest"]

    @property
    def protocol(self) -> str:
        return protocol_of(self.doc)

    @property
    def protocol_params(self) -> dict:
        return dict(self.doc.get("protocol", {}).get("params", {}))

    @property
    def method(self) -> Side:
        return Side.of(self.doc["method"])

    @property
    def baseline(self) -> Side:
        return Side.of(self.doc["baseline"])

    @property
    def prompts(self) -> dict[str, str]:
        """Prompt template id (name.vN) -> sha256 of its text, for every prompt the evaluation used."""
        return dict(self.doc["prompts"])

    @property
    def pack(self) -> str:
        return self.doc["pack"]["name"]

    @property
    def user(self) -> str:
        return self.doc["user"]

    @property
    def domain(self) -> str:
        return self.doc["domain"]

    @property
    def action_model(self) -> ModelRef:
        return ModelRef.of(self.doc["action_model"])

    @property
    def judge(self) -> ModelRef:
        return ModelRef.of(self.doc["judge"])

    @property
    def k(self) -> int:
        return self.doc["retrieval"]["k"]

    @property
    def n_evaluated(self) -> int:
        return self.doc["test"]["n_evaluated"]

    @property
    def n_test(self) -> int:
        return self.doc["test"]["n_total"]

    @property
    def test_limit(self) -> int | None:
        return self.doc["test"]["limit"]

    @property
    def train_limit(self) -> int | None:
        return self.doc.get("train", {}).get("limit")

    @property
    def train_window(self) -> str:
        return self.doc.get("train", {}).get("window", "oldest")

    @property
    def examples(self) -> list[dict]:
        return self.doc["examples"]

    @property
    def dimensions(self) -> tuple[str, ...]:
        return tuple(self.doc["summary"]["dimensions"])

    def stat(self, dimension: str = "overall") -> DimensionStat:
        return DimensionStat.of(self.doc["summary"]["dimensions"][dimension])

    @property
    def overall(self) -> DimensionStat:
        return self.stat("overall")

    @property
    def length_controlled(self) -> Estimate | None:
        lc = self.doc["summary"].get("length_controlled")
        return None if lc is None else Estimate.of(lc)

    @property
    def likelihood_margin(self) -> dict | None:
        """The mean log-probability margin (nats/token) with its CI and n; None for judge protocols."""
        return self.doc["summary"].get("likelihood", {}).get("mean_margin")

    @property
    def created_at(self) -> str:
        return self.doc["run"]["created_at"]
