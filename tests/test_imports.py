"""The package's own import graph follows the pipeline: no module imports a stage above its own.

The order, lowest first: packs -> models -> synthesize -> runners -> evaluate -> controls -> publish -> orchestrate,
with ``benchmark/demo.py`` and ``benchmark/cli.py`` on top (they compose everything). Top-level modules such as
``errors``, ``io``, ``layout``, ``leak``, ``paths``, ``prompts`` and ``schema``, and the ``benchmark/records/``
package (the result file, control reports, verdict rules and statistics that stages hand each other), are shared
and sit below every stage. A stage may import its own modules and any stage below it. Imports are read with ``ast``
from every ``benchmark/**/*.py``, including imports inside functions: a lazy import is still a dependency.

ALLOWED lists the exceptions, each with the reason (none today: issue 14 moved the chaining of stages into
``benchmark/orchestrate``). A new upward import fails the first test; removing one of the listed imports fails the
second until its entry is deleted, so the list stays an exact record."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from benchmark.paths import REPO_ROOT

PACKAGE = REPO_ROOT / "benchmark"
STAGES = ("packs", "models", "synthesize", "runners", "evaluate", "controls", "publish", "orchestrate")
ON_TOP = ("benchmark.demo", "benchmark.cli")
SHARED_PACKAGES = ("records",)  # the files stages hand each other (results, control reports, statistics)

# (importing module, stage it imports) -> why the upward import exists today
ALLOWED: dict[tuple[str, str], str] = {
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """module -> the ``benchmark`` modules it imports (a name imported from a package that is itself a module
    counts as that module)."""
    files = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                graph[name].update(a.name for a in node.names if a.name.split(".")[0] == "benchmark")
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] != "benchmark":
                    continue
                for alias in node.names:
                    sub = f"{target}.{alias.name}"
                    graph[name].add(sub if sub in files else target)
    return graph


def rank(module: str) -> tuple[int, str]:
    """(position in the pipeline order, stage name) of a module; shared top-level modules are -1."""
    if module in ON_TOP:
        return len(STAGES), module
    parts = module.split(".")
    if len(parts) == 1 or not (PACKAGE / parts[1] / "__init__.py").is_file() or parts[1] in SHARED_PACKAGES:
        return -1, "shared"
    assert parts[1] in STAGES, (f"benchmark/{parts[1]}/ is not in the stage order of tests/test_imports.py: add it to "
                                f"STAGES (or ON_TOP) where it belongs in the pipeline")
    return STAGES.index(parts[1]), parts[1]


def upward_imports() -> dict[tuple[str, str], set[str]]:
    """(importing module, stage above it) -> the modules of that stage it imports."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for module, targets in import_graph().items():
        for target in targets:
            (own, _), (other, stage) = rank(module), rank(target)
            if other > own:
                found[(module, stage)].add(target)
    return found


def test_the_graph_is_read():
    graph = import_graph()
    assert "benchmark.models" in graph["benchmark.evaluate.pipeline"]
    assert "benchmark.evaluate.judge" in graph["benchmark.evaluate.pipeline"]  # `from . import judge as judge_mod`
    assert "benchmark.layout" in graph["benchmark.evaluate.pipeline"]  # `from .. import layout`
    assert sum(map(len, graph.values())) > 200


def test_no_module_imports_a_stage_above_its_own():
    new = {k: sorted(v) for k, v in upward_imports().items() if k not in ALLOWED}
    assert not new, ("these modules import a stage above their own (order: " + " -> ".join(STAGES) + "); move the "
                     "shared code down or the chaining up, rather than adding to ALLOWED: "
                     + "; ".join(f"{m} imports {', '.join(t)}" for (m, _), t in sorted(new.items())))


def test_every_allowed_exception_still_exists():
    stale = sorted(set(ALLOWED) - set(upward_imports()))
    assert not stale, f"these upward imports are gone: delete their ALLOWED entries in tests/test_imports.py: {stale}"


# the stages a chain runs; packs and models are the foundation every stage reads (data and LMs), not a step of it
PIPELINE = ("synthesize", "runners", "evaluate", "controls", "publish")
# module -> why it still runs two pipeline stages itself
CHAINING_ALLOWED: dict[str, str] = {}


def chains() -> dict[str, list[str]]:
    """module outside benchmark.orchestrate and the top -> the other pipeline stages it imports, if two or more."""
    found = {}
    for module, targets in import_graph().items():
        own = rank(module)[1]
        if own == "orchestrate" or module in ON_TOP:
            continue
        other = sorted({rank(t)[1] for t in targets} & set(PIPELINE) - {own})
        if len(other) >= 2:
            found[module] = other
    return found


def test_only_the_orchestration_layer_chains_stages():
    new = {m: s for m, s in chains().items() if m not in CHAINING_ALLOWED}
    assert not new, f"these modules chain pipeline stages; move the chaining to benchmark/orchestrate: {new}"
    stale = sorted(set(CHAINING_ALLOWED) - set(chains()))
    assert not stale, f"these modules no longer chain stages: delete their CHAINING_ALLOWED entries: {stale}"


def test_scripts_and_benchmarks_import_names_that_exist():
    """benchmarks/*.py and scripts/*.py are not imported by any test; a module they name that moved away (as
    ``benchmark.publish._slice`` did) must fail here, not months later on the machine that runs the benchmark."""
    import importlib

    missing = []
    for path in sorted([*(REPO_ROOT / "benchmarks").glob("*.py"), *(REPO_ROOT / "scripts").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "benchmark":
                try:
                    module = importlib.import_module(node.module)
                except ImportError as e:
                    missing.append(f"{path.name}:{node.lineno} {node.module} ({e})")
                    continue
                missing += [f"{path.name}:{node.lineno} {node.module}.{a.name}" for a in node.names
                            if not hasattr(module, a.name)
                            and importlib.util.find_spec(f"{node.module}.{a.name}") is None]
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] == "benchmark" and importlib.util.find_spec(a.name) is None:
                        missing.append(f"{path.name}:{node.lineno} {a.name}")
    assert not missing, f"these imports in benchmarks/ or scripts/ name nothing: {missing}"
