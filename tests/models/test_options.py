"""Model and backend names are checked where they are parsed: a one-line error naming the known ones, before any
model is loaded or the network is tried."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmark.errors import DataError
from benchmark.models import BACKENDS, MODELS, get_lm
from benchmark.models.options import BACKEND_NAMES, check_model_name


def test_backend_names_are_the_registered_backends():
    assert set(BACKEND_NAMES) == set(BACKENDS)


def test_unknown_model_names_are_refused_with_the_closest_known_one():
    assert check_model_name("smollm2-135m") == "smollm2-135m"
    assert check_model_name("HuggingFaceTB/SmolLM2-135M-Instruct")  # a hub name is left to the backend
    with pytest.raises(DataError, match=r"unknown model 'smollm2-135M' \(did you mean 'smollm2-135m'\?\)"):
        check_model_name("smollm2-135M")
    with pytest.raises(DataError, match="known: " + ", ".join(MODELS)):
        get_lm("nomodel")
    with pytest.raises(DataError, match="unknown backend 'vlm'"):
        get_lm("smollm2-135m", "vlm")


@pytest.mark.parametrize("argv, option", [
    (["evaluate", "--judge", "nomodel", "--baseline-traces", "README.md", "--pack", "p", "--user", "u"], "--judge"),
    (["evaluate", "--backend", "vlm", "--baseline-traces", "README.md", "--pack", "p", "--user", "u"], "--backend"),
    (["evaluate", "--k", "0", "--baseline-traces", "README.md", "--pack", "p", "--user", "u"], "--k"),
    (["controls", "--pack", "p", "--user", "u", "--action-model", "smollm2-135M"], "--action-model"),
    (["serve", "--model", "nomodel"], "--model"),
    (["demo", "--model", "nomodel"], "--model"),
])
def test_commands_refuse_bad_names_in_one_line_without_a_traceback(argv, option):
    proc = subprocess.run([sys.executable, "-m", "benchmark.cli", *argv], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert f"Invalid value for '{option}'" in proc.stderr and "Traceback" not in proc.stderr
