"""Render a benchmark Report as a Markdown table and a PNG bar chart."""

from __future__ import annotations

from pathlib import Path

from opspoor.robust.benchmark import METHODS, PHASH_SIZE, Report
from opspoor.robust.transforms import THORN_TRANSFORMS

# Thorn's published recall at 99.99% precision for plain PDQ (photographs, perception docs).
THORN_PDQ = {"overall": 77.2, "crop0.05": 9.0, "pad0.2": 1.3, "rotate4": 54.5}
LABELS = {"pdq": "PDQ (HMA)", "phash": f"pHash-{PHASH_SIZE}", "opspoor": "opspoor robust"}


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _thorn_only(recall: dict[str, float]) -> float:
    """Overall recall over Thorn's alterations only (each has one copy per photo, so a plain mean)."""
    names = [n for n in THORN_TRANSFORMS if n in recall]
    return sum(recall[n] for n in names) / len(names) if names else float("nan")


def markdown(report: Report) -> str:
    rows = [*report.transforms, "Thorn's set", "overall"]
    head = ["transform", *(LABELS[m] for m in METHODS), "PDQ @ 31", f"opspoor @ {report.operating.threshold}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    columns = [*(report.sweeps[m].recall for m in METHODS), report.pdq_at_31.recall, report.operating.recall]
    for name in rows:
        marker = "" if name in THORN_TRANSFORMS or name in ("overall", "Thorn's set") else " *"
        cells = [f"{name}{marker}"]
        cells += [_pct(_thorn_only(c) if name == "Thorn's set" else c[name]) for c in columns]
        if name in ("overall", "Thorn's set"):
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    thresholds = ", ".join(
        f"{LABELS[m]} {'score >=' if m == 'opspoor' else 'distance <='} {report.sweeps[m].threshold}"
        f" ({report.sweeps[m].false_matches} false)"
        for m in METHODS
    )
    self_fp = ", ".join(f"{LABELS[m]} {report.self_false_matches[m]}" for m in METHODS)
    lines += [
        "",
        f"{report.photos} photos, {report.queries} altered copies, each compared with every photo "
        f"({report.queries * report.photos:,} pairs). Recall (%) at the loosest threshold with precision "
        f">= 99.99% over all alterations: {thresholds}. Last column: opspoor at its fixed operating "
        f"threshold (score >= {report.operating.threshold}, {report.operating.false_matches} false); "
        f"PDQ @ 31: plain PDQ at Meta's threshold ({report.pdq_at_31.false_matches} false). "
        f"\"Thorn's set\": overall over Thorn's ten alterations only.",
        "Rows marked * are opspoor's additions to Thorn's set.",
        f"False matches among all pairs of distinct photos at the operating thresholds (PDQ <= 31, "
        f"pHash at its swept threshold, opspoor score >= {report.operating.threshold}): {self_fp}.",
        f"Cost per checked image (CPU, median): plain PDQ decode+hash {report.ms_pdq:.1f} ms; opspoor "
        f"robust views + search + verification {report.ms_robust:.1f} ms extra. Extra bytes per list "
        f"entry: {report.entry_bytes:.0f} (PDQ views + ORB features, in memory).",
    ]
    return "\n".join(lines) + "\n"


def chart(report: Report, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = [*report.transforms, "overall"]
    x = np.arange(len(rows))
    fig, ax = plt.subplots(figsize=(14, 4.8))
    width = 0.27
    for i, method in enumerate(METHODS):
        values = [100 * report.sweeps[method].recall[r] for r in rows]
        ax.bar(x + (i - 1) * width, values, width, label=LABELS[method])
    ax.set_xticks(x, rows, rotation=40, ha="right")
    ax.set_ylabel("recall at 99.99% precision (%)")
    ax.set_ylim(0, 105)
    ax.set_title(f"Robustness: {report.photos} benign photos, {report.queries} altered copies")
    ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
