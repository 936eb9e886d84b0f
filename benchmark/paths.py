"""Where things live. Every location can be moved with an environment variable or a CLI option."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DOMAINS_DIR = REPO_ROOT / "domains"
SUBMISSIONS_DIR = REPO_ROOT / "submissions"
LEADERBOARD_DIR = REPO_ROOT / "leaderboard"


def cache_home() -> Path:
    """Root of everything RECON-Bench writes outside the repository (``RECONBENCH_HOME``)."""
    env = os.environ.get("RECONBENCH_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "reconbench"


def raw_dir() -> Path:
    """Raw upstream corpora (``RECONBENCH_RAW``); default: ``../shared/data/raw`` beside the repository."""
    env = os.environ.get("RECONBENCH_RAW")
    return Path(env).expanduser() if env else REPO_ROOT.parent / "shared" / "data" / "raw"


def data_dir() -> Path:
    """Built pack split files (``RECONBENCH_DATA``); default ``<cache home>/data``."""
    env = os.environ.get("RECONBENCH_DATA")
    return Path(env).expanduser() if env else cache_home() / "data"


def models_dir() -> Path:
    """Converted model weights (``RECONBENCH_MODELS``); default ``<cache home>/models``."""
    env = os.environ.get("RECONBENCH_MODELS")
    return Path(env).expanduser() if env else cache_home() / "models"


def lm_cache_path() -> Path:
    """The SQLite cache of LM calls (``RECONBENCH_LM_CACHE``); default ``<cache home>/lm-cache.sqlite``."""
    env = os.environ.get("RECONBENCH_LM_CACHE")
    return Path(env).expanduser() if env else cache_home() / "lm-cache.sqlite"


def runs_dir() -> Path:
    """Run outputs: traces, predictions, verdicts (``RECONBENCH_RUNS``); default ``<cache home>/runs``."""
    env = os.environ.get("RECONBENCH_RUNS")
    return Path(env).expanduser() if env else cache_home() / "runs"
