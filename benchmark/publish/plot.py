"""The win-rate plot: matplotlib rendered to SVG text that can sit inside the page.

Bytes are deterministic: ``svg.hashsalt`` fixes the ids matplotlib generates, the date and creator metadata are
left out, and glyphs are drawn as paths with the font matplotlib ships. Namespace declarations and the RDF
metadata block are removed because they are URLs and HTML parses inline SVG without them.
"""

from __future__ import annotations

import io
import re

import matplotlib
from matplotlib.figure import Figure

RC = {"svg.hashsalt": "reconbench", "svg.fonttype": "path", "font.family": "DejaVu Sans", "font.size": 9}


def _inline(svg: str) -> str:
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    return svg.strip() + "\n"


def win_rate_plot(rows: list[dict]) -> str:
    """Horizontal error bars: each row's overall win rate vs Backward Synthesis with its 95% CI, 50% marked.

    ``rows``: ``{"label", "estimate", "ci_low", "ci_high", "best", "tied"}``, top to bottom."""
    with matplotlib.rc_context(RC):  # fonts are resolved when artists are made, so the whole figure is inside
        return _inline(_draw(rows))


def _draw(rows: list[dict]) -> str:
    height = 1.0 + 0.34 * max(len(rows), 1)
    fig = Figure(figsize=(9, height))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ys = list(range(len(rows)))[::-1]
    for y, r in zip(ys, rows):
        if r["estimate"] is None:
            continue
        color = ("#bbbbbb" if not r.get("ranked", True) else
                 "#1b6e3a" if r["best"] else "#2f5d9e" if r["tied"] else "#666666")
        lo = r["estimate"] - (r["ci_low"] if r["ci_low"] is not None else r["estimate"])
        hi = (r["ci_high"] if r["ci_high"] is not None else r["estimate"]) - r["estimate"]
        ax.errorbar([r["estimate"]], [y], xerr=[[lo], [hi]], fmt="o", color=color, capsize=3, markersize=5)
    ax.axvline(0.5, color="#aa3333", linestyle="--", linewidth=1)
    ax.set_yticks(ys, [r["label"] for r in rows])
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("win rate vs Backward Synthesis (ties excluded), 95% CI")
    ax.grid(axis="x", color="#dddddd", linewidth=0.6)
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.1, metadata={"Date": None, "Creator": None})
    return buf.getvalue()
