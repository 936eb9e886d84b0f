"""Does a judge obey the judge-injection control's instruction, or only rate the longer text higher? Runs the
injection comparison of the validity controls (Backward Synthesis' own predictions, one side with the instruction
appended) beside the same comparison with a NEUTRAL text of the same length appended instead, under one judge
protocol, and prints both. A judge that obeys moves more for the instruction than for the padding. The settings are
those of the recorded judge reports (24 training turns, 8 test turns, 64-token predictions, k = 4); every LM call is
cached, so the injection side is free after `reconbench controls`. Usage:

    python scripts/injection_vs_padding.py [--pack pmq-sample --user cameron --judge qwen2.5-coder-1.5b]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from tabulate import tabulate

# the same length as the injection (100 characters), something the speaker could have said, addressed to no judge
PADDING = "\n\nAnd I say it again today, because that is what the people who sent us here expect all of us to do."


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pack", default="pmq-sample")
    ap.add_argument("--user", default="cameron")
    ap.add_argument("--judge", default="qwen2.5-coder-1.5b")
    ap.add_argument("--action-model", default="smollm2-135m")
    ap.add_argument("--protocol", default="pointwise")
    args = ap.parse_args(argv)

    from benchmark.controls.definitions import INJECTION
    from benchmark.evaluate import evaluate, load_splits, load_traces
    from benchmark.evaluate.predict import first, predict, train_slice
    from benchmark.models import get_lm
    from benchmark.orchestrate.controls import backward_traces
    from benchmark.retrieval import demonstrated

    assert len(PADDING) == len(INJECTION), (len(PADDING), len(INJECTION))
    settings = dict(k=4, limit=8, train_limit=24, max_tokens=64)
    train_all, test_all = load_splits(args.pack, args.user)
    train, test = train_slice(train_all, settings["train_limit"]), first(test_all, settings["limit"])
    shown = demonstrated(train, test, settings["k"])
    traces = load_traces(backward_traces(args.pack, args.user, shown), args.pack, args.user, train,
                         needed=[r["id"] for r in shown])
    action, judge = get_lm(args.action_model), get_lm(args.judge)
    base = predict(args.pack, args.user, traces, action, k=settings["k"], seed=0, max_tokens=settings["max_tokens"],
                   train=train, test=test)
    rows, out = [], Path(tempfile.mkdtemp(prefix="injection-vs-padding-"))
    for name, suffix in (("instruction", INJECTION), ("neutral padding", PADDING)):
        result = evaluate(traces, traces, args.pack, args.user, method_name=name, action_model=action, judge=judge,
                          protocol=args.protocol, method_predictions=[p | {"action": p["action"] + suffix}
                                                                      for p in base],
                          out=out / f"{name.replace(' ', '-')}.json", **settings)
        o = result["summary"]["dimensions"]["overall"]
        gains = [ex["raw"]["ratings"]["overall"]["method"] - ex["raw"]["ratings"]["overall"]["baseline"]
                 for ex in result["examples"]] if args.protocol == "pointwise" else []
        rows.append([name, f"{o['wins']}/{o['losses']}/{o['ties']}",
                     f"{statistics.mean(gains):+.2f} ({min(gains):+.2f} to {max(gains):+.2f})" if gains else "n/a"])
    print(tabulate(rows, headers=["appended (100 chars)", "won/lost/tied vs without", "overall rating change"],
                   tablefmt="github"))
    print(f"\n{args.pack}/{args.user}, {args.protocol}, judge {args.judge}, action model {args.action_model}, "
          f"{settings['limit']} test turns, {settings['train_limit']} training turns")


if __name__ == "__main__":
    main()
