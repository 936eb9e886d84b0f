"""The scoring-protocol interface: how one test example's two sides (method, baseline) become a verdict.

A protocol is data plus three small functions, registered by name in ``PROTOCOLS``:
- ``measure(job)``: the model calls. Returns one ``raw`` dict per test record holding every number the verdict is
  decided from (option probabilities, scores, log-likelihoods), saved in the result file;
- ``decide(raw, params)``: ``{dimension: verdict}`` from a ``raw`` dict alone, so a result can be re-scored with
  other ``params`` (a tie band) without any model call (``benchmark.evaluate.rescore``);
- ``health(examples)``: the protocol's own judge-health figures (the ``health`` object of the result schema);
- ``prompts()``: ``{template id: sha256}`` of every prompt its numbers depend on (recorded in the result);
- ``summary_extra(examples, seed, n_boot)``: what it adds to the result's summary beside the win rates.

A verdict is ``{"final": "method" | "baseline" | "tie" | "invalid", ...}`` plus whatever per-order detail the
protocol keeps; statistics and the board only read ``final``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import DataError


@dataclass(frozen=True)
class Job:
    """What ``measure`` gets: the test slice, both sides and the models."""

    test: list[dict]
    user_name: str
    action_model: object
    judge: object | None
    seed: int = 0
    judge_mode: str = "options"
    method_predictions: list[dict] | None = None  # judge protocols
    baseline_predictions: list[dict] | None = None
    method_prompts: list[list[dict]] | None = None  # judge-free: the action model's prompt per test record
    baseline_prompts: list[list[dict]] | None = None
    save_dir: Path | None = None  # where raw rows are saved as they are made (a rerun reuses them)


@dataclass(frozen=True)
class Protocol:
    name: str
    description: str
    uses_judge: bool  # False: scored by the action model itself (no judge model)
    dimensions: tuple[str, ...]
    params: dict  # defaults of the decision parameters (recorded in the result)
    measure: Callable[[Job], list[dict]]
    decide: Callable[[dict, dict], dict[str, dict]]
    health: Callable[[list[dict]], dict]
    prompts: Callable[[], dict[str, str]]
    summary_extra: Callable[[list[dict], int, int], dict]
    modes: tuple[str, ...] = ("options",)  # judge modes the protocol can read
    controls: tuple[str, ...] = field(default=())  # controls that apply (the rest are reported not applicable)
    predicts: bool = True  # the pipeline runs the action model's predictions (judge protocols, likelihood-reasoned)
    template: str | None = None  # judge-free protocols: the action-model prompt each side is scored under


PROTOCOLS: dict[str, Protocol] = {}


def register(protocol: Protocol) -> Protocol:
    PROTOCOLS[protocol.name] = protocol
    return protocol


def get_protocol(name: str) -> Protocol:
    """The registered protocol ``name``; a DataError listing the known ones otherwise. (The package's
    ``__init__`` imports every protocol file, and importing this module runs it first.)"""
    if name not in PROTOCOLS:
        raise DataError(f"unknown scoring protocol {name!r}; known: {', '.join(sorted(PROTOCOLS))}",
                        field="protocol")
    return PROTOCOLS[name]


def decision_params(protocol: Protocol, given: dict | None) -> dict:
    """The protocol's defaults updated with ``given``; an unknown parameter is refused."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(protocol.params))
    if unknown:
        raise DataError(f"protocol {protocol.name!r} has no parameter {unknown[0]!r}; it takes "
                        f"{', '.join(sorted(protocol.params)) or 'none'}", field="protocol/params")
    params = protocol.params | {k: v for k, v in given.items() if v is not None}
    for k, v in params.items():
        if isinstance(v, (int, float)) and v < 0:
            raise DataError(f"protocol parameter {k} must be >= 0, got {v}", field=f"protocol/params/{k}")
    return params


def side_by_margin(margin: float | None, band: float) -> str:
    """``method`` when the method side is ahead by more than ``band``, ``baseline`` when behind by more, else
    ``tie``; ``invalid`` when the margin is undefined."""
    if margin is None:
        return "invalid"
    if margin > band:
        return "method"
    if margin < -band:
        return "baseline"
    return "tie"


def length_controlled(examples: list[dict], seed: int, n_boot: int) -> dict:
    """The judge protocols' summary extra: the length-controlled win rate of the overall dimension."""
    from ...records.stats import length_controlled_win_rate

    return {"length_controlled": length_controlled_win_rate(examples, seed=seed)}


def empty_health(n_judgments: int, tie_rate: float | None, length_correlation: float | None) -> dict:
    return {"n_judgments": n_judgments, "unparseable": 0, "order_flip_rate": None, "tie_rate": tie_rate,
            "first_position_win_rate": None, "length_correlation": length_correlation}
