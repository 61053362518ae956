"""The HTML triage report: counts, charts and a table of files. It never shows or embeds an image."""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from opspoor.matching.triage import FileResult

ORDER = ("known", "near", "unknown", "error")
COLOURS = {"known": "#b3261e", "near": "#e8a33d", "unknown": "#3b6ea8", "error": "#777777"}


def _chart_png(counts: Counter[str], near_distances: list[int], threshold: int) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), dpi=100)
    names = [n for n in ORDER if counts.get(n)] or list(ORDER[:3])
    axes[0].bar(names, [counts.get(n, 0) for n in names], color=[COLOURS[n] for n in names])
    axes[0].set_title("Files per verdict")
    axes[1].hist(near_distances or [0], bins=range(0, max(33, threshold + 2)), color=COLOURS["near"])
    axes[1].axvline(threshold + 0.5, color="#444", linestyle="--", linewidth=1)
    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[1].yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[1].set_title("PDQ distance of near matches")
    axes[1].set_xlabel("Hamming distance (match <= threshold)")
    if not near_distances:
        axes[1].cla()
        axes[1].set_title("No near matches")
        axes[1].axis("off")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def write_report(
    results: Sequence[FileResult], out: Path, *, lists: Sequence[str], threshold: int
) -> None:
    counts = Counter(r.verdict for r in results)
    near = [min(m.distance for m in r.matches) for r in results if r.verdict == "near" and r.matches]
    env = Environment(
        loader=PackageLoader("opspoor.matching", "templates"), autoescape=select_autoescape(["html"])
    )
    page = env.get_template("report.html").render(
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        counts={n: counts.get(n, 0) for n in ORDER},
        total=len(results),
        colours=COLOURS,
        chart=_chart_png(counts, near, threshold),
        # New material may show a child still being abused: list it first, so it stands out.
        results=sorted(results, key=lambda r: (ORDER.index(r.verdict) if r.verdict != "unknown" else -1)),
        lists=", ".join(lists) if lists else "all enabled lists",
        threshold=threshold,
        esc=html.escape,
    )
    out.write_text(page, encoding="utf-8")
