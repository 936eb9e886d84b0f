"""What every method gets for one user split: the configuration, the task, the models by role, the prompts and a
work folder for checkpoints (the output folder holds ``traces.jsonl`` only, as the submission contract says)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from ..errors import DataError, ReconBenchError
from ..models import LM, GenParams, StageUsage, Usage, get_lm
from ..prompts import prompt_hash, render
from ._leak import redact_action

PROMPTS = ("backward", "reconstruction", "fidelity_judge", "e2e")


@dataclass
class Synthesis:
    """One synthesis run: ``lm(role)`` loads the configured model of a role (``synthesizer``, ``reconstruction``,
    ``judge``) through ``benchmark.models`` and remembers its fingerprint; ``usage()`` sums the accounting of every
    model used."""

    config: dict
    task: dict
    workdir: Path
    lm_cache: bool | str | Path = True  # benchmark.models.get_lm(cache=...): False disables the cache
    models: dict[str, dict] = field(default_factory=dict)  # role -> {name, backend, fingerprint}
    _lms: list[tuple[LM, dict]] = field(default_factory=list)  # distinct backends, usage when first seen

    @cached_property
    def user_name(self) -> str:
        """The display name of the user the traces are about (from the pack spec; the user id otherwise)."""
        from ..packs import load_spec

        try:
            spec = load_spec(self.task["pack"])
        except (ReconBenchError, OSError):  # a pack this install does not ship: the id is still a usable name
            return self.task["user"]
        return next((u["name"] for u in spec.get("users", []) if u["id"] == self.task["user"]), self.task["user"])

    def lm(self, role: str, *, name: str | None = None) -> LM:
        """The model of ``role``, or the model at ``name`` (a tuned checkpoint) on the same backend."""
        spec = self.config["models"][role]
        lm = get_lm(name or spec["name"], spec.get("backend", "transformers"), cache=self.lm_cache,
                    **spec.get("options", {}))
        self.models[role] = {"name": str(name or spec["name"]), "backend": spec.get("backend", "transformers"),
                             "fingerprint": lm.fingerprint}
        if all(lm.usage is not other.usage for other, _ in self._lms):
            self._lms.append((lm, lm.usage.as_dict()))
        return lm

    def usage(self) -> Usage:
        """This run's usage per stage, summed over the distinct backends it loaded. Backends are shared per process
        and keep counting, so what they had counted before this run first used them is subtracted."""
        total = Usage()
        for lm, before in self._lms:
            for name, now in lm.usage.as_dict().items():
                diff = {k: v - before.get(name, {}).get(k, 0) for k, v in now.items()}
                if not any(diff.values()):
                    continue
                mine = total.stages.setdefault(name, StageUsage())
                for k, v in diff.items():
                    setattr(mine, k, getattr(mine, k) + v)
        return total

    def gen(self, section: str, **override) -> GenParams:
        """Sampling parameters of config section ``section`` (``trace``, ``reconstruction``, ``e2e``)."""
        return GenParams(**(self.config[section] | override))

    # -- prompts ------------------------------------------------------------------------------------------------
    def context(self, record: dict) -> str:
        """The record's context as ``Speaker: text`` lines, keeping the newest ``context_chars`` characters."""
        budget = self.config["context_chars"]
        lines: list[str] = []
        for turn in reversed(record["context"]):
            line = f"{turn['speaker']}: {turn['text']}"
            if len(line) > budget:
                if not lines:  # the newest turn alone is too long: keep its end
                    lines.append("..." + line[-budget:])
                break
            lines.append(line)
            budget -= len(line) + 1
        return "\n".join(reversed(lines))

    def prompt(self, name: str, record: dict, **values: str) -> list[dict]:
        """Template ``name`` filled with the record's context and the user's name (plus ``values``)."""
        return render(name, context=self.context(record), user=self.user_name, **values)

    def backward_prompt(self, record: dict) -> list[dict]:
        """Backward Synthesis: context and the real action -> why did they say this."""
        return self.prompt("backward", record, action=record["action"])

    def reconstruction_prompt(self, record: dict, trace: str) -> list[dict]:
        """The reconstruction model's prompt: context and trace, never the real action."""
        return self.prompt("reconstruction", record, trace=trace)

    def clean_trace(self, text: str, record: dict) -> tuple[str, int]:
        """A generated trace, stripped, with spans copied from the real action removed, cut to the task's size limit;
        returns the trace and the number of spans removed."""
        trace, spans = redact_action(text.strip(), record["action"])
        return trace[:self.task.get("limits", {}).get("max_trace_chars", 8000)], spans

    def strip_speaker(self, text: str) -> str:
        """A predicted turn without the ``Name:`` label small models often start it with."""
        text = text.strip()
        label = f"{self.user_name}:"
        return text[len(label):].strip() if text.startswith(label) else text

    def prompt_hashes(self) -> dict[str, str]:
        return {name: prompt_hash(name) for name in PROMPTS}


def batches(records: list[dict], size: int) -> Iterator[list[dict]]:
    for start in range(0, len(records), size):
        yield records[start:start + size]


def check_records(records: list[dict], file: object) -> None:
    """Training records must have distinct ids (a trace is keyed by id)."""
    seen: set[str] = set()
    for r in records:
        if r["id"] in seen:
            raise DataError("duplicate record id", file=file, record=r["id"], field="id")
        seen.add(r["id"])
