"""The static board: ``leaderboard/index.html`` (one self-contained page: inline CSS, JS and SVG, no server, no
external URL) and ``leaderboard/LEADERBOARD.md`` (the table the README shows), plus ``leaderboard/scores.json`` (the
same numbers for programs). Every byte is a function of the result files, the transfer matrices and the control
reports: no build time, no absolute paths, so rebuilding from the same inputs gives identical files.
"""

from __future__ import annotations

import html
from pathlib import Path

from tabulate import tabulate

from ..io import atomic_write_text, write_json
from ..records.result import precision
from .plot import win_rate_plot

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:78rem;padding:0 1rem;
color:#1d1d1f;line-height:1.4}
h1{margin-bottom:.2rem}.sub{color:#555;margin-top:0}
h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.9rem}
th,td{padding:.3rem .55rem;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:middle}
th{background:#f4f5f7;cursor:pointer;user-select:none;white-space:nowrap}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.best td{background:#eaf6ee}tr.tied td{background:#eef3fb}
.badge{font-size:.75rem;padding:.05rem .35rem;border-radius:.3rem;margin-left:.3rem;white-space:nowrap}
.badge.best{background:#1b6e3a;color:#fff}.badge.unisolated{background:#b26a00;color:#fff}.badge.tied{background:#2f5d9e;color:#fff}
.ci{color:#555;font-size:.8rem;white-space:nowrap}
code,.fp{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.8rem}
.views button{font:inherit;padding:.25rem .8rem;border:1px solid #bbb;background:#fff;border-radius:.3rem;
cursor:pointer;margin-right:.3rem}
.views button.on{background:#2f5d9e;color:#fff;border-color:#2f5d9e}
.view{display:block}.js .view{display:none}.js .view.on{display:block}
.plot svg{max-width:100%;height:auto}
.empty{color:#777;font-style:italic}
.note{color:#555;font-size:.85rem}
section.unranked{opacity:.55;filter:grayscale(1)}
.status{font-size:.85rem;padding:.2rem .5rem;border-radius:.3rem;display:inline-block}
.status.ranked{background:#eaf6ee;color:#1b6e3a}.status.unranked{background:#f4f4f4;color:#8a1c1c}
"""

# Sorting by a cell's data-sort (numbers numerically, text as text) and switching views; nothing else.
_JS = """
document.documentElement.classList.add('js');
function sortBy(th){const table=th.closest('table'),tbody=table.tBodies[0],i=[...th.parentNode.children].indexOf(th);
const asc=!th.classList.contains('sorted-asc');table.querySelectorAll('th').forEach(h=>h.classList.remove('sorted-asc','sorted-desc'));
th.classList.add(asc?'sorted-asc':'sorted-desc');
const key=r=>{const c=r.children[i];const v=c.dataset.sort!==undefined?c.dataset.sort:c.textContent.trim();
const n=parseFloat(v);return v!==''&&!isNaN(n)&&isFinite(v)?n:v;};
const rows=[...tbody.rows].sort((a,b)=>{const x=key(a),y=key(b);
if(typeof x==='number'&&typeof y==='number')return asc?x-y:y-x;return asc?String(x).localeCompare(String(y)):String(y).localeCompare(String(x));});
rows.forEach(r=>tbody.appendChild(r));}
document.querySelectorAll('table.sortable th').forEach(th=>th.addEventListener('click',()=>sortBy(th)));
document.querySelectorAll('.views').forEach(bar=>{const group=bar.parentNode;
bar.querySelectorAll('button').forEach(b=>b.addEventListener('click',()=>{
bar.querySelectorAll('button').forEach(x=>x.classList.toggle('on',x===b));
group.querySelectorAll(':scope > .view').forEach(v=>v.classList.toggle('on',v.dataset.view===b.dataset.view));}));});
"""

VIEWS = (("overall", "Overall"), ("domain", "By domain"), ("user", "By user"))


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _in(model: dict) -> str:
    """The suffix " in bfloat16" for a model that computed in another precision than float32 (the CPU default, and
    what files made before the precision was recorded used), else the empty string."""
    dtype = precision(model)
    return "" if dtype == "float32" else f" in {dtype}"


def _short(fp: str) -> str:
    return fp[:12]


def ci_bar(est: dict) -> str:
    """A small inline SVG: the 0..1 axis, 50% marked, the CI as a bar and the estimate as a dot."""
    w, h = 110, 14
    parts = [f'<svg class="cibar" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">',
             f'<line x1="0" y1="{h / 2}" x2="{w}" y2="{h / 2}" stroke="#ddd"/>',
             f'<line x1="{w / 2}" y1="1" x2="{w / 2}" y2="{h - 1}" stroke="#c66" stroke-dasharray="2,2"/>']
    if est["ci_low"] is not None:
        x0, x1 = est["ci_low"] * w, est["ci_high"] * w
        parts.append(f'<rect x="{x0:.2f}" y="4" width="{max(x1 - x0, 1):.2f}" height="6" fill="#9bb5dc"/>')
    if est["estimate"] is not None:
        parts.append(f'<circle cx="{est["estimate"] * w:.2f}" cy="{h / 2}" r="3" fill="#1d3f73"/>')
    return "".join(parts) + "</svg>"


def _rate_cell(stat: dict | None, bar: bool = True, rate: str = "win_rate") -> str:
    if stat is None:
        return '<td class="num" data-sort="-1">–</td>'
    est = stat[rate]
    sort = -1 if est["estimate"] is None else est["estimate"]
    ci = "" if est["ci_low"] is None else f'<br><span class="ci">[{_pct(est["ci_low"])}, {_pct(est["ci_high"])}]</span>'
    title = f'n={stat["n"]} wins={stat["wins"]} losses={stat["losses"]} ties={stat["ties"]} invalid={stat["invalid"]}'
    shown = "– (all ties)" if est["estimate"] is None and stat["n"] else _pct(est["estimate"])
    return (f'<td class="num" data-sort="{sort}" title="{title}">{shown}{ci}'
            f'{"<br>" + ci_bar(est) if bar else ""}</td>')


def _method_cell(row: dict) -> str:
    badge = ('<span class="badge best">best</span>' if row["best"] else
             '<span class="badge tied">tied with best</span>' if row["tied_with_best"] else "")
    if row.get("unisolated"):
        badge += ('<span class="badge unisolated" title="traces written by the local runner, without container '
                  'isolation">unisolated</span>')
    return f'<td data-sort="{_e(row["method"])}"><strong>{_e(row["method"])}</strong>{badge}</td>'


def _row_class(row: dict) -> str:
    return "best" if row["best"] else "tied" if row["tied_with_best"] else ""


def _table(headers: list[str], body: list[str], cls: str = "sortable") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _overall_table(rows: list[dict], dims: list[str]) -> str:
    body = []
    for r in rows:
        o = r["dimensions"]["overall"]
        cells = [f'<td class="num" data-sort="{r["rank"] if r["rank"] is not None else 999}">'
                 f'{r["rank"] if r["rank"] is not None else "–"}</td>', _method_cell(r)]
        cells += [_rate_cell(r["dimensions"].get(d), bar=(d == "overall")) for d in dims]
        cells.append(_rate_cell(o, bar=False, rate="win_rate_ties_half"))
        cells += [f'<td class="num">{o["n"]}</td>', f'<td class="num">{o["ties"]}</td>',
                  f'<td class="num">{o["invalid"]}</td>', f'<td class="num" data-sort="{len(r["users"])}" '
                  f'title="{_e(", ".join(r["users"]))}">{len(r["users"])}</td>']
        body.append(f'<tr class="{_row_class(r)}">{"".join(cells)}</tr>')
    body.append('<tr class="baseline"><td class="num" data-sort="999">–</td><td data-sort="backward"><strong>'
                'backward</strong> (baseline)</td>' + '<td class="num" data-sort="0.5">50% by definition</td>' *
                (len(dims) + 1) + '<td></td>' * 4 + '</tr>')
    return _table(["Rank", "Method"] + [f"Win rate: {d}" for d in dims] +
                  ["Overall, ties as half", "Judged pairs", "Ties", "Invalid", "Users"], body)


def _pivot_table(rows: list[dict], key: str, label: str) -> str:
    columns = sorted({c for r in rows for c in r[key]})
    body = []
    for r in rows:
        cells = [_method_cell(r)] + [_rate_cell(r[key].get(c, {}).get("overall")) for c in columns]
        body.append(f'<tr class="{_row_class(r)}">{"".join(cells)}</tr>')
    return (_table(["Method"] + columns, body) +
            f'<p class="note">Overall win rate per {label}; hover a cell for judged pairs, ties and invalid '
            f'verdicts.</p>')


def _group_section(index: int, rows: list[dict], dims: list[str]) -> str:
    am, judge, ctl = rows[0]["action_model"], rows[0]["judge"], rows[0]["controls"]
    reason = "; ".join(sorted({x for r in rows for x in r["controls"]["reason"].split("; ")}))
    status = (f'<p class="status ranked">ranked: {_e(ctl["reason"])}</p>' if ctl["ranks"] else
              f'<p class="status unranked">not ranked: the validity controls did not pass for this protocol, judge '
              f'and action model ({_e(reason)}); shown for reference only</p>')
    hrefs = sorted({h for r in rows for h in r["controls"]["reports"]})
    links = " ".join(f'<a href="{_e(h)}">{_e(h)}</a>' for h in hrefs)
    buttons = "".join(f'<button data-view="{v}" class="{"on" if v == "overall" else ""}">{_e(t)}</button>'
                      for v, t in VIEWS)
    views = {"overall": _overall_table(rows, dims), "domain": _pivot_table(rows, "by_domain", "domain"),
             "user": _pivot_table(rows, "by_user", "user (pack/user)")}
    body = "".join(f'<div class="view{" on" if v == "overall" else ""}" data-view="{v}">{views[v]}</div>'
                   for v, _ in VIEWS)
    scorer = ("no judge: the action model scores the real action" if judge.get("mode") == "likelihood" else
              f'judge {_e(judge["name"])} ({_e(judge.get("mode", ""))})')
    return (f'<section class="group {"ranked" if ctl["ranks"] else "unranked"}" id="group-{index}" '
            f'data-ranked="{str(ctl["ranks"]).lower()}"><h2>Protocol {_e(rows[0]["protocol"])} · action model '
            f'{_e(am["name"] + _in(am))} · {scorer}</h2>{status}'
            f'{"<p class=note>control reports: " + links + "</p>" if links else ""}'
            f'<p class="note">action model <span class="fp">{_e(am["fingerprint"])}</span>'
            f'{" (" + _e(am["backend"]) + ")" if "backend" in am else ""}<br>judge '
            f'<span class="fp">{_e(judge["fingerprint"])}</span></p>'
            f'<div class="views">{buttons}</div>{body}</section>')


def _plot_rows(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        wr = r["dimensions"]["overall"]["win_rate"]
        ranked = r["controls"]["ranks"]
        out.append({"label": f'{r["method"]} · {r["protocol"]} · {r["action_model"]["name"]} · judge '
                             f'{r["judge"]["name"]}{"" if ranked else " (unranked)"}',
                    "estimate": wr["estimate"], "ci_low": wr["ci_low"], "ci_high": wr["ci_high"], "best": r["best"],
                    "tied": r["tied_with_best"], "ranked": ranked})
    return out


def _transfer_section(transfers: list[dict]) -> str:
    if not transfers:
        return ""
    parts = ['<section id="transfer"><h2>Cross-model transfer</h2><p class="note">Traces written by the '
             'synthesizer model (rows) are shown to the action model (columns). Each cell: the method\'s win rate '
             'against Backward Synthesis written by the same synthesizer model, same judge.</p>']
    for t in transfers:
        actions = [m["name"] for m in t["action_models"]]
        cells = {(c["method"], c["synthesizer"], c["action_model"]): c for c in t["cells"]}
        for method in t["methods"]:
            body = []
            for s in t["synthesizer_models"]:
                tds = [f'<td data-sort="{_e(s["name"])}">{_e(s["name"])}</td>']
                for a in actions:
                    c = cells.get((method, s["name"], a))
                    tds.append(_rate_cell(c) if c else '<td class="num" data-sort="-1">–</td>')
                body.append(f"<tr>{''.join(tds)}</tr>")
            scorer = (f'judge {_e(t["judge"]["name"])} <span class="fp">{_e(_short(t["judge"]["fingerprint"]))}</span>'
                      if t["judge"] else "no judge")
            parts.append(f'<h3>{_e(method)} on {_e(", ".join(t["users"]))} · protocol {_e(_transfer_protocol(t))} · '
                         f'{scorer}</h3>')
            parts.append(_table(["synthesizer \\ action model"] + actions, body))
        parts.append(f'<p class="note">{_e(t["name"])}: train slice {t["slice"]["train_limit"]}, test slice '
                     f'{t["slice"]["test_limit"]} per user; digest <span class="fp">{_e(_short(t["digest"]))}'
                     f'</span></p>')
    return "".join(parts) + "</section>"


def _controls_section(controls: list[dict]) -> str:
    if not controls:
        return ""
    body = [f'<tr><td>{_e(c["protocol"])}</td><td>{_e(c["judge"])}</td><td>{_e(c["action_model"])}</td>'
            f'<td>{_e(c["split"])}</td><td class="{"status ranked" if c["ranks"] else "status unranked"}">'
            f'{"ranks" if c["ranks"] else "does not rank"}: {_e(c["reason"])}</td>'
            f'<td><a href="{_e(c["href"])}">{_e(c["href"])}</a></td><td>{_e(c["created_at"])}</td></tr>'
            for c in controls]
    return ('<section id="controls"><h2>Validity controls</h2><p class="note">The latest control report for each '
            '(protocol, judge, action model, user split). A group of results is ranked only when the reports of '
            'every user of every pack it covers pass, its own users among them: a positive control (oracle or wrong user), self, shuffled traces, and for '
            'judge protocols length and judge injection.</p>' +
            _table(["Protocol", "Judge", "Action model", "Split", "Status", "Report", "Created"], body) +
            "</section>")


def _train(train: dict | None) -> str:
    return "all" if train is None else f'{train["n_used"]}/{train["n_total"]}'


def _provenance_section(rows: list[dict]) -> str:
    body = []
    for r in rows:
        for res in r["results"]:
            body.append(f'<tr><td>{_e(r["method"])}</td><td>{_e(res["pack"])}/{_e(res["user"])}</td>'
                        f'<td class="num">{_train(res["train"])}</td>'
                        f'<td class="num">{res["n_evaluated"]}/{res["n_total"]}</td>'
                        f'<td>{_e(r["action_model"]["name"])}</td><td>{_e(r["judge"]["name"])}</td>'
                        f'<td class="fp">{_e(_short(res["digest"]))}</td><td>{_e(res["created_at"])}</td>'
                        f'<td><code>{_e(res["file"])}</code></td></tr>')
    return ('<section id="results"><h2>Result files</h2>' +
            _table(["Method", "Pack/user", "Training examples", "Test examples", "Action model", "Judge", "Digest",
                    "Created", "File"],
                   body) + "</section>")


def render_html(scores: dict, transfers: list[dict], controls: list[dict]) -> str:
    """The page, as text."""
    rows, dims = scores["rows"], scores["dimensions"]
    from .scorer import group_key

    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(group_key(r), []).append(r)
    sections = "".join(_group_section(i, g, dims) for i, g in enumerate(groups.values(), 1))
    described = "; ".join(f'{p["label"]}: {_pct(p["estimate"])}' for p in _plot_rows(rows))
    plot = (f'<section id="plot"><h2>Win rates</h2><p class="note">Ranked groups in colour; groups whose controls '
            f'did not pass in grey, marked (unranked).</p><div class="plot" role="img" data-rows="{len(rows)}" '
            f'data-ranked-rows="{sum(r["controls"]["ranks"] for r in rows)}" '
            f'aria-label="{_e(described)}">{win_rate_plot(_plot_rows(rows))}</div></section>') if rows else ""
    empty = "" if rows else '<p class="empty">No results yet: add one with <code>reconbench leaderboard add</code>.</p>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>RECON-Bench leaderboard</title><style>{_CSS}</style></head>
<body><h1>RECON-Bench leaderboard</h1>
<p class="sub">Reasoning synthesis for user modeling: how much do a method's traces help a frozen action model
predict a person's unseen next turns? Each number is the method's <strong>win rate against Backward Synthesis</strong>
(ties excluded; Backward Synthesis itself is 50% by definition) with a 95% confidence interval from a paired bootstrap
that resamples users, then examples (seed {scores["bootstrap"]["seed"]}, {scores["bootstrap"]["samples"]} samples).
<span class="badge best">best</span> highest win rate in its group;
<span class="badge tied">tied with best</span> its CI reaches the best one's lower bound.</p>
{empty}{sections}{plot}{_transfer_section(transfers)}{_controls_section(controls)}
{_provenance_section(rows) if rows else ""}
<script>{_JS}</script></body></html>
"""


def render_markdown(scores: dict, transfers: list[dict]) -> str:
    """The README's table: one line per (method, action model, judge)."""
    def rate(stat: dict) -> str:
        e = stat["win_rate"]
        if e["estimate"] is None:
            return f"– ({stat['ties']}/{stat['n']} ties)" if stat.get("n") else "–"
        ci = "" if e["ci_low"] is None else f" [{_pct(e['ci_low'])}, {_pct(e['ci_high'])}]"
        return _pct(e["estimate"]) + ci

    lines = ["# RECON-Bench leaderboard", "",
             "Win rate against Backward Synthesis (ties excluded) with 95% bootstrap CIs (users, then examples). "
             "`*` best in its (protocol, action model, judge) group, `~` statistically tied with it. Only groups "
             "whose validity controls passed are ranked (`ranked`: yes); the others are listed for reference. "
             "Regenerated by `reconbench leaderboard build`; the full board is `leaderboard/index.html`.", ""]
    if not scores["rows"]:
        lines.append("No results yet.")
    else:
        table = []
        for r in scores["rows"]:
            o = r["dimensions"]["overall"]
            mark = "*" if r["best"] else "~" if r["tied_with_best"] else ""
            table.append([r["rank"] if r["rank"] is not None else "–", f"{r['method']}{mark}" + (" (unisolated)" if r.get("unisolated") else ""), r["protocol"],
                          "yes" if r["controls"]["ranks"] else "no", r["action_model"]["name"] + _in(r["action_model"]),
                          r["judge"]["name"] + _in(r["judge"])] +
                         [rate(r["dimensions"][d]) if d in r["dimensions"] else "n/a" for d in scores["dimensions"]] +
                         [rate({"win_rate": o["win_rate_ties_half"]}), o["n"], o["ties"], len(r["users"])])
        lines.append(tabulate(table, headers=["rank", "method", "protocol", "ranked", "action model", "judge"] +
                              [f"win rate: {d}" for d in scores["dimensions"]] +
                              ["overall, ties as half", "judged pairs", "ties", "users"],
                              tablefmt="github"))
    for t in transfers:
        for method in t["methods"]:
            cells = {(c["synthesizer"], c["action_model"]): c for c in t["cells"] if c["method"] == method}
            actions = [m["name"] for m in t["action_models"]]
            table = [[s["name"]] + [rate(cells[(s["name"], a)]) if (s["name"], a) in cells else "–" for a in actions]
                     for s in t["synthesizer_models"]]
            scorer = f"judge {t['judge']['name']}" if t["judge"] else "no judge"
            lines += ["", f"## Transfer: {method} ({t['name']}, protocol {_transfer_protocol(t)}, {scorer})", "",
                      tabulate(table, headers=["synthesizer \\ action model"] + actions, tablefmt="github")]
    return "\n".join(lines) + "\n"


def _transfer_protocol(t: dict) -> str:
    """A matrix's scoring protocol; matrices made before it was recorded are pairwise."""
    return t.get("protocol", {}).get("name", "pairwise")


def load_transfers(board_dir: Path) -> list[dict]:
    """Transfer matrices under ``<board>/transfer/*.json``, checked (``read_transfer``), in name order."""
    from .transfer import read_transfer

    return [read_transfer(path) for path in sorted((board_dir / "transfer").glob("*.json"))]


def load_controls(board_dir: Path) -> list[dict]:
    """The latest control report per (protocol, judge, action model, pack, user) under ``<board>/controls/``, with
    whether it ranks; the link goes to the Markdown page beside the JSON when there is one."""
    from ..records.controls_report import protocol_name, readable_reports
    from .scorer import vouches

    latest: dict[tuple, dict] = {}
    # the controls stage checks its own files; one the board cannot read is not linked
    for path, doc in readable_reports(board_dir / "controls"):
        page = next((p for p in (path.with_suffix(".html"), path.with_suffix(".md")) if p.exists()), path)
        ok, why = vouches(doc, path)
        entry = {"protocol": protocol_name(doc), "judge": doc["judge"]["name"],
                 "fingerprint": doc["judge"]["fingerprint"], "action_model": doc["action_model"]["name"],
                 "split": f'{doc["pack"]["name"]}/{doc["user"]}', "created_at": str(doc["created_at"]),
                 "ranks": ok, "reason": why, "href": page.relative_to(board_dir).as_posix()}
        key = (entry["protocol"], entry["fingerprint"], precision(doc["judge"]),
               doc["action_model"]["fingerprint"], precision(doc["action_model"]), entry["split"])
        current = latest.get(key)
        if current is None or (entry["created_at"], entry["href"]) > (current["created_at"], current["href"]):
            latest[key] = entry
    return [latest[k] for k in sorted(latest, key=lambda k: (latest[k]["protocol"], latest[k]["judge"], k))]


def write_board(board_dir: Path, scores: dict) -> dict[str, Path]:
    """Write index.html, LEADERBOARD.md and scores.json into ``board_dir``; returns their paths."""
    transfers, controls = load_transfers(board_dir), load_controls(board_dir)
    out = {"html": board_dir / "index.html", "markdown": board_dir / "LEADERBOARD.md",
           "scores": board_dir / "scores.json"}
    page = render_html(scores, transfers, controls)
    md = render_markdown(scores, transfers)
    # scores.json first and index.html last: a reader that finds the page finds the numbers behind it
    write_json(out["scores"], scores)
    atomic_write_text(out["markdown"], md)
    atomic_write_text(out["html"], page)
    return out
