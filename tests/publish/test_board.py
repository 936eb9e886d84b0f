"""The static board: identical bytes when rebuilt from the same results, self-contained (no external URL), and it
renders in a real browser (headless Chromium) with the expected rows, the plot, the transfer matrix and the link to
the latest control report."""

from __future__ import annotations

import re
import shutil

import pytest

from benchmark import publish
from benchmark.io import write_json
from benchmark.publish.transfer import digest as transfer_digest

from .conftest import PASSING, make_report

METHODS = {"recon_select": (7, 3, 2), "recon_grpo": (8, 2, 1), "e2e_grpo": (2, 9, 0)}


@pytest.fixture
def full_board(board, write_result, make_result):
    """Three methods on two packs and three users, a transfer matrix and every user's control reports for one judge."""
    for method, (w, lost, t) in METHODS.items():
        for pack, user in (("debates", "biden"), ("debates", "trump"), ("scotus", "sotomayor")):
            doc = make_result(method, pack, user, ["method"] * w + ["baseline"] * lost + ["tie"] * t)
            publish.add(write_result(doc, f"{method}-{user}.json"), board)
    stat = make_result("x", "debates", "biden", ["method"] * 3 + ["baseline"])["summary"]["dimensions"]["overall"]
    cells = [{"method": "recon_select", "synthesizer": s, "action_model": a, "result_digest": "1" * 64} | stat
             for s in ("smollm2-135m", "qwen2.5-coder-0.5b") for a in ("smollm2-135m", "qwen2.5-coder-0.5b")]
    models = [{"name": "smollm2-135m", "fingerprint": "a" * 64},
              {"name": "qwen2.5-coder-0.5b", "fingerprint": "b" * 64}]
    matrix = {"schema_version": 1, "name": "debates-biden", "pack": "debates", "users": ["debates/biden"],
              "methods": ["recon_select"], "baseline": "backward", "dimension": "overall",
              "synthesizer_models": models, "action_models": models,
              "judge": {"name": "smollm2-135m", "fingerprint": "a" * 64, "mode": "options"},
              "slice": {"train_limit": 4, "test_limit": 2}, "cells": cells}
    write_json(board / "transfer" / "debates-biden.json",
               matrix | {"digest": transfer_digest(matrix), "run": {"created_at": "2026-01-01T00:00:00Z"}})
    # a second group, judged by another model, whose controls fail: shown greyed, unranked
    for method, (w, lost, t) in METHODS.items():
        doc = make_result(method, "debates", "biden", ["method"] * w + ["baseline"] * lost + ["tie"] * t,
                          judge="qwen2.5-coder-0.5b")
        publish.add(write_result(doc, f"{method}-qwen.json"), board)
    # an older failing and a newer passing report for the first group on each pack; a failing one for the second
    for pack, user in (("debates", "biden"), ("debates", "trump"), ("scotus", "sotomayor")):
        for stamp, statuses in (("2026-01-01T00:00:00Z", PASSING | {"oracle": "FAIL"}),
                                ("2026-02-01T00:00:00Z", PASSING)):
            name = f"controls/pairwise/smollm2/{pack}--{user}-{stamp[:10]}"
            write_json(board / f"{name}.json", make_report(pack, user, statuses, created_at=stamp))
            (board / f"{name}.md").write_text("report")
    write_json(board / "controls/pairwise/qwen/debates--biden.json",
               make_report("debates", "biden", PASSING | {"oracle": "FAIL", "length": "FAIL"},
                           judge="qwen2.5-coder-0.5b"))
    publish.build(board)
    return board


def test_rebuild_gives_identical_bytes(full_board, tmp_path):
    outputs = ("index.html", "LEADERBOARD.md", "scores.json")
    first = {name: (full_board / name).read_bytes() for name in outputs}
    publish.build(full_board)
    assert {name: (full_board / name).read_bytes() for name in outputs} == first
    moved = tmp_path / "elsewhere"
    shutil.copytree(full_board / "results", moved / "results")
    shutil.copytree(full_board / "transfer", moved / "transfer")
    shutil.copytree(full_board / "controls", moved / "controls")
    (moved / "index.html").write_text("stale")
    publish.build(moved)
    assert {name: (moved / name).read_bytes() for name in outputs} == first  # no absolute path, no build time


def test_page_is_self_contained(full_board):
    page = (full_board / "index.html").read_text()
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", page, re.I)
    assert not re.search(r"<(link|img|iframe)\b|\bsrc=", page, re.I)
    assert str(full_board) not in page


