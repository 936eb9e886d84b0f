"""The one LM interface every stage uses.

``get_lm(name, backend, **options)`` returns an ``LM`` (generate / loglikelihood / score_options) wrapped by the
on-disk cache and usage accounting; ``with stage("synthesize"): ...`` attributes usage to a pipeline stage.
Backends, one file each: ``transformers`` (default, CPU and GPU), ``vllm`` (GPU, optional extra), ``openai`` (any
OpenAI-compatible server, e.g. ``reconbench serve``), ``fake`` (deterministic, no weights: for fast tests of the
pipeline's logic).
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path

from .. import paths
from ._base import LM, GenParams, StageUsage, Usage, current_stage, stage
from ._cache import CachedLM, LMCache
from ._registry import DEFAULT_MODEL, MODELS, ModelSpec

__all__ = ["BACKENDS", "DEFAULT_MODEL", "LM", "MODELS", "GenParams", "LMCache", "ModelSpec", "StageUsage", "Usage",
           "current_stage", "get_lm", "stage"]

# backend name -> "module:class"; imported on first use so that the openai backend never imports torch
BACKENDS: dict[str, str] = {
    "transformers": "benchmark.models.transformers_lm:TransformersLM",
    "vllm": "benchmark.models.vllm_lm:VLLMLM",
    "openai": "benchmark.models.openai_lm:OpenAILM",
    "fake": "benchmark.models.fake_lm:FakeLM",
}

_lock = threading.Lock()
_backends: dict[tuple, object] = {}
_lms: dict[tuple, CachedLM] = {}


def _backend_key(name: str, backend: str, options: dict) -> tuple:
    # the models folder is part of the key: the same name under another RECONBENCH_MODELS is another model
    return name, backend, tuple(sorted((k, repr(v)) for k, v in options.items())), str(paths.models_dir())


def _load_backend(key: tuple, name: str, backend: str, options: dict):
    if key not in _backends:
        from .options import check_backend_name, check_model_name

        check_backend_name(backend)
        if backend in ("transformers", "vllm"):
            check_model_name(name)
        module, cls = BACKENDS[backend].split(":")
        _backends[key] = getattr(importlib.import_module(module), cls)(name, **options)
    return _backends[key]


def get_lm(name: str = DEFAULT_MODEL, backend: str = "transformers", *, cache: bool | str | Path = True,
           **options) -> LM:
    """The model ``name`` (a registry name, a local folder or a hub name) on ``backend``, wrapped by the cache.

    ``cache``: True for the shared cache (``benchmark.paths.lm_cache_path()``), a path for another file, False
    for none. Other keyword options go to the backend (e.g. ``dtype``, ``batch_size``, ``base_url``). Loaded
    models are kept per process: a second call with the same arguments returns the same object (and usage).
    A registry model that has not been pulled raises ``ModelNotAvailable`` naming the command to run.
    """
    cache_path = None if cache is False else Path(paths.lm_cache_path() if cache is True else cache).expanduser()
    with _lock:
        backend_key = _backend_key(name, backend, options)
        lm_key = (*backend_key, str(cache_path))
        if lm_key not in _lms:
            _lms[lm_key] = CachedLM(_load_backend(backend_key, name, backend, options),
                                    LMCache(cache_path) if cache_path is not None else None)
        return _lms[lm_key]
