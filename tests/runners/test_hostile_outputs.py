"""Hostile submissions, run for real through the harness (local runner always; docker where an engine starts): every
way they misbehave ends as a classified outcome with a clear message, never a traceback, the remaining user splits
still run and no ``.partial`` folder is left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmark import packs
from benchmark.cli import cli
from benchmark.errors import DataError
from benchmark.runners import Policy, load_submission, run_split, submission_runs_dir, validate_output
from benchmark.schema import validate

# Each hostile behaviour is a few lines of Python run by the submission: `records`, `out` (the output folder) and
# `line(r, **extra)` (a valid traces line) are defined before it.
PRELUDE = r'''
import json, os, sys, time
inp, out = os.environ["RECONBENCH_INPUT"], os.environ["RECONBENCH_OUTPUT"]
records = [json.loads(l) for l in open(os.path.join(inp, "train.jsonl"), encoding="utf-8")]
def line(r, **extra):
    return json.dumps({"id": r["id"], "trace": "The speaker weighs the last point.", **extra})
def write(lines):
    with open(os.path.join(out, "traces.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
'''

HOSTILE = {
    # meta nested 20,000 levels deep (about 40 KB: under the line cap)
    "deep": 'write([line(r) for r in records[1:]] + [json.dumps({"id": records[0]["id"], "trace": "t"})[:-1] '
            '+ \', "meta": \' + "[" * 20000 + "]" * 20000 + "}"])',
    # an integer of 5,000 digits
    "bigint": 'write([line(r) for r in records[1:]] + [json.dumps({"id": records[0]["id"], "trace": "t"})[:-1] '
              '+ \', "meta": {"n": \' + "9" * 5000 + "}}"])',
    # an escaped lone surrogate: decodes to a str that cannot be encoded again
    "surrogate": r"""write([line(r) for r in records[1:]] + ['{"id": "%s", "trace": "bad \\udc80 text"}' """
                 r"""% records[0]["id"]])""",
    "nan": 'write([line(r) for r in records[1:]] + [\'{"id": "%s", "trace": "t", "meta": {"x": NaN}}\' '
           '% records[0]["id"]])',
    # a valid traces file plus an extra file whose name is not UTF-8 and carries a terminal escape code
    "badname": 'write([line(r) for r in records]); '
               'open(os.path.join(os.fsencode(out), b"\\xff\\xfe\\x1b[31mred"), "w").write("x")',
    # thousands of extra files: the problem list stays capped
    "manyfiles": 'write([line(r) for r in records])\n'
                 'for i in range(900): open(os.path.join(out, f"extra-{i}"), "w").close()',
    # an empty extra folder
    "extradir": 'write([line(r) for r in records]); os.mkdir(os.path.join(out, "sub"))',
    # a hard link inside the output folder (a second name for traces.jsonl)
    "hardlink": 'write([line(r) for r in records]); '
                'os.link(os.path.join(out, "traces.jsonl"), os.path.join(out, ".keep"))',
    # a hard link to a file written elsewhere (refused; across the tmpfs it cannot even be made)
    "hardlink_out": 'p = os.path.join(os.environ.get("TMPDIR", "/tmp"), "t.jsonl")\n'
                    'open(p, "w").write("\\n".join(line(r) for r in records) + "\\n")\n'
                    'try:\n    os.link(p, os.path.join(out, "traces.jsonl"))\n'
                    'except OSError as e:\n    print("link refused:", e); sys.exit(0)',
    # processes until the pids limit refuses one (the failed fork ends the command with a traceback)
    "forks": 'kids = []\nwhile True:\n    pid = os.fork()\n    if pid == 0:\n        time.sleep(20); os._exit(0)\n'
             '    kids.append(pid)',
    # 200 MB of output into traces.jsonl (the policy allows 1 MB here)
    "fill": 'f = open(os.path.join(out, "traces.jsonl"), "w")\nfor i in range(200): f.write("x" * (1 << 20))',
    # 50 MB on stdout, marked at both ends
    "flood": 'w = sys.stdout.write\nw("FIRST-LINE\\n")\nfor i in range(50): w("y" * (1 << 20))\n'
             'w("\\nLAST-LINE\\n"); write([line(r) for r in records])',
    # a detached grandchild (own session) that rewrites the traces after the command exits
    "detach": 'write([line(r) for r in records])\n'
              'if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(2)\n'
              '        open(os.path.join(out, "traces.jsonl"), "w").write("rewritten\\n")\n'
              '        open(sys.argv[2], "w").write("still alive")\n    os._exit(0)\n'
              'time.sleep(0.2)',
    # who am I, and may I read what the harness user can
    "whoami": 'write([line(r, meta={"uid": os.getuid(), "root_readable": os.access("/root", os.R_OK)}) '
              'for r in records])',
    # report the cgroup limits seen inside the container
    "cgroup": 'def rd(*ps):\n    for p in ps:\n        try: return open(p).read().strip()\n'
              '        except OSError: pass\n'
              'pids = rd("/sys/fs/cgroup/pids.max", "/sys/fs/cgroup/pids/pids.max")\n'
              'mem = rd("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")\n'
              'write([line(r, meta={"pids": pids, "mem": mem}) for r in records])',
    "good": 'write([line(r) for r in records])',
}


@pytest.fixture
def hostile(tmp_path):
    """``hostile(mode, *args, command=None, resources=None, name=None) -> folder`` of a Python submission that does
    ``HOSTILE[mode]``; built FROM the local base image for the docker runner."""

    def make(mode: str, *args: str, command: list[str] | None = None, resources: dict | None = None,
             name: str | None = None) -> Path:
        folder = tmp_path / f"hostile-{mode}-{name or 'x'}"
        folder.mkdir()
        (folder / "sub.py").write_text(PRELUDE + HOSTILE[mode] + "\n", encoding="utf-8")
        (folder / "Dockerfile").write_text("ARG BASE_IMAGE=reconbench-base:bookworm\nFROM ${BASE_IMAGE}\n"
                                           "COPY sub.py /sub/\nWORKDIR /sub\n", encoding="utf-8")
        manifest = {
            "schema_version": 1, "name": name or f"hostile-{mode.replace('_', '-')}", "version": "1",
            "authors": ["RECON-Bench tests"], "method": f"hostile submission: {mode}", "models": [],
            "image": {"dockerfile": "Dockerfile"}, "command": command or ["python3", "sub.py", mode, *args],
            "resources": {"gpu": False, "memory_mb": 256, "cpus": 1, "timeout_s": 60, **(resources or {})},
        }
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        return folder

    return make


def _run(folder, records, tmp_path, runner="local", policy=None):
    outcome, run_dir = run_split(load_submission(folder), "scotus", records[0]["user"], records, runner=runner,
                                 root=tmp_path / "runs", policy=policy)
    validate("run_outcome", json.loads((run_dir / "outcome.json").read_text(encoding="utf-8")))
    assert not list(run_dir.parent.glob(".*.partial")), "a .partial folder was left behind"
    assert not (run_dir / "output").exists() and not (run_dir / "input").exists()
    return outcome, run_dir


@pytest.mark.parametrize("mode,message", [
    ("deep", "nested too deeply"), ("bigint", "5000 digits"), ("surrogate", "not valid Unicode"),
    ("nan", "NaN is not JSON"), ("badname", r"'\xff\xfe\x1b[31mred'"), ("extradir", "sub: unexpected entry"),
    ("hardlink", "hard links"),
])
def test_hostile_output_is_a_classified_bad_output(mode, message, hostile, train_records, tmp_path):
    outcome, run_dir = _run(hostile(mode), train_records, tmp_path)
    assert outcome["failure"]["kind"] == "bad_output" and outcome["failure"]["blame"] == "submission"
    assert message in outcome["failure"]["message"], outcome["failure"]["message"]
    assert "\x1b" not in (run_dir / "outcome.json").read_text(encoding="utf-8")
    assert not (run_dir / "traces.jsonl").exists()


def test_hard_link_to_a_file_outside_the_output_is_refused(hostile, train_records, tmp_path, monkeypatch):
    monkeypatch.setenv("RECONBENCH_NO_TMPFS", "1")  # on a tmpfs the link cannot even be made
    outcome, _ = _run(hostile("hardlink_out"), train_records, tmp_path)
    assert outcome["failure"]["kind"] == "bad_output"
    assert "hard links" in outcome["failure"]["message"] or "missing" in outcome["failure"]["message"]


def test_problem_list_of_a_refused_output_is_capped(hostile, train_records, tmp_path):
    outcome, run_dir = _run(hostile("manyfiles"), train_records, tmp_path)
    v = outcome["validation"]
    assert outcome["failure"]["kind"] == "bad_output" and len(v["problems"]) <= 51 and v["n_problems"] > 500
    assert (run_dir / "outcome.json").stat().st_size < 64 * 1024


def test_lone_surrogate_never_reaches_evaluation(tmp_path):
    records = [{"id": "scotus/t/k0", "action": "Counsel, what does the statute say about notice in this case?"}]
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "traces.jsonl").write_bytes(b'{"id": "scotus/t/k0", "trace": "\\ud800 \\udc80"}\n')
    v = validate_output(tmp_path / "out", records)
    assert not v.ok and "not valid Unicode" in v.problems[0]


def test_missing_command_is_bad_command(hostile, train_records, tmp_path):
    outcome, _ = _run(hostile("good", command=["no-such-program-reconbench", "x"]), train_records, tmp_path)
    assert outcome["failure"]["kind"] == "bad_command" and outcome["failure"]["blame"] == "submission"
    assert "no-such-program-reconbench" in outcome["failure"]["message"]


def test_output_flood_is_stopped_at_the_policy_cap(hostile, train_records, tmp_path):
    outcome, _ = _run(hostile("fill"), train_records, tmp_path, policy=Policy(output_bytes=1 << 20))
    assert outcome["failure"]["kind"] == "bad_output"
    assert "output folder may hold" in outcome["failure"]["message"]
    if os.geteuid() == 0:
        assert outcome["limits"]["output_quota"] == "tmpfs"


def test_output_flood_without_tmpfs_is_stopped_by_the_file_size_limit(hostile, train_records, tmp_path,
                                                                      monkeypatch):
    monkeypatch.setenv("RECONBENCH_NO_TMPFS", "1")
    outcome, _ = _run(hostile("fill"), train_records, tmp_path, policy=Policy(output_bytes=1 << 20))
    assert outcome["failure"]["kind"] == "bad_output" and outcome["limits"]["output_quota"] == "watchdog"


def test_a_log_whose_follower_lost_the_end_is_ended_with_what_the_engine_kept():
    """The Docker log follower can fall behind a flood and lose a rotated file (CI saw a 50 MiB flood's log end in
    'yyy...' without its LAST-LINE); the runner then reads the end again and the log ends with it."""
    from benchmark.runners._capture import HeadTail

    log = HeadTail(64)
    log.write(b"FIRST-LINE\n" + b"y" * 1000)  # the follower's view: the flood, without its end
    log.end_with(b"y" * 100 + b"\nLAST-LINE\n")  # what the engine still holds
    text = log.text()
    assert text.startswith("FIRST-LINE") and text.endswith("\nLAST-LINE\n") and "dropped" in text
    log.write(b"y" * 100)  # the follower given up on writes late: ignored
    assert log.text() == text
    same = HeadTail(64)
    same.write(b"short\n")
    same.end_with(b"short\n")  # everything fitted in the head: nothing is repeated
    assert same.text() == "short\n"
    whole = HeadTail(64)
    whole.write(b"x" * 500 + b"END\n")
    before = whole.text()
    whole.end_with(b"x" * 10 + b"END\n")  # the follower got the end already
    assert whole.text() == before


def test_stdout_flood_keeps_the_head_and_the_tail_under_the_cap(hostile, train_records, tmp_path):
    outcome, run_dir = _run(hostile("flood"), train_records, tmp_path, policy=Policy(log_bytes=64 * 1024))
    assert outcome["status"] == "ok", outcome["failure"]
    logs = (run_dir / "logs.txt").read_text(encoding="utf-8")
    assert len(logs) < 70 * 1024
    assert logs.startswith("FIRST-LINE") and "LAST-LINE" in logs[-1000:] and "bytes of output dropped" in logs


def test_detached_children_are_killed_and_cannot_rewrite_the_kept_traces(hostile, train_records, tmp_path):
    marker = Path(f"/tmp/reconbench-detach-{os.getpid()}-{time.monotonic_ns()}")
    outcome, run_dir = _run(hostile("detach", str(marker)), train_records, tmp_path)
    assert outcome["status"] == "ok", outcome["failure"]
    kept = (run_dir / "traces.jsonl").read_bytes()
    time.sleep(3)
    assert not marker.exists(), "a detached child survived the run"
    assert (run_dir / "traces.jsonl").read_bytes() == kept and b"rewritten" not in kept


@pytest.mark.skipif(os.geteuid() != 0, reason="privileges are only dropped when the harness runs as root")
def test_local_runner_invoked_as_root_runs_the_command_as_nobody(hostile, train_records, tmp_path):
    outcome, run_dir = _run(hostile("whoami"), train_records, tmp_path)
    assert outcome["status"] == "ok", outcome["failure"]
    meta = json.loads((run_dir / "traces.jsonl").read_text().splitlines()[0])["meta"]
    assert meta["uid"] != 0 and meta["root_readable"] is False
    assert outcome["unisolated"] is True


def test_policy_clamps_or_refuses_a_greedy_manifest(hostile, train_records, tmp_path):
    greedy = {"memory_mb": 1 << 20, "pids": 65536, "timeout_s": 604800}
    policy = Policy(memory_mb=512, pids=64, timeout_s=30)
    folder = hostile("good", resources=greedy)
    outcome, _ = _run(folder, train_records, tmp_path, policy=policy)
    assert outcome["status"] == "ok"
    clamped = {c["field"]: (c["requested"], c["allowed"]) for c in outcome["policy"]["clamped"]}
    assert clamped == {"memory_mb": (1 << 20, 512), "pids": (65536, 64), "timeout_s": (604800, 30)}
    assert outcome["limits"]["timeout_s"] == 30
    outcome, _ = _run(folder, train_records, tmp_path,
                      policy=Policy(memory_mb=512, pids=64, timeout_s=30, on_excess="refuse"))
    assert outcome["failure"]["kind"] == "over_policy" and outcome["process"] is None
    assert "memory_mb 1048576 > 512" in outcome["failure"]["message"]


@pytest.mark.slow  # builds the scotus pack
def test_policy_file_and_flags_reach_the_outcome(hostile, build_pack_once, tmp_path, monkeypatch):
    build_pack_once("scotus")
    user = packs.users("scotus")[0]
    (tmp_path / "policy.toml").write_text('on_excess = "refuse"\npids = 100\n')
    folder = hostile("good", resources={"pids": 200})
    result = CliRunner().invoke(cli, ["submit", str(folder), "--pack", "scotus", "--user", user, "--runner",
                                      "local", "--train-limit", "3", "--no-evaluate", "--policy",
                                      str(tmp_path / "policy.toml")])
    assert result.exit_code == 1 and "over_policy" in result.output and "pids 200 > 100" in result.output
    result = CliRunner().invoke(cli, ["submit", str(folder), "--pack", "scotus", "--user", user, "--runner",
                                      "local", "--train-limit", "3", "--no-evaluate", "--policy",
                                      str(tmp_path / "policy.toml"), "--on-excess", "clamp"])
    assert result.exit_code == 0, result.output
    assert "pids 200 -> 100" in result.output


@pytest.mark.slow  # builds the scotus pack
def test_every_split_runs_and_submit_never_tracebacks(hostile, build_pack_once):
    build_pack_once("scotus")
    folder = hostile("deep")
    result = CliRunner().invoke(cli, ["submit", str(folder), "--pack", "scotus", "--runner", "local",
                                      "--train-limit", "4", "--no-evaluate"])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    sub = load_submission(folder)
    for user in packs.users("scotus"):
        base = submission_runs_dir(sub, "scotus", user)
        runs = [p for p in base.iterdir() if p.is_dir()]
        assert len(runs) == 1 and not runs[0].name.startswith(".")
        assert json.loads((runs[0] / "outcome.json").read_text())["failure"]["kind"] == "bad_output"


def test_a_submission_cannot_take_a_reference_name(hostile):
    for name in ("backward", "recon_select", "backward2", "baseline", "e2e-grpo"):
        with pytest.raises(DataError, match="reserved for the project's reference methods"):
            load_submission(hostile("good", name=name))
    assert load_submission(packs_root() / "backward").name == "backward"  # the checkout's own folder may


def packs_root() -> Path:
    from benchmark.paths import SUBMISSIONS_DIR
    return SUBMISSIONS_DIR


def test_baseline_is_only_the_projects_own_backward_run(tmp_path, monkeypatch):
    from benchmark.orchestrate.submit import recorded_backward_traces as _baseline_traces

    monkeypatch.setenv("RECONBENCH_RUNS", str(tmp_path / "runs"))
    forged = tmp_path / "runs" / "submissions" / "backward" / "1" / "scotus" / "someone" / "20250101T000000Z-00000000"
    forged.mkdir(parents=True)
    (forged / "traces.jsonl").write_text("{}\n")
    outcome = {"status": "ok", "submission": {"name": "backward", "reference": False, "manifest_sha256": "0" * 64}}
    (forged / "outcome.json").write_text(json.dumps(outcome))
    assert _baseline_traces("scotus", "someone") is None
    from benchmark.io import sha256_bytes
    from benchmark.paths import SUBMISSIONS_DIR
    outcome["submission"].update(reference=True,
                                 manifest_sha256=sha256_bytes((SUBMISSIONS_DIR / "backward" / "manifest.json")
                                                              .read_bytes()))
    (forged / "outcome.json").write_text(json.dumps(outcome))
    assert _baseline_traces("scotus", "someone") == forged / "traces.jsonl"


HARNESS_MEMORY = r'''
import json, sys
from pathlib import Path
from benchmark.runners import Policy, load_submission, run_split
records = json.loads(Path(sys.argv[2]).read_text())
outcome, run_dir = run_split(load_submission(sys.argv[1]), "scotus", records[0]["user"], records, runner="local",
                             root=Path(sys.argv[3]), policy=Policy())
# VmHWM (this address space's peak), not ru_maxrss: ru_maxrss survives execve, so a harness started by a fork of a
# big pytest process (models loaded: 3.6 GB) would report the parent's pages as its own peak
hwm = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
           if line.startswith("VmHWM:"))
print(json.dumps({"status": outcome["status"], "maxrss_kb": hwm, "logs": (run_dir / "logs.txt").stat().st_size}))
'''


def test_a_1_gib_stdout_flood_keeps_the_harness_under_300_mb(tmp_path, train_records):
    folder = tmp_path / "flood"
    folder.mkdir()
    (folder / "flood.sh").write_text(textwrap.dedent('''\
        #!/bin/sh
        head -c 1073741824 /dev/zero | tr '\\0' 'z'
        awk '{ if (match($0, /"id":"[^"]*"/)) print "{\\"id\\":" substr($0, RSTART + 5, RLENGTH - 5) \\
            ",\\"trace\\":\\"t\\"}" }' "$RECONBENCH_INPUT/train.jsonl" > "$RECONBENCH_OUTPUT/traces.jsonl"
    '''))
    manifest = {"schema_version": 1, "name": "flood", "version": "1", "authors": ["tests"], "method": "stdout flood",
                "models": [], "image": {"name": "none"}, "command": ["sh", "flood.sh"],
                "resources": {"gpu": False, "memory_mb": 256, "cpus": 1, "timeout_s": 300}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "records.json").write_text(json.dumps(train_records))
    proc = subprocess.run([sys.executable, "-c", HARNESS_MEMORY, str(folder), str(tmp_path / "records.json"),
                           str(tmp_path / "runs")], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    print("harness peak RSS under a 1 GiB stdout flood:", report["maxrss_kb"] // 1024, "MB")
    assert report["status"] == "ok" and report["logs"] < (1 << 20) + 4096
    assert report["maxrss_kb"] < 300 * 1024


# ---- the same through the docker runner (skipped, with the reason, where no engine starts) ----

@pytest.mark.docker
def test_docker_missing_command_is_bad_command(base_image, hostile, train_records, tmp_path):
    outcome, _ = _run(hostile("good", command=["python", "sub.py", "good"]), train_records, tmp_path, runner="docker")
    assert outcome["failure"]["kind"] == "bad_command" and outcome["failure"]["blame"] == "submission"
    assert "python3, not python" in outcome["failure"]["message"]


@pytest.mark.docker
def test_docker_deep_json_and_clamped_limits(base_image, hostile, train_records, tmp_path):
    outcome, _ = _run(hostile("deep"), train_records, tmp_path, runner="docker")
    assert outcome["failure"]["kind"] == "bad_output" and "nested too deeply" in outcome["failure"]["message"]
    assert outcome["unisolated"] is False
    folder = hostile("cgroup", resources={"memory_mb": 1 << 20, "pids": 65536})
    outcome, run_dir = _run(folder, train_records, tmp_path, runner="docker",
                            policy=Policy(memory_mb=300, pids=50, log_bytes=4096))
    assert outcome["status"] == "ok", outcome["failure"]
    meta = json.loads((run_dir / "traces.jsonl").read_text().splitlines()[0])["meta"]
    assert meta["pids"] == "50" and meta["mem"] == str(300 << 20)  # what the container really got


@pytest.mark.docker
def test_docker_output_flood_never_reaches_the_host_disk(base_image, hostile, train_records, tmp_path):
    outcome, run_dir = _run(hostile("fill"), train_records, tmp_path, runner="docker",
                            policy=Policy(output_bytes=1 << 20))
    assert outcome["failure"]["kind"] in ("bad_output", "nonzero_exit")  # ENOSPC may end the writer first
    assert outcome["validation"] is None or not outcome["validation"]["n_traces"]
    if os.geteuid() == 0:
        assert outcome["limits"]["output_quota"] == "tmpfs"


@pytest.mark.docker
def test_docker_run_that_hits_the_pids_limit_says_so(base_image, hostile, train_records, tmp_path):
    outcome, _ = _run(hostile("forks", resources={"pids": 24}), train_records, tmp_path, runner="docker")
    assert outcome["failure"]["kind"] == "nonzero_exit" and outcome["failure"]["blame"] == "submission"
    assert "pids limit of 24" in outcome["failure"]["message"], outcome["failure"]["message"]


@pytest.mark.docker
def test_docker_stdout_flood_is_streamed_head_and_tail(base_image, hostile, train_records, tmp_path):
    outcome, run_dir = _run(hostile("flood"), train_records, tmp_path, runner="docker",
                            policy=Policy(log_bytes=64 * 1024))
    assert outcome["status"] == "ok", outcome["failure"]
    logs = (run_dir / "logs.txt").read_text(encoding="utf-8")
    assert len(logs) < 70 * 1024 and logs.startswith("FIRST-LINE") and "LAST-LINE" in logs[-200:]


@pytest.mark.docker
def test_docker_failing_dockerfile_is_the_submissions_fault(base_image, hostile, train_records, tmp_path):
    folder = hostile("good")
    (folder / "Dockerfile").write_text(f"FROM {base_image}\nRUN echo building-step && false\n")
    outcome, run_dir = _run(folder, train_records, tmp_path, runner="docker")
    assert outcome["failure"]["kind"] == "bad_build" and outcome["failure"]["blame"] == "submission"
    assert "building-step" in (run_dir / "logs.txt").read_text()


@pytest.mark.docker
def test_docker_build_past_the_build_time_limit_is_the_submissions_fault(base_image, hostile, train_records,
                                                                         tmp_path):
    folder = hostile("good", name="slowbuild")
    (folder / "Dockerfile").write_text(f"FROM {base_image}\nRUN echo slow-step && sleep 120\n")
    start = time.monotonic()
    outcome, _ = _run(folder, train_records, tmp_path, runner="docker", policy=Policy(build_timeout_s=5))
    assert outcome["failure"]["kind"] == "bad_build" and outcome["failure"]["blame"] == "submission"
    assert "5 s build time limit" in outcome["failure"]["message"] and time.monotonic() - start < 90


@pytest.mark.docker
def test_docker_build_step_over_the_build_memory_cap_fails_the_build(base_image, hostile, train_records, tmp_path):
    folder = hostile("good", name="bigbuild")
    (folder / "Dockerfile").write_text(f"FROM {base_image}\n"
                                       "RUN python3 -c \"x = bytearray(600 << 20); print('allocated', len(x))\"\n")
    outcome, run_dir = _run(folder, train_records, tmp_path, runner="docker", policy=Policy(build_memory_mb=128))
    assert outcome["failure"]["kind"] == "bad_build" and outcome["failure"]["blame"] == "submission"
    logs = (run_dir / "logs.txt").read_text()
    assert "allocated 629145600" not in logs and "137" in logs  # killed (SIGKILL) before it had the memory
