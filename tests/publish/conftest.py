"""Fixtures for the publishing stage: schema-valid result files built from verdicts we choose (pure aggregation
logic), a board folder in the test's tmp dir, and headless Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from benchmark.evaluate import DIMENSIONS, final_verdict, judge_health, summarize
from benchmark.io import write_json
from benchmark.records.result import finalize

FP = {"smollm2-135m": "a" * 64, "qwen2.5-coder-0.5b": "b" * 64}
# the single-order choices that give each final verdict (method shown first, baseline shown first)
ORDERS = {"method": ("A", "B"), "baseline": ("B", "A"), "tie": ("A", "A"), "invalid": (None, "A")}


PROMPTS = {"judge_pairwise.v1": "f" * 64}  # the prompt versions make_result's results and make_report's reports record


def make_result(method: str, pack: str, user: str, finals: list[str], *, domain: str | None = None,
                action_model: str = "smollm2-135m", judge: str = "smollm2-135m", baseline: str = "backward",
                dims: dict[str, list[str]] | None = None) -> dict:
    """A schema-valid result whose example ``i`` has final verdict ``finals[i]`` (all dimensions, unless ``dims``
    gives other finals for a dimension). The statistics come from benchmark.evaluate, as in a real run."""
    examples = []
    for i in range(len(finals)):
        verdicts = {}
        for d in DIMENSIONS:
            f = (dims or {}).get(d, finals)[i]
            m, b = ORDERS[f]
            assert final_verdict(m, b) == f
            verdicts[d] = {"method_first": m, "baseline_first": b, "final": f}
        examples.append({"id": f"{pack}/{user}/d{i:03d}:t1", "method_chars": 100 + i, "baseline_chars": 120,
                         "method_parse_ok": True, "baseline_parse_ok": True, "verdicts": verdicts})
    side = lambda name: {"name": name, "traces_sha256": "c" * 64, "n_traces": 8, "reasoning": True}  # noqa: E731
    gen = {"max_tokens": 64, "temperature": 0.0, "top_p": 1.0, "seed": 0}
    doc = {
        "method": side(method), "baseline": side(baseline),
        "pack": {"name": pack, "train_sha256": "d" * 64, "test_sha256": "e" * 64},
        "domain": domain or pack, "user": user,
        "test": {"n_total": 150, "n_evaluated": len(finals), "limit": len(finals)},
        "action_model": {"name": action_model, "fingerprint": FP[action_model], "backend": "transformers",
                         "params": gen},
        "judge": {"name": judge, "fingerprint": FP[judge], "backend": "transformers", "mode": "options"},
        "prompts": dict(PROMPTS),
        "retrieval": {"k": 4, "embedding_model": {"name": "all-minilm-l6-v2", "fingerprint": "0" * 64},
                      "scope": "same-user-train"},
        "seeds": {"generation": 0, "bootstrap": 0, "bootstrap_samples": 200},
        "settings": {"prediction": {"prompt_limits": {"context_chars": 2000}, "stop": [], "max_tokens": 64},
                     "judge": {"context_chars": 1500, "dimensions": list(DIMENSIONS)}},
        "summary": summarize([ex | {"user": user} for ex in examples], seed=0, n_boot=200),
        "judge_health": judge_health(examples),
        "predictions": {"method": {"n": len(finals), "parse_failures": 0},
                        "baseline": {"n": len(finals), "parse_failures": 0}},
        "examples": examples,
    }
    return finalize(doc, {"created_at": "2026-01-02T03:04:05Z", "costs": {}})


@pytest.fixture
def write_result(tmp_path):
    """``write_result(doc, name) -> path``: a result file outside the store, as `reconbench evaluate` leaves it."""
    def write(doc: dict, name: str) -> Path:
        path = tmp_path / "incoming" / name
        write_json(path, doc)
        return path

    return write


@pytest.fixture
def board(tmp_path) -> Path:
    d = tmp_path / "leaderboard"
    d.mkdir()
    return d


@pytest.fixture
def chromium(tmp_path):
    """``chromium(url, *flags) -> CompletedProcess``: headless Chromium, a new empty profile each call."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.skip("Debian's chromium is not installed (scripts/setup.sh installs it when run as root)")
    return lambda url, *args: run_chromium(exe, tmp_path, url, *args)


