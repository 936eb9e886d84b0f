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


def test_a_result_decided_with_other_protocol_parameters_than_the_controls_checked_does_not_rank(tmp_path):
    """The store accepts a result re-decided with another tie band (its verdicts are what its raw numbers give under
    the parameters it records), and the band moves the win rate: RECON-GRPO on forum/steeeeve is 19 won, 38 lost
    (33%) with the 0.0 the controls checked, 5 won, 3 lost (62.5%) with 0.005. Such a result must not rank under
    controls that checked another band (before 2026-12-01 it did)."""
    from benchmark.evaluate.rescore import rescore
    from benchmark.io import write_json
    from benchmark.records.result import read_result

    board = _copy_board(tmp_path)
    path = next((board / "results" / "forum" / "steeeeve").glob("recon_grpo--*--likelihood.json"))
    shopped = rescore(read_result(path), params={"tie_band": 0.005})
    assert shopped["summary"]["dimensions"]["overall"]["win_rate"]["estimate"] == 0.625
    write_json(path, shopped)
    publish.build(board)
    rows = [r for r in read_json(board / "scores.json")["rows"] if r["method"] == "recon_grpo"]
    ranked = [r for r in rows if r["controls"]["ranks"]]
    assert ranked and all("forum/steeeeve" not in r["users"] for r in ranked)
    (unranked,) = [r for r in rows if "forum/steeeeve" in r["users"]]
    assert ("forum: the controls checked the protocol's decision parameters tie_band = 0.0; this result was decided "
            "with tie_band = 0.005") in unranked["controls"]["reason"]
