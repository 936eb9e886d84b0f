"""The board as published in this repository (``leaderboard/``): rebuilt from its committed result files and control
reports, it has a ranked group whose win rates are decided (CIs that are not all 50%), it greys out the groups
whose controls fail with the failing control named, and headless Chromium renders both."""

from __future__ import annotations

import re
import shutil

from benchmark import paths, publish
from benchmark.io import read_json


def _copy_board(tmp_path):
    board = tmp_path / "leaderboard"
    for sub in ("results", "controls", "transfer"):
        if (paths.LEADERBOARD_DIR / sub).is_dir():
            shutil.copytree(paths.LEADERBOARD_DIR / sub, board / sub)
    publish.build(board)
    return board


def test_the_published_board_has_a_decided_ranked_group_and_greys_the_rest(tmp_path, chromium):
    board = _copy_board(tmp_path)
    rows = read_json(board / "scores.json")["rows"]
    ranked = [r for r in rows if r["controls"]["ranks"]]
    assert ranked, "no group of the published board passed its controls"
    cis = [r["dimensions"]["overall"]["win_rate"] for r in ranked]
    assert any(c["ci_low"] is not None and not (c["ci_low"] == c["ci_high"] == 0.5) for c in cis), cis
    assert all(r["controls"]["reason"].startswith("controls passed on ") for r in ranked)
    unranked = [r for r in rows if not r["controls"]["ranks"]]
    why = r"failed: |no control report|not run|no positive control"  # each greyed row names its reason
    assert unranked and all(re.search(why, r["controls"]["reason"]) for r in unranked), \
        [r["controls"]["reason"] for r in unranked]

    dom = chromium((board / "index.html").as_uri(), "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    sections = re.findall(r'<section class="group (ranked|unranked)" id="group-\d+" data-ranked="(true|false)"', html)
    assert ("ranked", "true") in sections and ("unranked", "false") in sections
    first = html[html.index('data-ranked="true"'):]
    first = first[:first.index("</section>")]
    assert "ranked: controls passed" in first and first.count('class="cibar"') >= 1
    assert re.search(r'<rect x="[\d.]+" y="4" width="[\d.]+"', first)  # a CI bar is drawn
    plot = html[html.index('id="plot"'):]
    assert f'data-ranked-rows="{len(ranked)}"' in plot and "(unranked)" in plot
    greyed = html[html.index('data-ranked="false"'):]
    assert "not ranked" in greyed[:greyed.index("</section>")]
