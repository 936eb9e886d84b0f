"""The settings of an evaluation, typed and frozen, and the one set of CLI options that makes them.

``EvalSettings`` holds what decides an evaluation's numbers besides the traces (each role's model and backend, scoring
protocol and its tie band, demonstrations, the test and training slices, the generation and bootstrap seeds,
prediction length); ``kwargs()`` is what ``benchmark.evaluate.evaluate`` and ``benchmark.controls.run_controls``
take, and every result records the settings it was made with verbatim (``eval_settings``; ``from_result`` reads them
back, so a recorded evaluation can be rerun as it was asked). ``eval_options()`` is the click
decorator every command that evaluates shares (evaluate, controls, submit), so an option has one name, one type, one
default and one meaning everywhere; the command receives a single ``settings`` argument (as Inspect AI's
``eval_options`` does for its commands)."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import click

from .predict import MAX_TOKENS
from .protocols import DEFAULT as DEFAULT_PROTOCOL
from .protocols import PROTOCOLS

PROTOCOL_NAMES = tuple(sorted(PROTOCOLS))  # every registered protocol


@dataclass(frozen=True)
class EvalSettings:
    action_model: str = "smollm2-135m"
    judge: str = "smollm2-135m"
    backend: str = "transformers"  # of the action model, and of the judge unless judge_backend says otherwise
    judge_backend: str | None = None
    judge_mode: str = "options"
    protocol: str = DEFAULT_PROTOCOL
    tie_band: float | None = None  # None: the protocol's own
    k: int = 4
    test_limit: int | None = None  # the first N test records; None: all
    train_limit: int | None = None  # the first N training records as the pool; None: the whole split
    train_window: str = "oldest"
    seed: int = 0  # generation (and the shuffling of traces in the controls)
    bootstrap_seed: int | None = None  # the confidence intervals' resampling; None: the generation seed
    max_tokens: int = MAX_TOKENS

    def kwargs(self) -> dict:
        """The keywords of ``benchmark.evaluate.evaluate`` (and ``run_controls``) these settings give."""
        return {"action_model": self.action_model, "judge": self.judge, "backend": self.backend,
                "judge_backend": self.judge_backend, "judge_mode": self.judge_mode, "protocol": self.protocol,
                "protocol_params": None if self.tie_band is None else {"tie_band": self.tie_band}, "k": self.k,
                "limit": self.test_limit, "train_limit": self.train_limit, "train_window": self.train_window,
                "seed": self.seed, "bootstrap_seed": self.bootstrap_seed, "max_tokens": self.max_tokens}

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_result(cls, result: dict) -> EvalSettings:
        """The settings a result records (``eval_settings``); a result made before they were recorded gives the
        ones its other fields imply."""
        if "eval_settings" in result:
            return cls(**result["eval_settings"])
        judge = result["judge"]
        return cls(action_model=result["action_model"]["name"], judge=judge["name"],
                   backend=result["action_model"]["backend"],
                   judge_backend=None if judge["backend"] == result["action_model"]["backend"] else judge["backend"],
                   judge_mode=judge["mode"] if judge["mode"] != "likelihood" else cls.judge_mode,
                   protocol=result.get("protocol", {}).get("name", "pairwise"),
                   tie_band=result.get("protocol", {}).get("params", {}).get("tie_band"), k=result["retrieval"]["k"],
                   test_limit=result["test"]["limit"], train_limit=result.get("train", {}).get("limit"),
                   train_window=result.get("train", {}).get("window", "oldest"),
                   seed=result["seeds"]["generation"],
                   bootstrap_seed=(None if result["seeds"]["bootstrap"] == result["seeds"]["generation"]
                                   else result["seeds"]["bootstrap"]),
                   max_tokens=result["settings"]["prediction"]["max_tokens"])


def _options() -> dict[str, tuple[str, dict]]:
    """field of EvalSettings -> (its option's name, the option's click attributes)."""
    from ..flags import LIMIT
    from ..models.options import BACKEND, MODEL

    return {
        "action_model": ("--action-model", dict(type=MODEL, default=EvalSettings.action_model, show_default=True,
                                                help="the frozen action model that predicts with the demonstrations")),
        "judge": ("--judge", dict(type=MODEL, default=EvalSettings.judge, show_default=True,
                                  help="the judge model (judge protocols; likelihood loads none)")),
        "backend": ("--backend", dict(type=BACKEND, default=EvalSettings.backend, show_default=True,
                                      help="LM backend of the action model (and of the judge, unless "
                                           "--judge-backend)")),
        "judge_backend": ("--judge-backend", dict(type=BACKEND, default=None,
                                                  help="LM backend of the judge [default: --backend]")),
        "judge_mode": ("--judge-mode", dict(type=click.Choice(["options", "text"]), default=EvalSettings.judge_mode,
                                            show_default=True, help="options: next-token probabilities of A/B; "
                                                                    "text: a generated reply, strictly parsed")),
        "protocol": ("--protocol", dict(type=click.Choice(PROTOCOL_NAMES), default=EvalSettings.protocol,
                                        show_default=True, help="scoring protocol (docs/evaluation.md)")),
        "tie_band": ("--tie-band", dict(type=click.FloatRange(min=0), default=None,
                                        help="the protocol's tie band (default: the protocol's own)")),
        "k": ("--k", dict(type=click.IntRange(min=1), default=EvalSettings.k, show_default=True,
                          help="retrieved demonstrations per test record")),
        "test_limit": ("--test-limit", LIMIT | {"help": "only the first N test records"}),
        "train_limit": ("--train-limit", LIMIT | {
            "help": "only the first N training records as the demonstration pool (and, where the command "
                    "synthesizes, what it synthesizes for); default: the whole training split"}),
        "train_window": ("--train-window", dict(
            type=click.Choice(["oldest", "newest"]), default=EvalSettings.train_window, show_default=True,
            help="which end of the chronological training split --train-limit takes (newest: the turns right "
                 "before the test period)")),
        "seed": ("--seed", dict(type=click.INT, default=EvalSettings.seed, show_default=True,
                                help="generation (and the controls' shuffling of traces)")),
        "bootstrap_seed": ("--bootstrap-seed", dict(type=click.INT, default=None,
                                                    help="the confidence intervals' resampling [default: --seed]; "
                                                         "another draw recomputes no prediction")),
        "max_tokens": ("--max-tokens", dict(type=click.IntRange(min=1), default=EvalSettings.max_tokens,
                                            show_default=True, help="tokens per prediction")),
    }


FIELDS = tuple(EvalSettings.__dataclass_fields__)


def eval_options(f=None, *, omit: tuple[str, ...] = (), **defaults):
    """Add the evaluation options to a click command and hand it one ``settings: EvalSettings`` instead.

    ``omit``: fields the command declares itself (``transfer`` takes several action models) and passes on as its own
    arguments; the settings keep their defaults there. ``defaults``: other defaults for this command (``demo`` tests
    a small slice), shown in its help."""
    unknown = sorted((set(omit) | set(defaults)) - set(FIELDS))
    if unknown:
        raise TypeError(f"not evaluation settings: {unknown}")

    def decorate(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            settings = EvalSettings(**{name: kwargs.pop(name) for name in FIELDS if name not in omit})
            return f(*args, settings=settings, **kwargs)

        for name, (flag, attrs) in reversed(_options().items()):
            if name in omit:
                continue
            if name in defaults:
                attrs = attrs | {"default": defaults[name], "show_default": True}
            wrapper = click.option(flag, name, **attrs)(wrapper)
        return wrapper

    return decorate(f) if f is not None else decorate
