"""The runs folder's layout: every path under ``benchmark.paths.runs_dir()`` is made here and nowhere else
(tests/test_layout.py checks), so a reader finds where anything is written in one page.

```
<runs>/
  evaluate/<pack>/<user>/predictions/<key>.jsonl    predictions, saved as they are made (benchmark.evaluate)
  evaluate/<pack>/<user>/...                         verdicts and likelihood scores, keyed by what they depend on
  results/<pack>/<user>/<method>--vs--<baseline>--<action model>--<judge>--<protocol>.json   default result path
  embeddings/                                        retrieval embeddings, keyed by model and texts
  baselines/<config>/<pack>/<user>/<method>/         `reconbench baselines run` (input/, output/, manifest.json)
  submissions/<name>/<version>/<pack>/<user>/<run>/  `reconbench submit` runs (outcome.json, logs, output/)
  slices/<pack>/<user>/<slice>/<synthesizer>/        the demo's and the transfer matrix's traces
  transfer/<pack>/<user>/                            the transfer matrix's result files
  controls/<pack>/<user>/                            the controls' Backward Synthesis traces and result files
  controls/reports/                                  control reports written without --out
  demo/                                              the demo's result and its board
  grid/<name>/                                       a grid's state (cells/, results/, summary.md)
  grid/baselines/<pack>/<user>/<key>/backward/       a grid split's Backward Synthesis traces (shared by its cells)
  grid/cells/<digest>/                               a grid cell's working folder
```"""

from __future__ import annotations

from pathlib import Path

from .paths import runs_dir


def slug(text: str) -> str:
    """``text`` as a file-name part: anything but letters, digits and ``._-`` becomes ``_``."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in text)


def evaluate_dir(pack: str, user: str) -> Path:
    return runs_dir() / "evaluate" / pack / user


def predictions_file(pack: str, user: str, key: str) -> Path:
    return evaluate_dir(pack, user) / "predictions" / f"{key}.jsonl"


def result_file(pack: str, user: str, method: str, baseline: str, action_model: str, judge: str,
                protocol: str = "pairwise") -> Path:
    name = "--".join(slug(s) for s in (method, "vs", baseline, action_model, judge, protocol))
    return runs_dir() / "results" / pack / user / f"{name}.json"


def embeddings_dir() -> Path:
    return runs_dir() / "embeddings"


def baselines_root() -> Path:
    return runs_dir() / "baselines"


def baseline_run(config: str, pack: str, user: str, method: str) -> Path:
    return baselines_root() / config / pack / user / method


def submissions_root(root: Path | None = None) -> Path:
    return (root or runs_dir()) / "submissions"


def submission_runs(name: str, version: str, pack: str, user: str, root: Path | None = None) -> Path:
    return submissions_root(root) / name / version / pack / user


def slice_dir(pack: str, user: str, slice_name: str, synthesizer: str) -> Path:
    return runs_dir() / "slices" / pack / user / slice_name / slug(synthesizer)


def transfer_dir(pack: str, user: str) -> Path:
    return runs_dir() / "transfer" / pack / user


def controls_dir(pack: str, user: str) -> Path:
    return runs_dir() / "controls" / pack / user


def controls_reports_dir() -> Path:
    return runs_dir() / "controls" / "reports"


def demo_dir() -> Path:
    return runs_dir() / "demo"


def grid_state(name: str) -> Path:
    return runs_dir() / "grid" / name


def grid_baseline(pack: str, user: str, key: str) -> Path:
    return runs_dir() / "grid" / "baselines" / pack / user / key / "backward"


def grid_cell(digest: str) -> Path:
    return runs_dir() / "grid" / "cells" / digest
