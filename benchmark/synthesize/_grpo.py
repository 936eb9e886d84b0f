"""GRPO training shared by RECON-GRPO and E2E-GRPO (TRL's ``GRPOTrainer``). A method gives the prompt of each
training record and a group scorer; this file turns the scorer into a TRL reward function, trains, and saves the
tuned model (LoRA adapters merged) as a plain folder that ``benchmark.models.get_lm`` loads like any model.
A finished checkpoint is marked by ``reconbench-grpo.json``; a rerun finds it and does not train again."""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable
from pathlib import Path

from ..io import read_json, write_json
from ._run import Synthesis

DONE = "reconbench-grpo.json"

# (records of the groups, completions per group) -> rewards per group; higher is better
GroupScorer = Callable[[list[dict], list[list[str]]], list[list[float]]]
REWARD_STAGE = "synthesize/grpo_reward"  # usage of the reward's model calls goes to stages below this one


def base_model_dir(run: Synthesis) -> str:
    """Where the synthesizer's weights are, as a folder TRL can load (a converted registry model or a path)."""
    from ..models._registry import resolve

    return resolve(run.config["models"]["synthesizer"]["name"])


def reward_function(records: list[dict], score_groups: GroupScorer) -> Callable[..., list[float]]:
    """A TRL reward function: groups the completions by ``record_id`` (TRL samples ``num_generations`` per prompt)
    and scores each group together, so that one judge request covers a whole group."""
    by_id = {r["id"]: r for r in records}

    def reconstruction_fidelity(prompts, completions, record_id, **_) -> list[float]:
        texts = [c[-1]["content"] if isinstance(c, list) else c for c in completions]
        groups: dict[str, list[int]] = {}
        for i, rid in enumerate(record_id):
            groups.setdefault(rid, []).append(i)
        scores = score_groups([by_id[rid] for rid in groups], [[texts[i] for i in idx] for idx in groups.values()])
        rewards = [0.0] * len(texts)
        for idx, group_scores in zip(groups.values(), scores):
            for i, s in zip(idx, group_scores):
                rewards[i] = float(s)
        return rewards

    return reconstruction_fidelity


def train(run: Synthesis, records: list[dict], *, method: str, prompt: Callable[[dict], list[dict]],
          score_groups: GroupScorer) -> Path:
    """GRPO-train the configured synthesizer on ``prompt(record)`` with ``score_groups`` as reward; returns the folder
    of the tuned model. Trains on ``grpo.train_examples`` records drawn with ``grpo.seed`` (all when null)."""
    out = run.workdir / f"{method}-model"
    if (out / DONE).is_file():
        return out
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    g = run.config["grpo"]
    k = g.get("train_examples")
    chosen = records if not k or k >= len(records) else random.Random(g.get("seed", 0)).sample(records, k)
    dataset = Dataset.from_list([{"prompt": prompt(r), "record_id": r["id"]} for r in chosen])

    gpu = torch.cuda.is_available()
    bf16 = bool(g.get("bf16", False)) and gpu
    base = base_model_dir(run)
    tokenizer = AutoTokenizer.from_pretrained(base, padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.bfloat16 if bf16 else torch.float32)
    peft_config = None
    if g.get("lora"):
        from peft import LoraConfig

        peft_config = LoraConfig(task_type="CAUSAL_LM", **g["lora"])
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*gradient_checkpointing.*deprecated", category=FutureWarning)
        args = GRPOConfig(
            output_dir=str(run.workdir / f"{method}-trainer"), use_cpu=not gpu, bf16=bf16, fp16=False,
            gradient_checkpointing=bool(g.get("gradient_checkpointing", False)),
            max_steps=g["max_steps"], per_device_train_batch_size=g["per_device_train_batch_size"],
            gradient_accumulation_steps=g.get("gradient_accumulation_steps", 1),
            num_generations=g["num_generations"], max_completion_length=g["max_completion_length"],
            learning_rate=g["learning_rate"], temperature=g.get("temperature", 1.0), beta=g.get("beta", 0.0),
            use_vllm=bool(g.get("use_vllm", False)) and gpu, vllm_mode="colocate", seed=g.get("seed", 0),
            logging_steps=1, report_to=[], save_strategy="no")
    trainer = GRPOTrainer(model=model, reward_funcs=reward_function(chosen, score_groups), args=args,
                          train_dataset=dataset, processing_class=tokenizer, peft_config=peft_config)
    trainer.train()
    tuned = trainer.model.merge_and_unload() if peft_config is not None else trainer.model
    tuned.save_pretrained(out)
    tokenizer.save_pretrained(out)
    rewards = [row["reward"] for row in trainer.state.log_history if "reward" in row]
    write_json(out / DONE, {"method": method, "base": run.models["synthesizer"] if "synthesizer" in run.models
                            else {"name": run.config["models"]["synthesizer"]["name"]},
                            "steps": trainer.state.global_step, "train_examples": [r["id"] for r in chosen],
                            "reward_per_step": rewards, "grpo": g})
    return out


def training_summary(folder: Path) -> dict:
    """What ``train`` recorded about a tuned model (steps, rewards, base model)."""
    return read_json(folder / DONE)
