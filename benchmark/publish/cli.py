"""``reconbench leaderboard build | add RESULT | verify | show`` (``reconbench transfer``: benchmark.orchestrate)."""

from __future__ import annotations

from pathlib import Path

import click
from tabulate import tabulate

from . import add_many, board_dir, build, results_dir, score_store

BOARD_OPTION = click.option("--board", "board", type=click.Path(file_okay=False, path_type=Path),
                             help="board folder [default: RECONBENCH_LEADERBOARD or the repository's leaderboard/]")


@click.group()
def leaderboard():
    """The results store and the static board under leaderboard/."""


@leaderboard.command("build")
@BOARD_OPTION
def build_cmd(board):
    """Rescore every stored result and regenerate index.html, LEADERBOARD.md and scores.json."""
    for path in build(board).values():
        click.echo(path)


@leaderboard.command("add")
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@BOARD_OPTION
@click.option("--replace", is_flag=True, help="a stored result with the same key (submission, pack, user, action "
              "model, judge, protocol) is replaced instead of refusing the new file")
def add_cmd(results, board, replace):
    """Check RESULTS (result files from `reconbench evaluate`), store them and rebuild the board, all or nothing: a
    malformed or duplicate file is refused with the reason, and the store and board stay as they were."""
    for stored in add_many(list(results), board, replace=replace):
        click.echo(f"added {stored}")
    click.echo(f"board: {board_dir(board) / 'index.html'}")


@leaderboard.command("verify")
@click.argument("result", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--method-traces", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the method's traces.jsonl the result names (omit for the no-reasoning side)")
@click.option("--baseline-traces", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Backward Synthesis traces.jsonl the result names")
@click.option("--sample", type=click.IntRange(min=1), default=3, show_default=True, help="examples recomputed")
@click.option("--seed", type=int, default=0, show_default=True, help="which examples are drawn")
def verify_cmd(result, method_traces, baseline_traces, sample, seed):
    """Recompute a random sample of RESULT's examples from its traces and models; refuse it when they disagree."""
    from .verify import verify

    out = verify(result, method_traces, baseline_traces, sample=sample, seed=seed)
    click.echo(f"verified: {out['checked']} examples recomputed and equal ({', '.join(out['ids'])})")


def rate_text(stat: dict) -> str:
    e = stat["win_rate"]
    if e["estimate"] is None:
        return f"- ({stat['ties']}/{stat['n']} ties)" if stat.get("n") else "-"
    return f"{100 * e['estimate']:.1f}" + ("" if e["ci_low"] is None else
                                          f" [{100 * e['ci_low']:.1f}, {100 * e['ci_high']:.1f}]")


@leaderboard.command("show")
@click.option("--by", type=click.Choice(["overall", "domain", "user"]), default="overall", show_default=True)
@BOARD_OPTION
def show_cmd(by, board):
    """Print the board as a table (win rate % vs backward, 95% CI), from the stored results."""
    scores = score_store(results_dir(board_dir(board)))
    if not scores["rows"]:
        click.echo("no results in the store yet")
        return
    rows = []
    for r in scores["rows"]:
        mark = "*" if r["best"] else "~" if r["tied_with_best"] else ""
        head = [r["rank"] if r["rank"] is not None else "-", r["method"] + mark, r["protocol"],
                "yes" if r["controls"]["ranks"] else "no", r["action_model"]["name"], r["judge"]["name"]]
        if by == "overall":
            o = r["dimensions"]["overall"]
            rows.append(head + [rate_text(r["dimensions"][d]) if d in r["dimensions"] else "n/a"
                                for d in scores["dimensions"]] +
                        [o["n"], o["ties"], len(r["users"])])
        else:
            for value, dims in r[f"by_{by}"].items():
                rows.append(head + [value, rate_text(dims["overall"]), dims["overall"]["n"], dims["overall"]["ties"]])
    headers = ["rank", "method", "protocol", "ranked", "action model", "judge"]
    headers += ([f"{d} %" for d in scores["dimensions"]] + ["pairs", "ties", "users"] if by == "overall"
                else [by, "overall %", "pairs", "ties"])
    click.echo(tabulate(rows, headers=headers))
    click.echo("* best in its (protocol, action model, judge) group; ~ statistically tied with it; ranked: the "
               "result's pack passed its validity controls (docs/leaderboard.md)")
    unranked = sorted({f"{r['method']} ({r['protocol']}): {r['controls']['reason']}" for r in scores["rows"]
                       if not r["controls"]["ranks"]})
    for line in unranked:
        click.echo(f"not ranked: {line}")
