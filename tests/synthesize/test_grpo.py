"""RECON-GRPO and E2E-GRPO on a real slice with two GRPO steps: the weights really change, the tuned model writes
the traces, and the end-to-end model never sees the real action (every token sequence its network is run on is
recorded and searched for the action)."""

from __future__ import annotations

import copy

import pytest
import torch
from safetensors import safe_open

from benchmark.io import read_jsonl
from benchmark.models import get_lm
from benchmark.runners import prepare_input, validate_output
from benchmark.synthesize import synthesize
from benchmark.synthesize._grpo import DONE, base_model_dir, training_summary

from .conftest import PACK, USER

PARAM = "model.layers.0.self_attn.q_proj.weight"


def _tensor(folder, name=PARAM) -> torch.Tensor:
    with safe_open(f"{folder}/model.safetensors", framework="pt") as f:
        return f.get_tensor(name)


def test_recon_grpo_changes_the_weights_and_the_tuned_model_writes_the_traces(slice_input, slice_records, tiny_config,
                                                                             shared_cache, tmp_path):
    run = synthesize("recon_grpo", slice_input, tmp_path / "out", config=tiny_config, workdir=tmp_path / "work",
                     lm_cache=shared_cache)
    tuned = tmp_path / "work" / "recon_grpo-model"
    summary = training_summary(tuned)
    assert summary["steps"] == 2 and len(summary["reward_per_step"]) == 2
    assert not torch.equal(_tensor(base_model_dir(run)), _tensor(tuned))
    assert validate_output(tmp_path / "out", slice_records).ok
    tuned_fp = get_lm(str(tuned), cache=False).fingerprint
    base_fp = get_lm("smollm2-135m", cache=False).fingerprint
    assert tuned_fp != base_fp
    assert {t["meta"]["model"] for t in read_jsonl(tmp_path / "out" / "traces.jsonl")} == {tuned_fp}
    # the reward came from the frozen reconstruction model and the judge, under the reward stage
    usage = run.usage().stages
    assert usage["synthesize/grpo_reward/reconstruction"].calls + \
        usage["synthesize/grpo_reward/reconstruction"].cache_hits > 0
    assert usage["synthesize/grpo_reward/fidelity"].calls > 0
    # a rerun finds the finished checkpoint and the traces: nothing is trained or generated again
    mtime = (tuned / DONE).stat().st_mtime
    synthesize("recon_grpo", slice_input, tmp_path / "out", config=tiny_config, workdir=tmp_path / "work",
               lm_cache=shared_cache)
    assert (tuned / DONE).stat().st_mtime == mtime


@pytest.fixture
def canary_input(slice_records, tmp_path):
    """The slice with each real action replaced by a unique canary sentence nothing else in the data contains."""
    records = []
    for i, r in enumerate(slice_records):
        r = copy.deepcopy(r)
        r["action"] = f"Zanzibar quokka periwinkle canary number {i} marmalade trombone."
        records.append(r)
    return prepare_input(tmp_path / "in", pack=PACK, user=USER, records=records), records


def test_e2e_model_never_sees_the_real_action(canary_input, tiny_config, tmp_path):
    folder, records = canary_input
    seen: list[tuple[int, torch.Tensor]] = []  # (embedding module id, token ids) of every forward pass

    def record_inputs(module, args):
        if isinstance(module, torch.nn.Embedding) and args and args[0].dtype == torch.long:
            seen.append((id(module), args[0].detach().clone()))

    hook = torch.nn.modules.module.register_module_forward_pre_hook(record_inputs)
    try:
        run = synthesize("e2e_grpo", folder, tmp_path / "out", config=tiny_config, workdir=tmp_path / "work",
                         lm_cache=False)
    finally:
        hook.remove()
    judge = run.lm("judge")
    reward_side = {id(judge.backend.model.get_input_embeddings())}
    tok = judge.backend.tokenizer

    policy = [tok.decode(row) for mod, ids in seen if mod not in reward_side for row in ids]
    reward = [tok.decode(row) for mod, ids in seen if mod in reward_side for row in ids]
    assert policy and reward
    assert not any("quokka" in t for t in policy)  # neither during GRPO nor when writing the traces
    assert any("quokka" in t for t in reward)  # the judge does see the real action: the search can find it
    assert validate_output(tmp_path / "out", records).ok
    traces = read_jsonl(tmp_path / "out" / "traces.jsonl")
    tuned = get_lm(str(tmp_path / "work" / "e2e_grpo-model"), cache=False)
    assert {t["meta"]["model"] for t in traces} == {tuned.fingerprint}
    assert not torch.equal(_tensor(base_model_dir(run)), _tensor(tmp_path / "work" / "e2e_grpo-model"))