def test_markdown_table_lists_every_method_and_the_transfer_matrix(full_board):
    md = (full_board / "LEADERBOARD.md").read_text()
    rows = [line for line in md.splitlines() if line.startswith("|") and "smollm2-135m" in line]
    assert [re.split(r"\s*\|\s*", r)[2].rstrip("*~") for r in rows[:3]] == ["recon_grpo", "recon_select", "e2e_grpo"]
    assert "## Transfer: recon_select" in md and "qwen2.5-coder-0.5b" in md


def test_board_renders_in_headless_chromium(full_board, chromium, tmp_path):
    url = (full_board / "index.html").as_uri()
    dom = chromium(url, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert re.search(r'<html[^>]*class="js"', html)  # the page's script ran
    group = html[html.index('id="group-1"'):html.index('id="plot"')]
    overall = group[group.index('data-view="overall"'):group.index('data-view="domain"', group.index("<table"))]
    methods = re.findall(r"<tr[^>]*><td[^>]*>[^<]*</td><td data-sort=\"([a-z0-9_]+)\"", overall)
    assert methods == ["recon_grpo", "recon_select", "e2e_grpo", "backward"]
    assert overall.count('class="cibar"') == 3  # CI drawn for every method
    assert re.search(r'<tr class="best"><td[^>]*>1</td><td data-sort="recon_grpo"', overall)
    assert 'data-sort="recon_select"><strong>recon_select</strong><span class="badge tied">' in overall
    domain_view = group[group.index('<div class="view" data-view="domain"'):]
    assert ">debates<" in domain_view and ">scotus<" in domain_view and ">debates/biden<" in domain_view
    assert 'data-ranked="true"' in group and "ranked: controls passed" in group
    greyed = html[html.index('id="group-2"'):html.index('id="plot"')]
    assert '<section class="group unranked" id="group-2"' in html and 'data-ranked="false"' in greyed
    assert "not ranked" in greyed and "failed: oracle, length" in greyed
    assert "badge best" not in greyed  # an unranked group names no best method
    plot = html[html.index('id="plot"'):html.index('id="transfer"')]
    assert 'data-rows="6"' in plot and 'data-ranked-rows="3"' in plot and "<svg" in plot
    assert plot.count('id="line2d_') >= 6 and plot.count("(unranked)") >= 3
    transfer = html[html.index('id="transfer"'):html.index('id="controls"')]
    assert transfer.count("<tr>") == 2 + 1 and transfer.count('class="cibar"') == 4  # 2x2 matrix
    controls = html[html.index('id="controls"'):]
    assert 'href="controls/pairwise/smollm2/debates--biden-2026-02-01.md"' in controls
    assert "debates--biden-2026-01-01" not in controls  # only the latest report per split is listed

    shot = tmp_path / "board.png"
    proc = chromium(url, f"--screenshot={shot}", "--window-size=1280,2000",
                        "--hide-scrollbars")
    assert proc.returncode == 0 and shot.stat().st_size > 20_000, proc.stderr[-2000:]
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.shape[:2] == (2000, 1280) and pixels.std() > 0.05  # something was drawn, not a blank page


def test_a_transfer_matrix_must_be_what_its_counts_give(tmp_path):
    # the board showed any matrix that matched the schema: a cell's win rate could be typed in, digest recomputed
    import copy

    from benchmark.errors import DataError
    from benchmark.io import read_json, write_json
    from benchmark.paths import LEADERBOARD_DIR
    from benchmark.publish.transfer import digest, read_transfer

    published = read_json(LEADERBOARD_DIR / "transfer" / "debates-biden.json")
    read_transfer(LEADERBOARD_DIR / "transfer" / "debates-biden.json")
    edited = copy.deepcopy(published)
    edited["cells"][0]["win_rate_ties_half"]["estimate"] = 0.9
    write_json(tmp_path / "edited.json", edited)
    with pytest.raises(DataError, match="digest does not match"):
        read_transfer(tmp_path / "edited.json")
    edited["digest"] = digest(edited)
    write_json(tmp_path / "forged.json", edited)
    with pytest.raises(DataError, match=r"win_rate_ties_half 0.9 is not what the cell's counts give \(0.5\)") as e:
        read_transfer(tmp_path / "forged.json")
    assert e.value.field == "cells/win_rate_ties_half"
    assert e.value.record == "recon_select: smollm2-135m -> smollm2-135m"
