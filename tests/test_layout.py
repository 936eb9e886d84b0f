"""One module owns the runs folder's layout: ``benchmark/layout.py`` is the only caller of ``paths.runs_dir()``
(read with ``ast``: a call, however imported), so every path under the runs folder is made in one place."""

from __future__ import annotations

import ast

from benchmark import layout, paths
from benchmark.paths import REPO_ROOT

OWNERS = {"benchmark/layout.py", "benchmark/paths.py"}


def runs_dir_callers() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for path in sorted((REPO_ROOT / "benchmark").rglob("*.py")):
        rel = path.relative_to(REPO_ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
                if name == "runs_dir" and rel not in OWNERS:
                    found.setdefault(rel, []).append(node.lineno)
    return found


def test_only_the_layout_module_builds_paths_under_the_runs_folder():
    assert not runs_dir_callers(), f"build these paths with benchmark.layout instead: {runs_dir_callers()}"


def test_every_layout_path_is_under_the_runs_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("RECONBENCH_RUNS", str(tmp_path))
    made = [layout.evaluate_dir("p", "u"), layout.predictions_file("p", "u", "k"),
            layout.result_file("p", "u", "m/x", "backward", "a", "j", "likelihood"), layout.embeddings_dir(),
            layout.baseline_run("cpu", "p", "u", "m"), layout.submission_runs("s", "1", "p", "u"),
            layout.slice_dir("p", "u", "train8", "org/model"), layout.transfer_dir("p", "u"),
            layout.controls_dir("p", "u"), layout.controls_reports_dir(), layout.demo_dir(), layout.grid_state("g"),
            layout.grid_baseline("p", "u", "k"), layout.grid_cell("d")]
    assert all(p.is_relative_to(paths.runs_dir()) for p in made)
    assert len(set(made)) == len(made)
    assert layout.result_file("p", "u", "m/x", "b", "a", "j").name == "m_x--vs--b--a--j--pairwise.json"
