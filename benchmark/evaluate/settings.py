"""The settings of an evaluation, typed and frozen, and the one set of CLI options that makes them.

``EvalSettings`` holds what decides an evaluation's numbers besides the traces (models and backend, scoring protocol
and its tie band, demonstrations, the test and training slices, seed, prediction length); ``kwargs()`` is what
``benchmark.evaluate.evaluate`` and ``benchmark.controls.run_controls`` take. ``eval_options()`` is the click
decorator every command that evaluates shares (evaluate, controls, submit), so an option has one name, one type, one
default and one meaning everywhere; the command receives a single ``settings`` argument (as Inspect AI's
``eval_options`` does for its commands)."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import click

from .predict import MAX_TOKENS
from .protocols import DEFAULT as DEFAULT_PROTOCOL

PROTOCOL_NAMES = ("likelihood", "pairwise", "pairwise-calibrated", "pointwise")


@dataclass(frozen=True)
class EvalSettings:
    action_model: str = "smollm2-135m"
    judge: str = "smollm2-135m"
    backend: str = "transformers"
    judge_mode: str = "options"
    protocol: str = DEFAULT_PROTOCOL
    tie_band: float | None = None  # None: the protocol's own
    k: int = 4
    test_limit: int | None = None  # the first N test records; None: all
    train_limit: int | None = None  # the first N training records as the pool; None: the whole split
    train_window: str = "oldest"
    seed: int = 0
    max_tokens: int = MAX_TOKENS

    def kwargs(self) -> dict:
        """The keywords of ``benchmark.evaluate.evaluate`` (and ``run_controls``) these settings give."""
        return {"action_model": self.action_model, "judge": self.judge, "backend": self.backend,
                "judge_mode": self.judge_mode, "protocol": self.protocol,
                "protocol_params": None if self.tie_band is None else {"tie_band": self.tie_band}, "k": self.k,
                "limit": self.test_limit, "train_limit": self.train_limit, "train_window": self.train_window,
                "seed": self.seed, "max_tokens": self.max_tokens}

    def as_dict(self) -> dict:
        return asdict(self)


def _options():
    from ..flags import test_limit, train_limit
    from ..models.options import BACKEND, MODEL

    return [
        click.option("--action-model", type=MODEL, default=EvalSettings.action_model, show_default=True,
                     help="the frozen action model that predicts with the demonstrations"),
        click.option("--judge", type=MODEL, default=EvalSettings.judge, show_default=True,
                     help="the judge model (judge protocols; likelihood loads none)"),
        click.option("--backend", type=BACKEND, default=EvalSettings.backend, show_default=True,
                     help="LM backend of the action model and the judge"),
        click.option("--judge-mode", type=click.Choice(["options", "text"]), default=EvalSettings.judge_mode,
                     show_default=True, help="options: next-token probabilities of A/B; text: a generated reply, "
                                             "strictly parsed"),
        click.option("--protocol", type=click.Choice(PROTOCOL_NAMES), default=EvalSettings.protocol,
                     show_default=True, help="scoring protocol (docs/evaluation.md)"),
        click.option("--tie-band", type=click.FloatRange(min=0), default=None,
                     help="the protocol's tie band (default: the protocol's own)"),
        click.option("--k", type=click.IntRange(min=1), default=EvalSettings.k, show_default=True,
                     help="retrieved demonstrations per test record"),
        test_limit(),
        train_limit("only the first N training records as the demonstration pool (and, where the command "
                    "synthesizes, what it synthesizes for); default: the whole training split"),
        click.option("--train-window", type=click.Choice(["oldest", "newest"]), default=EvalSettings.train_window,
                     show_default=True, help="which end of the chronological training split --train-limit takes "
                                             "(newest: the turns right before the test period)"),
        click.option("--seed", type=int, default=EvalSettings.seed, show_default=True,
                     help="generation, bootstrap and trace shuffling"),
        click.option("--max-tokens", type=click.IntRange(min=1), default=EvalSettings.max_tokens, show_default=True,
                     help="tokens per prediction"),
    ]


FIELDS = tuple(EvalSettings.__dataclass_fields__)


def eval_options(f):
    """Add the evaluation options to a click command and hand it one ``settings: EvalSettings`` instead."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        settings = EvalSettings(**{name: kwargs.pop(name) for name in FIELDS})
        return f(*args, settings=settings, **kwargs)

    for option in reversed(_options()):
        wrapper = option(wrapper)
    return wrapper
