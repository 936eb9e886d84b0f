"""Where grid cells run. An executor has a ``name`` and ``run(cells) -> iterator of (cell, outcome)`` in completion
order; every cell is ``benchmark.orchestrate.cell.run_cell`` on some machine, and a cell whose worker dies comes back
as a failed outcome (``worker_lost``), never as an exception that would stop the grid.

- ``LocalExecutor``: this machine, at most ``workers`` cells at once, each in a fresh Python process (torch state and
  memory go away with it; a crash takes down only its cell).
- ``RayExecutor``: Ray tasks with the cell's declared resources (CPUs, memory, GPUs); ``address`` joins an existing
  cluster, none starts a local Ray instance. Results and logs come back through Ray's object store. The driver's
  ``RECONBENCH_*`` settings (models folder, data, raw corpora, LM endpoint) are forwarded to the workers as their
  environment, so every worker must have those paths (docs/grid.md)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from ..io import read_json, write_json

FORWARDED_PREFIXES = ("RECONBENCH_", "OPENAI_", "HF_", "TRANSFORMERS_", "DOCKER_")


def forwarded_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The driver's settings a worker needs: ``RECONBENCH_*`` (and the model libraries' own), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k.startswith(FORWARDED_PREFIXES)}
    return env | {k: v for k, v in (extra or {}).items() if v is not None}


def _lost(message: str) -> dict:
    return {"status": "failed", "failure": {"kind": "worker_lost", "blame": "infrastructure", "message": message},
            "log": ""}


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int = 1, env: dict[str, str] | None = None):
        self.workers = max(1, workers)
        self.env = env or {}

    def _one(self, cell: dict, tmp: Path) -> dict:
        cell_file, out_file = tmp / f"{cell['digest']}.cell.json", tmp / f"{cell['digest']}.out.json"
        write_json(cell_file, cell)
        proc = subprocess.run([sys.executable, "-m", "benchmark.orchestrate.cell", str(cell_file), str(out_file)],
                              env={**os.environ, **self.env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, errors="replace")
        try:
            return read_json(out_file)
        except (OSError, ValueError):
            return _lost(f"the cell's process exited {proc.returncode} without an outcome") | {
                "log": proc.stdout[-20_000:]}

    def run(self, cells: list[dict]) -> Iterator[tuple[dict, dict]]:
        with tempfile.TemporaryDirectory(prefix="reconbench-grid-") as tmp, \
                ThreadPoolExecutor(max_workers=self.workers) as pool:
            futures = {pool.submit(self._one, cell, Path(tmp)): cell for cell in cells}
            for future in as_completed(futures):
                yield futures[future], future.result()


class RayExecutor:
    name = "ray"

    def __init__(self, address: str | None = None, *, cpus: float = 1, memory_mb: int | None = None,
                 gpus: float = 0, env: dict[str, str] | None = None, num_cpus: int | None = None):
        try:
            import ray
        except ModuleNotFoundError:
            from ..errors import ReconBenchError

            raise ReconBenchError("the ray executor needs Ray: pip install 'ray==2.60.0'") from None
        self.ray = ray
        self.address, self.env = address, env or {}
        self.options = {"num_cpus": cpus, "num_gpus": gpus, "max_retries": 0,
                        **({"memory": memory_mb << 20} if memory_mb else {})}
        self.num_cpus = num_cpus

    def _init(self) -> None:
        ray = self.ray
        if ray.is_initialized():
            return
        runtime_env = {"env_vars": forwarded_env(self.env)}
        if self.address:
            ray.init(address=self.address, runtime_env=runtime_env, log_to_driver=False)
        else:  # a local instance, small: the results are kilobytes
            ray.init(num_cpus=self.num_cpus, include_dashboard=False, log_to_driver=False,
                     object_store_memory=256 << 20, runtime_env=runtime_env)

    def _check_feasible(self) -> None:
        """Refuse a cell no node can hold (Ray would wait for it forever)."""
        nodes = [n.get("Resources", {}) for n in self.ray.nodes() if n.get("Alive")]
        for key, want in (("CPU", self.options["num_cpus"]), ("GPU", self.options["num_gpus"])):
            have = max((n.get(key, 0) for n in nodes), default=0)
            if want and want > have:
                from ..errors import ReconBenchError

                raise ReconBenchError(f"a cell asks for {want} {key}s (the grid's resources) and the largest node of "
                                      f"the Ray cluster has {have}")

    def run(self, cells: list[dict]) -> Iterator[tuple[dict, dict]]:
        if not cells:
            return
        self._init()
        self._check_feasible()
        ray = self.ray
        from .cell import run_cell

        task = ray.remote(run_cell).options(**self.options)
        pending = {task.remote(cell): cell for cell in cells}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            ref = done[0]
            cell = pending.pop(ref)
            try:
                outcome = ray.get(ref)
            except (ray.exceptions.RayError, OSError) as e:
                outcome = _lost(f"{type(e).__name__}: {str(e)[:2000]}")
            yield cell, outcome

    def shutdown(self) -> None:
        if self.ray.is_initialized() and not self.address:
            self.ray.shutdown()


def make_executor(name: str, *, workers: int = 1, address: str | None = None, resources: dict | None = None,
                  env: dict[str, str] | None = None):
    resources = resources or {}
    if name == "local":
        return LocalExecutor(workers, env=forwarded_env(env))
    if name == "ray":
        cpus = resources.get("cpus", 1)
        # a local instance gets room for --workers cells at once
        return RayExecutor(address, cpus=cpus, memory_mb=resources.get("memory_mb"), gpus=resources.get("gpus", 0),
                           env=env, num_cpus=None if address else max(1, math.ceil(workers * cpus)))
    from ..errors import DataError

    raise DataError(f"unknown executor {name!r}; known: local, ray", field="executor")
