"""``reconbench evaluate``: one method's traces against the baseline's on one user split."""

from __future__ import annotations

from pathlib import Path

import click
from tabulate import tabulate

from ..flags import TRACES, renamed
from ..records.result import Estimate, Result
from ..records.verdicts import DIMENSIONS
from .settings import PROTOCOL_NAMES, eval_options


def _pct(est: Estimate) -> str:
    if est.estimate is None:
        return "n/a"
    ci = "" if est.ci_low is None else f" [{100 * est.ci_low:.1f}, {100 * est.ci_high:.1f}]"
    return f"{100 * est.estimate:.1f}%{ci}"


def summary_table(doc: dict) -> str:
    """The per-dimension win rates of a result, as a table."""
    result = Result(doc)
    rows = []
    for d in (d for d in DIMENSIONS if d in result.dimensions):
        s = result.stat(d)
        rows.append([d, s.n, s.wins, s.losses, s.ties, s.invalid, _pct(s.win_rate), _pct(s.win_rate_ties_half)])
    table = tabulate(rows, headers=["dimension", "n", "wins", "losses", "ties", "invalid",
                                    "win rate (ties excluded, 95% CI)", "ties as half"])
    extra = []
    if result.length_controlled is not None:
        extra.append(f"length-controlled win rate (overall): {_pct(result.length_controlled)}")
    m = result.likelihood_margin
    if m is not None and m["estimate"] is not None:
        extra.append(f"mean log-probability margin of the real action: {m['estimate']:+.4f} "
                     f"[{m['ci_low']:+.4f}, {m['ci_high']:+.4f}] {doc['summary']['likelihood']['unit']}")
    return "\n".join([table] + extra)




def _recorded_method(traces: Path) -> str | None:
    """The method named by the ``manifest.json`` that ``reconbench baselines run`` writes beside ``output/``."""
    from ..io import read_json

    manifest = traces.resolve().parent.parent / "manifest.json"
    try:
        name = read_json(manifest).get("method") if manifest.is_file() else None
    except Exception:  # an unreadable manifest names nothing; --name is then required
        return None
    return name if isinstance(name, str) and name.isidentifier() else None


@click.command()
@renamed("--traces", "--method-traces", type=TRACES)
@renamed("--baseline", "--baseline-traces", type=TRACES)
@renamed("--limit", "--test-limit", type=click.IntRange(min=1))
@click.option("--method-traces", type=TRACES, help="The method's traces.jsonl (omit with --no-reasoning).")
@click.option("--baseline-traces", type=TRACES, help="The baseline's traces.jsonl (Backward Synthesis). Required.")
@click.option("--pack", required=True, help="Pack name, e.g. scotus.")
@click.option("--user", required=True, help="User id within the pack, e.g. sotomayor.")
@click.option("--name", "method_name",
              help="Method name in the result (default: the method of a `baselines run` folder's manifest.json; "
                   "required otherwise).")
@click.option("--baseline-name", default="backward", show_default=True)
@click.option("--no-reasoning", is_flag=True, help="Predict the method's side without traces (a control).")
@eval_options
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Result file (default under the runs dir).")
def evaluate(method_traces, baseline_traces, pack, user, method_name, baseline_name, no_reasoning, out, settings):
    """Win rate of a method's traces against the baseline's: retrieval-augmented prediction with the frozen action
    model, pairwise judge in both orders, paired bootstrap CIs. Writes a schema-validated result file."""
    from ..records.result import default_result_path
    from .pipeline import evaluate as run

    traces, baseline = method_traces, baseline_traces
    if baseline is None:
        raise click.UsageError("give --baseline-traces: the Backward Synthesis traces.jsonl to compare against")
    if (traces is None) != no_reasoning:
        raise click.UsageError("give --method-traces, or --no-reasoning for the no-reasoning control (not both)")
    if method_name is None:
        method_name = "no_reasoning" if no_reasoning else _recorded_method(traces)
    if method_name is None:
        raise click.UsageError(f"give --name: {traces} is not the output of `reconbench baselines run` (no "
                               f"manifest.json naming its method beside its folder), and a folder name is not a "
                               f"method name")
    result = run(traces, baseline, pack, user, method_name=method_name, baseline_name=baseline_name, out=out,
                 **settings.kwargs())
    protocol = settings.protocol
    path = out or default_result_path(pack, user, method_name, baseline_name, result["action_model"]["name"],
                                      result["judge"]["name"], protocol)
    click.echo(f"{method_name} vs {baseline_name} on {pack}/{user}, protocol {protocol}: "
               f"{result['test']['n_evaluated']} of {result['test']['n_total']} test examples")
    click.echo(summary_table(result))
    h, p = result["judge_health"], result["predictions"]
    click.echo(f"judge health: order flips {h['order_flip_rate']}, ties {h['tie_rate']}, first position wins "
               f"{h['first_position_win_rate']}, length correlation {h['length_correlation']}, unparseable "
               f"{h['unparseable']}/{h['n_judgments']}")
    click.echo(f"prediction parse failures: method {p['method']['parse_failures']}/{p['method']['n']}, baseline "
               f"{p['baseline']['parse_failures']}/{p['baseline']['n']}")
    costs = result["run"]["costs"]
    click.echo(tabulate([[s, c.get("calls", 0), c.get("cache_hits", 0), c.get("seconds", 0)] for s, c in costs.items()],
                        headers=["stage", "model calls", "cache hits", "seconds"]))
    click.echo(f"result: {path}")


@click.command()
@click.argument("result", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--protocol", type=click.Choice(PROTOCOL_NAMES), default=None,
              help="decide with this protocol instead (pairwise <-> pairwise-calibrated read the same numbers)")
@click.option("--tie-band", type=click.FloatRange(min=0), default=None, help="a new tie band")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="the new result file")
def rescore(result, protocol, tie_band, out):
    """Re-decide RESULT from the raw numbers it recorded (no model call) and write the new result to --out."""
    from .rescore import rescore_file

    new = rescore_file(result, out, protocol=protocol, params=None if tie_band is None else {"tie_band": tie_band})
    click.echo(f"{new['method']['name']} vs {new['baseline']['name']}, protocol {new['protocol']['name']} "
               f"{new['protocol']['params']}")
    click.echo(summary_table(new))
    click.echo(f"result: {out}")
