"""``reconbench submit``: run a submission on a pack's user splits (benchmark.runners), validate and record each
run, then evaluate the traces that passed against Backward Synthesis (benchmark.evaluate). The chaining of the two
stages lives here, in the orchestration layer, so the harness does not depend on the evaluation."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click
from tabulate import tabulate

from .. import layout, paths
from ..errors import DataError
from ..evaluate.settings import EvalSettings, eval_options
from ..flags import TRACES, renamed
from ..io import sha256_bytes
from ..runners import load_submission, run_split
from ..runners._contract import TRACES_FILE
from ..runners._run import RUNNERS
from ..runners.policy import load_policy
from ..runners.validate import LeakCheck


@click.command()
@renamed("--limit", "--train-limit", type=click.IntRange(min=1))
@renamed("--eval-limit", "--test-limit", type=click.IntRange(min=1))
@renamed("--baseline", "--baseline-traces", type=TRACES)
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--pack", required=True, help="domain pack whose user splits the submission runs on")
@click.option("--user", "users", multiple=True, help="user split(s) to run (repeatable); default: all of the pack's")
@click.option("--runner", type=click.Choice(sorted(RUNNERS)), default="docker", show_default=True)
@click.option("--models-dir", type=click.Path(path_type=Path), help="weights mounted read-only [default: models dir]")
@click.option("--lm-socket", type=click.Path(path_type=Path), help="Unix socket of an OpenAI-compatible endpoint")
@click.option("--build-arg", "build_args", multiple=True, metavar="KEY=VALUE", help="extra image build argument")
@click.option("--leak-max-fraction", type=click.FloatRange(0, 1), default=LeakCheck.max_fraction, show_default=True,
              help="fail the run when more than this share of traces copy the real action")
@click.option("--no-evaluate", is_flag=True, help="only run and validate; do not call the evaluation stage")
@click.option("--baseline-traces", type=TRACES,
              help="Backward Synthesis traces.jsonl to evaluate against [default: the newest recorded backward run]")
@eval_options
@click.option("--demonstrated", type=click.IntRange(min=1), metavar="N",
              help="run only on the training records retrieval shows (--k each) to the first N test records, and "
                   "evaluate those N [default --test-limit: N]")
@click.option("--policy", "policy_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="operator policy (TOML) [default: $RECONBENCH_POLICY, else <RECONBENCH_HOME>/policy.toml if "
              "present]")
@click.option("--on-excess", type=click.Choice(["clamp", "refuse"]), help="a request over the policy: clamp it or "
              "refuse the run [policy default: clamp]")
@click.option("--max-memory-mb", type=click.IntRange(min=16), help="ceiling on resources.memory_mb")
@click.option("--max-cpus", type=click.FloatRange(min=0, min_open=True), help="ceiling on resources.cpus")
@click.option("--max-pids", type=click.IntRange(min=8), help="ceiling on resources.pids")
@click.option("--max-timeout-s", type=click.IntRange(min=1), help="ceiling on resources.timeout_s")
@click.option("--max-output-bytes", type=click.IntRange(min=4096), help="size of the output folder while running")
@click.option("--max-log-bytes", type=click.IntRange(min=1024), help="stdout+stderr kept per run (head and tail)")
@click.option("--max-build-s", type=click.IntRange(min=1), help="time limit of an image build")
def submit(path, pack, users, runner, models_dir, lm_socket, build_args, leak_max_fraction, no_evaluate,
           baseline_traces, demonstrated, policy_path, on_excess, max_memory_mb, max_cpus, max_pids, max_timeout_s,
           max_output_bytes, max_log_bytes, max_build_s, settings):
    """Validate and run the submission at PATH on the user splits of PACK, validate its traces and record the
    outcome (with logs) under the runs folder; then evaluate the traces that passed. The manifest's resources are
    requests, capped by the operator's policy (see docs/submissions.md)."""
    from .. import packs  # lazily: loading packs is not needed for `images`

    policy = load_policy(policy_path, on_excess=on_excess, memory_mb=max_memory_mb, cpus=max_cpus, pids=max_pids,
                         timeout_s=max_timeout_s, output_bytes=max_output_bytes, log_bytes=max_log_bytes,
                         build_timeout_s=max_build_s)
    sub = load_submission(path)
    args = dict(_parse_build_arg(a) for a in build_args)
    check = LeakCheck(max_fraction=leak_max_fraction)
    limit, eval_limit, baseline = settings.train_limit, settings.test_limit, baseline_traces
    rows, ok_runs = [], []
    if demonstrated is not None:
        eval_limit = eval_limit or demonstrated
        if eval_limit > demonstrated:
            raise DataError(f"--test-limit {eval_limit} evaluates test records whose demonstrations --demonstrated "
                            f"{demonstrated} did not run on", field="test_limit")
    for user in users or packs.users(pack):
        records = packs.load_split(pack, user, "train")[:limit]
        if demonstrated is not None:
            from ..retrieval import demonstrated as shown

            records = shown(records, packs.load_split(pack, user, "test")[:demonstrated], settings.k)
        outcome, run_dir = run_split(sub, pack, user, records, runner=runner,
                                     models_dir=models_dir or paths.models_dir(), lm_socket=lm_socket,
                                     build_args=args, check=check, policy=policy)
        failure = outcome["failure"] or {}
        rows.append([pack, user, outcome["status"], failure.get("kind", ""), failure.get("blame", ""),
                     (outcome["validation"] or {}).get("n_traces", 0), len(records),
                     (outcome["process"] or {}).get("duration_s", ""), run_dir])
        if outcome["policy"]["clamped"]:
            click.echo(f"{pack}/{user}: over the policy ({outcome['policy']['on_excess']}): "
                       + ", ".join(f"{o['field']} {o['requested']} -> {o['allowed']}"
                                   for o in outcome["policy"]["clamped"]), err=True)
        if failure:
            click.echo(f"{pack}/{user}: {failure['kind']} ({failure['blame']}): {failure['message']}", err=True)
        else:
            ok_runs.append((user, run_dir))
    click.echo(tabulate(rows, headers=["pack", "user", "status", "failure", "blame", "traces", "records", "seconds",
                                       "run"]))
    if ok_runs and not no_evaluate:
        _evaluate(sub, pack, ok_runs, baseline=baseline, settings=replace(settings, test_limit=eval_limit))
    if len(ok_runs) < len(rows):
        raise SystemExit(1)


