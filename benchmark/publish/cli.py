"""``reconbench leaderboard build | add RESULT | show`` and ``reconbench transfer``."""

from __future__ import annotations

from pathlib import Path

import click
from tabulate import tabulate

from ..flags import renamed, test_limit, train_limit
from ..models.options import BACKEND, MODEL
from . import add_many, board_dir, build, results_dir, score_store

_board_option = click.option("--board", "board", type=click.Path(file_okay=False, path_type=Path),
                             help="board folder [default: RECONBENCH_LEADERBOARD or the repository's leaderboard/]")


@click.group()
def leaderboard():
    """The results store and the static board under leaderboard/."""


@leaderboard.command("build")
@_board_option
def build_cmd(board):
    """Rescore every stored result and regenerate index.html, LEADERBOARD.md and scores.json."""
    for path in build(board).values():
        click.echo(path)


@leaderboard.command("add")
@click.argument("results", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@_board_option
def add_cmd(results, board):
    """Check RESULTS (result files from `reconbench evaluate`), store them and rebuild the board, all or nothing: a
    malformed or duplicate file is refused with the reason, and the store and board stay as they were."""
    for stored in add_many(list(results), board):
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


def _rate(stat: dict) -> str:
    e = stat["win_rate"]
    if e["estimate"] is None:
        return f"- ({stat['ties']}/{stat['n']} ties)" if stat.get("n") else "-"
    return f"{100 * e['estimate']:.1f}" + ("" if e["ci_low"] is None else
                                          f" [{100 * e['ci_low']:.1f}, {100 * e['ci_high']:.1f}]")


@leaderboard.command("show")
@click.option("--by", type=click.Choice(["overall", "domain", "user"]), default="overall", show_default=True)
@_board_option
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
            rows.append(head + [_rate(r["dimensions"][d]) if d in r["dimensions"] else "n/a"
                                for d in scores["dimensions"]] +
                        [o["n"], o["ties"], len(r["users"])])
        else:
            for value, dims in r[f"by_{by}"].items():
                rows.append(head + [value, _rate(dims["overall"]), dims["overall"]["n"], dims["overall"]["ties"]])
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


@click.command()
@renamed("--limit", "--test-limit", type=click.IntRange(min=1))
@click.option("--pack", required=True)
@click.option("--user", required=True)
@click.option("--method", "methods", multiple=True, default=("recon_select",), show_default=True,
              help="method(s) compared with backward (repeatable)")
@click.option("--synthesizer", "synthesizers", multiple=True, required=True,
              help="synthesizer model (repeatable): writes the traces")
@click.option("--action-model", "action_models", type=MODEL, multiple=True, required=True,
              help="action model (repeatable): uses the traces")
@click.option("--judge", type=MODEL, default="smollm2-135m", show_default=True)
@click.option("--judge-mode", type=click.Choice(["options", "text"]), default="options", show_default=True)
@click.option("--backend", type=BACKEND, default="transformers", show_default=True)
@click.option("--config", default="cpu", show_default=True, help="synthesis config (the models of other roles)")
@train_limit()
@test_limit()
@click.option("--max-tokens", type=click.IntRange(min=1), help="action model tokens per prediction")
@click.option("--name", help="matrix name [default: <pack>-<user>]")
@_board_option
@click.option("--no-build", is_flag=True, help="write the matrix only; do not rebuild the board")
def transfer(pack, user, methods, synthesizers, action_models, judge, judge_mode, backend, config, train_limit,
             test_limit, max_tokens, name, board, no_build):
    """Cross-model transfer: traces written by each synthesizer model, used by each action model; a matrix of
    win rates against Backward Synthesis (written by the same synthesizer model), one judge for every cell."""
    from .transfer import run_transfer, save_transfer

    doc = run_transfer(pack=pack, user=user, methods=list(methods), synthesizers=list(synthesizers),
                       action_models=list(action_models), judge=judge, judge_mode=judge_mode, backend=backend,
                       config=config, train_limit=train_limit, limit=test_limit, max_tokens=max_tokens, name=name)
    path = save_transfer(doc, board_dir(board))
    for method in doc["methods"]:
        cells = {(c["synthesizer"], c["action_model"]): c for c in doc["cells"] if c["method"] == method}
        table = [[s["name"]] + [_rate(cells[(s["name"], a["name"])]) for a in doc["action_models"]]
                 for s in doc["synthesizer_models"]]
        click.echo(f"{method} vs backward, win rate % [95% CI]")
        click.echo(tabulate(table, headers=["synthesizer \\ action model"] + [a["name"] for a in doc["action_models"]]))
    click.echo(f"matrix: {path}")
    if not no_build:
        click.echo(f"board: {build(board)['html']}")
