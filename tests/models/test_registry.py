"""Model lookup: a registry model that is not pulled names the command that fixes it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from benchmark.errors import ModelNotAvailable
from benchmark.models import get_lm

from .conftest import MODEL


def test_missing_model_says_to_run_pull(tmp_path, monkeypatch):
    monkeypatch.setenv("RECONBENCH_MODELS", str(tmp_path / "empty"))
    with pytest.raises(ModelNotAvailable, match=f"run `reconbench models pull {MODEL}`"):
        get_lm(MODEL, cache=False)


def test_models_list_shows_the_pulled_default(lm):
    proc = subprocess.run([sys.executable, "-m", "benchmark.cli", "models", "list"], capture_output=True, text=True)
    assert proc.returncode == 0
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith(MODEL))
    assert "Apache-2.0" in line and lm.fingerprint[:12] in line


def test_serve_of_a_missing_model_fails_with_one_line(tmp_path):
    env = os.environ | {"RECONBENCH_MODELS": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "benchmark.cli", "serve", "--model", "qwen2.5-coder-0.5b"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: model 'qwen2.5-coder-0.5b' is not available at {tmp_path / 'qwen2.5-coder-0.5b'}: run "
        "`reconbench models pull qwen2.5-coder-0.5b` (or set RECONBENCH_MODELS to where it was pulled)"]
