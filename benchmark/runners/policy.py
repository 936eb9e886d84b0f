"""The operator's policy: ceilings on what a manifest may request, and the harness's own caps on output and logs.

A manifest's ``resources`` are *requests*. Each is compared with the policy; a request beyond a ceiling is either
clamped to it (``on_excess = "clamp"``, the default) or the run is refused as ``over_policy`` (``"refuse"``). Either
way the outcome records the policy and every request that was over it (``outcome["policy"]["clamped"]``).

The policy comes from, in order of precedence: the ``reconbench submit`` flags (``--max-memory-mb`` ...), a TOML file
(``--policy FILE``, else ``$RECONBENCH_POLICY``, else ``<RECONBENCH_HOME>/policy.toml`` when it exists), the
defaults below. A file looks like::

    on_excess = "refuse"     # or "clamp"
    memory_mb = 8192
    cpus = 4
    pids = 512
    timeout_s = 86400
    gpu = true               # may a manifest ask for GPUs
    output_bytes = 67108864  # the output folder's size while the submission runs (and the traces file's cap)
    log_bytes = 1048576      # stdout+stderr kept per run: the first and the last half
    build_timeout_s = 3600   # an image build (docker runner)
    build_memory_mb = 4096   # memory of each build step
    local_user = "nobody"    # the local runner, invoked as root, runs the command as this user ("" = do not drop)
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from ..errors import DataError
from ..paths import cache_home

_GIB = 1 << 30


def _host_memory_mb() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1 << 20)
    except (ValueError, OSError, AttributeError):
        return 16384


@dataclass(frozen=True)
class Policy:
    on_excess: str = "clamp"
    memory_mb: int = 16384
    cpus: float = 8.0
    pids: int = 1024
    timeout_s: int = 172800
    gpu: bool = True
    output_bytes: int = 64 << 20
    log_bytes: int = 1 << 20
    build_timeout_s: int = 3600
    build_memory_mb: int = 4096
    local_user: str = "nobody"
    source: str = "defaults"

    def __post_init__(self):
        if self.on_excess not in ("clamp", "refuse"):
            raise DataError(f"on_excess must be 'clamp' or 'refuse', not {self.on_excess!r}", file=self.source)
        for f in ("memory_mb", "pids", "timeout_s", "output_bytes", "log_bytes", "build_timeout_s",
                  "build_memory_mb"):
            value = getattr(self, f)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise DataError(f"{f} must be a positive integer, not {value!r}", file=self.source)
        if not isinstance(self.cpus, (int, float)) or isinstance(self.cpus, bool) or self.cpus <= 0:
            raise DataError(f"cpus must be a positive number, not {self.cpus!r}", file=self.source)
        if self.log_bytes < 1024:
            raise DataError("log_bytes must be at least 1024", file=self.source)

    def as_dict(self) -> dict:
        return asdict(self)

    def apply(self, requested: dict) -> tuple[dict, list[dict]]:
        """The resources a run gets for ``requested`` (the manifest's, pids defaulted) and the requests over a
        ceiling as ``[{"field", "requested", "allowed"}]`` (the resources are clamped whatever ``on_excess`` says;
        the caller refuses the run when it says so)."""
        effective = dict(requested)
        over = []
        for f in ("memory_mb", "cpus", "pids", "timeout_s"):
            if requested[f] > getattr(self, f):
                over.append({"field": f, "requested": requested[f], "allowed": getattr(self, f)})
                effective[f] = getattr(self, f)
        if requested.get("gpu") and not self.gpu:
            over.append({"field": "gpu", "requested": True, "allowed": False})
            effective["gpu"] = False
        return effective, over


def default_policy() -> Policy:
    """The built-in defaults, scaled down on a small host: memory at most half the host's, CPUs at most its count."""
    return Policy(memory_mb=min(Policy.memory_mb, max(256, _host_memory_mb() // 2)),
                  cpus=float(min(Policy.cpus, os.cpu_count() or 1)))


def policy_file() -> Path | None:
    """The policy file used when none is named: ``$RECONBENCH_POLICY``, else ``<home>/policy.toml`` if present."""
    env = os.environ.get("RECONBENCH_POLICY")
    if env:
        return Path(env)
    path = cache_home() / "policy.toml"
    return path if path.is_file() else None


def load_policy(path: Path | str | None = None, **overrides) -> Policy:
    """The policy from ``path`` (or ``policy_file()``) over the defaults, then the non-None ``overrides``."""
    policy = default_policy()
    path = Path(path) if path is not None else policy_file()
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise DataError(f"cannot read the policy: {e}", file=path) from None
        known = {f.name for f in fields(Policy)} - {"source"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DataError(f"unknown policy setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}",
                            file=path)
        policy = replace(policy, **data, source=str(path))
    given = {k: v for k, v in overrides.items() if v is not None}
    if given:
        policy = replace(policy, **given, source=f"{policy.source} + flags ({', '.join(sorted(given))})")
    return policy
