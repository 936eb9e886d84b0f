"""CI's end-to-end check: the project image builds offline from a wheelhouse and the reference Backward Synthesis
submission runs in a real container on a tiny slice, with SmolLM2 weights mounted read-only.

Needs: a Docker engine and the base image (like the other container tests), submissions/backward/manifest.json and
`python -m benchmark.synthesize` (reference methods), and SmolLM2-135M converted under the models folder
(`reconbench models pull smollm2-135m`). The first build on a machine collects the wheelhouse (~20 s from the local
index) and installs it into the image (a few minutes on 2 cores); later builds reuse the cached layers."""

from __future__ import annotations

import subprocess

import pytest

from benchmark import paths
from benchmark.io import read_jsonl
from benchmark.paths import REPO_ROOT
from benchmark.runners import load_submission, run_split

pytestmark = [pytest.mark.docker, pytest.mark.slow]

BACKWARD = paths.SUBMISSIONS_DIR / "backward"


@pytest.fixture(scope="session")
def project_image(base_image) -> str:
    """The project image, built with no network; the wheelhouse image is made once per machine."""
    from benchmark.runners.cli import WHEELHOUSE_IMAGE
    from benchmark.runners.images import build_project_image, build_wheelhouse_image

    wheels = REPO_ROOT / "wheels"
    if not (wheels / "requirements.txt").is_file():
        subprocess.run(["bash", str(REPO_ROOT / "scripts" / "wheelhouse.sh"), str(wheels)], check=True)
    build_wheelhouse_image(wheels, WHEELHOUSE_IMAGE)  # cached by the engine when the wheels did not change
    return build_project_image(base_image=base_image, wheelhouse_image=WHEELHOUSE_IMAGE)


def test_backward_reference_submission_runs_in_the_project_image(request, build_pack_once, tmp_path):
    if not (BACKWARD / "manifest.json").is_file():
        pytest.skip("submissions/backward/manifest.json is not there yet (reference submissions)")
    from benchmark import packs
    from benchmark.models._registry import MANIFEST, converted_dir

    if not (converted_dir("smollm2-135m") / MANIFEST).is_file():
        pytest.skip("SmolLM2-135M is not converted: run `reconbench models pull smollm2-135m`")
    request.getfixturevalue("project_image")  # only now: the first build takes minutes
    sub = load_submission(BACKWARD)
    build_pack_once("scotus")
    user = packs.users("scotus")[0]
    records = packs.load_split("scotus", user, "train")[:3]
    outcome, run_dir = run_split(sub, "scotus", user, records, runner="docker", models_dir=paths.models_dir(),
                                 root=tmp_path / "runs")
    assert outcome["status"] == "ok", (outcome["failure"], (run_dir / "logs.txt").read_text()[-3000:])
    traces = read_jsonl(run_dir / "traces.jsonl")
    assert [t["id"] for t in traces] == [r["id"] for r in records]
    assert all(t["trace"].strip() for t in traces)