def run_chromium(exe: str, tmp: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium with a fresh profile and every background network feature off."""
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    profile.mkdir()
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


@pytest.fixture(name="make_result")
def make_result_fixture():
    """``make_result(method, pack, user, finals, ...)``: see the function of the same name."""
    return make_result


# (wins, losses, ties) of 30 test turns and the bootstrap CI a control with that status could have measured: each
# report entry must be what its numbers decide (benchmark.controls.recheck, which the board applies)
_COUNTS = {("oracle", "PASS"): (28, 2, 0, 0.8, 1.0), ("wrong_user", "PASS"): (5, 25, 0, 0.05, 0.3),
           ("self", "PASS"): (0, 0, 30, 0.5, 0.5), ("judge_injection", "FAIL"): (25, 5, 0, 0.7, 0.95),
           ("shuffled_traces", "FAIL"): (25, 5, 0, 0.7, 0.95)}


def _numbers(name: str, status: str) -> dict:
    """The metric, value, counts and judge health of a report entry whose numbers decide ``status``."""
    none = {"estimate": None, "ci_low": None, "ci_high": None}
    if status == "N/A":
        return {"metric": "none", "value": none, "counts": None, "judge_health": None}
    if name == "length":
        r = 0.1 if status == "PASS" else 0.5
        return {"metric": "length_correlation", "value": {"estimate": r, "ci_low": r - 0.2, "ci_high": r + 0.2},
                "counts": None, "judge_health": None}
    wins, losses, ties, low, high = _COUNTS.get((name, status), (15, 15, 0, 0.33, 0.67))
    ties_half = name in ("self", "judge_injection")
    estimate = round((wins + ties / 2) / (wins + losses + ties) if ties_half else wins / (wins + losses), 6)
    return {"metric": "win_rate_ties_half" if ties_half else "win_rate",
            "value": {"estimate": estimate, "ci_low": low, "ci_high": high},
            "counts": {"n": wins + losses + ties, "wins": wins, "losses": losses, "ties": ties, "invalid": 0},
            "judge_health": {"order_flip_rate": ties / 30, "tie_rate": ties / 30, "first_position_win_rate": 0.5,
                             "length_correlation": 0.1}}


def make_report(pack: str, user: str, statuses: dict[str, str], *, judge: str = "smollm2-135m",
                action_model: str = "smollm2-135m", protocol: str = "pairwise",
                created_at: str = "2026-02-01T00:00:00Z", prompts: dict | None = PROMPTS) -> dict:
    """A schema-valid control report whose controls have ``statuses`` (name -> PASS/FAIL/N/A), each with numbers
    that decide it; its ranking is computed by the project's own rule, as ``reconbench controls`` does.
    ``prompts``: the prompt versions it checked (default: those ``make_result`` records); None leaves the field
    out, as reports made before it was recorded do."""
    from benchmark.controls.definitions import CONTROLS, THRESHOLDS
    from benchmark.records.controls_report import finalize as finalize_report
    from benchmark.records.controls_report import ranking

    controls = [{"name": n, "expectation": CONTROLS[n].expectation, "comparison": None,
                 "status": statuses.get(n, "N/A"), "reason": f"{n}: {statuses.get(n, 'N/A')}", "result_digest": None,
                 "meta": {}} | _numbers(n, statuses.get(n, "N/A")) for n in CONTROLS]
    ranks, why = ranking({c["name"]: c["status"] for c in controls})
    doc = {"protocol": {"name": protocol, "params": {}}, "ranking": {"ranks": ranks, "reason": why},
           "pack": {"name": pack, "train_sha256": "d" * 64, "test_sha256": "e" * 64}, "user": user, "domain": pack,
           "test": {"n_total": 150, "n_evaluated": 30, "limit": 30},
           "train": {"n_total": 400, "n_used": 24, "limit": 24},
           "action_model": {"name": action_model, "fingerprint": FP[action_model], "backend": "transformers"},
           "judge": {"name": judge, "fingerprint": FP[judge], "backend": "transformers", "mode": "options"},
           "backward_traces": {"sha256": "c" * 64, "n_traces": 24, "source": "file"},
           "settings": {"k": 4, "seed": 0, "max_tokens": 64, "thresholds": dict(THRESHOLDS)},
           "controls": controls, "passed": sum(c["status"] == "PASS" for c in controls),
           "failed": sum(c["status"] == "FAIL" for c in controls), "command": "pytest"}
    if prompts is not None:
        doc["prompts"] = dict(prompts)
    return finalize_report(doc, {"created_at": created_at, "git": {}, "seconds": 0.0, "costs": {}})


PASSING = {"oracle": "PASS", "wrong_user": "PASS", "self": "PASS", "shuffled_traces": "PASS", "length": "PASS",
           "judge_injection": "PASS", "no_reasoning": "INFO"}


def all_ranked(results: list[tuple]) -> dict[tuple, dict]:
    """``aggregate``'s ``reports`` argument with a passing report for every (protocol, judge, action model, pack) of
    ``results``: for tests of the ranking logic itself."""
    from benchmark.records.result import protocol_of

    return {(protocol_of(d), d["judge"]["fingerprint"], d["judge"].get("dtype", "float32"),
             d["action_model"]["fingerprint"], d["action_model"].get("dtype", "float32"), d["pack"]["name"]):
            {"ranks": True, "reason": "controls passed", "href": "controls/x.md", "prompts": d["prompts"]}
            for _, d in results}


@pytest.fixture(name="make_report")
def make_report_fixture():
    return make_report