def _evaluate(sub, pack: str, ok_runs: list[tuple[str, Path]], *, baseline: Path | None,
              settings: EvalSettings) -> None:
    """Hand the validated traces to the evaluation stage (benchmark.evaluate), against Backward Synthesis."""
    from ..evaluate import evaluate
    from ..evaluate.cli import summary_table

    for user, run_dir in ok_runs:
        base = baseline or recorded_backward_traces(pack, user)
        if base is None:
            click.echo(f"{pack}/{user}: no Backward Synthesis traces to compare with (run `reconbench baselines run "
                       f"backward` or submit submissions/backward first, or pass --baseline-traces): not evaluated",
                       err=True)
            continue
        outcome = json.loads((run_dir / "outcome.json").read_text()) if (run_dir / "outcome.json").exists() else {}
        result = evaluate(run_dir / TRACES_FILE, base, pack, user, method_name=sub.name,
                          unisolated=bool(outcome.get("unisolated", False)), **settings.kwargs())
        click.echo(f"{pack}/{user}: {sub.name} vs backward ({base})")
        click.echo(summary_table(result))


def recorded_backward_traces(pack: str, user: str) -> Path | None:
    """The newest recorded Backward Synthesis traces for (pack, user): a successful run of this checkout's own
    ``submissions/backward`` (its outcome says ``reference`` and names the manifest's current sha256), else the output
    of `reconbench baselines run backward`. A run recorded under the name ``backward`` by anything else is ignored."""
    candidates = []
    manifest = paths.SUBMISSIONS_DIR / "backward" / "manifest.json"
    want = sha256_bytes(manifest.read_bytes()) if manifest.is_file() else None
    for outcome_file in (layout.submissions_root() / "backward").glob(f"*/{pack}/{user}/*/outcome.json"):
        try:
            outcome = json.loads(outcome_file.read_text(encoding="utf-8"))
            sub = outcome["submission"]
            if (outcome["status"] == "ok" and sub.get("reference") is True and sub["manifest_sha256"] == want
                    and sub["name"] == "backward"):
                candidates.append(outcome_file.parent / TRACES_FILE)
        except (OSError, ValueError, KeyError, TypeError):
            continue
    candidates += layout.baselines_root().glob(f"*/{pack}/{user}/backward/output/{TRACES_FILE}")
    candidates = [p for p in candidates if p.is_file()]
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None


def _parse_build_arg(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{text!r} is not KEY=VALUE", param_hint="--build-arg")
    return key, value
