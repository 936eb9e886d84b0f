"""Cross-model transfer on the real debates pack with the real offline model: the grid writes a schema-valid matrix
whose cells are real evaluations, and the board shows it. (The 2x2 SmolLM2 x Qwen2.5-Coder run is recorded in
docs/leaderboard.md; here one model on both axes, 2 training and 1 test turn and a cut-down synthesis config keep the
test inside the area's time budget: about 2 minutes on 2 shared cores.)"""

from __future__ import annotations

import pytest

from benchmark import publish
from benchmark.evaluate import read_result
from benchmark.evaluate.settings import EvalSettings
from benchmark.orchestrate.transfer import run_transfer
from benchmark.paths import runs_dir
from benchmark.publish.transfer import digest, save_transfer
from benchmark.schema import validate
from benchmark.synthesize import load_config


def small_config() -> dict:
    """The cpu synthesis config cut down (2 candidates, short traces): the grid's mechanics, at test cost."""
    config = load_config("cpu")
    config["recon_select"]["n"] = 2
    for section in ("trace", "reconstruction"):
        config[section]["max_tokens"] = 16
    return config


@pytest.mark.slow
def test_transfer_grid_writes_a_matrix_of_real_evaluations(build_pack_once, board):
    build_pack_once("debates")
    settings = EvalSettings(protocol="pairwise", train_limit=2, test_limit=1, max_tokens=32)
    doc = run_transfer(pack="debates", user="biden", methods=["recon_select"], synthesizers=["smollm2-135m"],
                       action_models=["smollm2-135m"], settings=settings, name="test-grid", config=small_config())
    validate("transfer", doc)
    assert doc["digest"] == digest(doc)
    (cell,) = doc["cells"]
    assert (cell["method"], cell["synthesizer"], cell["action_model"]) == ("recon_select", "smollm2-135m",
                                                                            "smollm2-135m")
    result = read_result(runs_dir() / "transfer" / "debates" / "biden" /
                         "recon_select--smollm2-135m--smollm2-135m--pairwise--smollm2-135m.json")
    assert result["digest"] == cell["result_digest"] and result["train"]["n_used"] == 2
    assert doc["protocol"]["name"] == "pairwise" and doc["judge"]["name"] == "smollm2-135m"
    # every model of the matrix is recorded in the precision its cells' results were made in (float32 on the CPU)
    assert (doc["synthesizer_models"][0]["dtype"], doc["action_models"][0]["dtype"], doc["judge"]["dtype"]) == (
        result["action_model"]["dtype"], result["action_model"]["dtype"], result["judge"]["dtype"]) == (
        "float32",) * 3
    assert EvalSettings.from_result(result) == settings  # every cell records the settings it was run with
    assert cell["n"] + cell["invalid"] == 1 == result["test"]["n_evaluated"]
    save_transfer(doc, board)
    page = publish.build(board)["html"].read_text()
    assert "Cross-model transfer" in page and "test-grid" in page
