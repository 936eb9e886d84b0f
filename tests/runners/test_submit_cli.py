"""`reconbench submit` runs the documented example submission (shell + awk, not Python) end to end on a real pack
slice, in a container and through the local runner, and records validated traces under the runs folder."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from benchmark import packs, paths
from benchmark.cli import cli
from benchmark.io import read_jsonl
from benchmark.runners import load_submission, submission_runs_dir

EXAMPLE = paths.SUBMISSIONS_DIR / "example-shell"


@pytest.mark.slow  # builds the scotus pack
@pytest.mark.parametrize("runner", [pytest.param("docker", marks=pytest.mark.docker), "local"])
def test_example_submission_runs_end_to_end_through_submit(runner, request, build_pack_once):
    if runner == "docker":
        request.getfixturevalue("base_image")
    build_pack_once("scotus")
    user = packs.users("scotus")[0]
    result = CliRunner().invoke(cli, ["submit", str(EXAMPLE), "--pack", "scotus", "--user", user, "--runner", runner,
                                      "--train-limit", "5", "--no-evaluate"])
    assert result.exit_code == 0, result.output
    assert "ok" in result.output
    base = submission_runs_dir(load_submission(EXAMPLE), "scotus", user)
    run_dir = base / json.loads((base / "latest.json").read_text())["run_id"]
    outcome = json.loads((run_dir / "outcome.json").read_text())
    assert outcome["runner"] == runner and outcome["n_records"] == 5
    want = [r["id"] for r in packs.load_split("scotus", user, "train")[:5]]
    assert [t["id"] for t in read_jsonl(run_dir / "traces.jsonl")] == want


def test_submit_rejects_an_invalid_manifest_naming_the_field(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"schema_version": 1, "name": "Bad Name"}))
    result = CliRunner().invoke(cli, ["submit", str(tmp_path), "--pack", "scotus", "--no-evaluate"])
    assert result.exit_code != 0
    assert "manifest.json" in str(result.exception) and "submission_manifest" in str(result.exception)


def test_manifest_cannot_send_host_files_into_a_build(tmp_path):
    manifest = json.loads((EXAMPLE / "manifest.json").read_text())
    manifest["image"] = {"dockerfile": "Dockerfile", "context": "../../../../../etc"}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(Exception, match="leaves the submission folder"):
        load_submission(tmp_path)


def test_submit_demonstrated_runs_on_just_the_records_the_test_slice_shows(build_pack_once):
    """``--demonstrated N``: the submission gets the training records retrieval shows to the first N test records
    (k = 4), in split order; a --test-limit beyond N is refused before anything runs."""
    from benchmark.retrieval import demonstrated

    build_pack_once("pmq-sample")
    result = CliRunner().invoke(cli, ["submit", str(EXAMPLE), "--pack", "pmq-sample", "--user", "cameron",
                                      "--runner", "local", "--demonstrated", "3", "--no-evaluate"])
    assert result.exit_code == 0, result.output
    base = submission_runs_dir(load_submission(EXAMPLE), "pmq-sample", "cameron")
    run_dir = base / json.loads((base / "latest.json").read_text())["run_id"]
    train, test = packs.load_split("pmq-sample", "cameron", "train"), packs.load_split("pmq-sample", "cameron", "test")
    want = [r["id"] for r in demonstrated(train, test[:3], 4)]
    assert 3 <= len(want) < len(train)
    assert [t["id"] for t in read_jsonl(run_dir / "traces.jsonl")] == want

    refused = CliRunner().invoke(cli, ["submit", str(EXAMPLE), "--pack", "pmq-sample", "--runner", "local",
                                       "--demonstrated", "3", "--test-limit", "5"])
    assert refused.exit_code != 0 and "test_limit" in str(refused.exception)
