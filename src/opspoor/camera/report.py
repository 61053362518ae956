"""A self-contained HTML report (with embedded PNG figures) for a case file.

One page per query: the decision, the PCE of every candidate camera against the threshold (bar
chart, log scale), the correlation surface around the best peak (a sharp isolated spike is what a
true match looks like), the geometry searched and the number of positions tested, and the method
with its limits. No pixel of the query photo is embedded.
"""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from opspoor.camera.pce import PCE_THRESHOLD
from opspoor.camera.service import MatchResult

METHOD = (
    "Sensor noise (PRNU) residuals by wavelet denoising (Lukas, Fridrich, Goljan 2006), zero-mean per "
    "Bayer sub-lattice and spectral Wiener filtering; fingerprints by maximum likelihood with "
    "saturated pixels masked (Chen et al. 2008); decision by PCE at the declared shifts against the "
    "literature threshold of 60 (Goljan, Fridrich, Filler 2009). A PCE below the threshold is not an "
    "exclusion: strong compression, heavy resizing, dark or saturated photos and digital "
    "stabilisation weaken the pattern."
)


def _png(fig: object) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")  # type: ignore[attr-defined]
    return base64.b64encode(buf.getvalue()).decode("ascii")


def pce_chart(result: MatchResult) -> str:
    """Bar chart of PCE per candidate with the threshold line, as base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cands = [c for c in result.candidates if c.pce is not None][:20]
    names = [c.camera for c in cands]
    values = [max(float(c.pce or 0.0), 0.1) for c in cands]
    fig, ax = plt.subplots(figsize=(6.5, 0.4 * max(len(cands), 2) + 1.2))
    colours = ["#b2182b" if v >= result.threshold else "#777777" for v in values]
    ax.barh(names[::-1], values[::-1], color=colours[::-1])
    ax.axvline(result.threshold, color="black", linestyle="--", label=f"threshold {result.threshold:g}")
    ax.set_xscale("log")
    ax.set_xlabel("PCE (log scale)")
    ax.legend(loc="lower right")
    data = _png(fig)
    plt.close(fig)
    return data


def surface_chart(surface: np.ndarray, title: str) -> str:
    """Heat map of the correlation surface around the peak (in units of its RMS), as base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = surface.shape[0] // 2
    fig, ax = plt.subplots(figsize=(5, 4.2))
    im = ax.imshow(surface, cmap="viridis", extent=(-r - 0.5, r + 0.5, r + 0.5, -r - 0.5))
    fig.colorbar(im, ax=ax, label="correlation / RMS of the surface")
    ax.set_xlabel("x offset from the best peak (pixels)")
    ax.set_ylabel("y offset from the best peak (pixels)")
    ax.set_title(title)
    data = _png(fig)
    plt.close(fig)
    return data


def render(
    results: list[MatchResult], surfaces: dict[str, np.ndarray], *, case_ref: str | None = None
) -> str:
    """The HTML page; `surfaces` maps a result's path to its surface around the best peak."""
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Camera attribution report</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}"
        ".match{color:#b2182b;font-weight:bold}</style></head><body>",
        "<h1>Camera attribution report (PRNU)</h1>",
        f"<p>Generated {html.escape(datetime.now(UTC).isoformat(timespec='seconds'))}"
        + (f" for case {html.escape(case_ref)}" if case_ref else "")
        + "</p>",
        f"<p>{html.escape(METHOD)}</p>",
    ]
    for res in results:
        verdict = (
            f"attributed to <span class='match'>{html.escape(res.camera)}</span>"
            if res.camera
            else "no camera reaches the threshold"
        )
        parts.append(
            f"<h2>{html.escape(res.path)}</h2><p>Decision: {html.escape(res.decision)} — {verdict} "
            f"(best PCE {res.pce:.1f}, threshold {res.threshold:g}).</p>"
        )
        for note in res.notes:
            parts.append(f"<p><em>{html.escape(note)}</em></p>")
        parts.append(
            "<table><tr><th>camera</th><th>PCE</th><th>&ge; threshold</th><th>rotation</th>"
            "<th>scale</th><th>offset (y, x)</th><th>positions tested</th></tr>"
        )
        for c in res.candidates:
            d = c.as_dict()
            over = "yes" if c.pce is not None and c.pce >= res.threshold else "no"
            pce_txt = c.status if c.pce is None else f"{c.pce:.1f}"
            parts.append(
                f"<tr><td>{html.escape(c.camera)}</td><td>{pce_txt}</td><td>{over}</td>"
                f"<td>{d['rotation']}</td><td>{d['scale']}</td><td>{d['offset']}</td><td>{d['positions']}</td></tr>"
            )
        parts.append("</table>")
        if any(c.pce is not None for c in res.candidates):
            parts.append(f"<p><img alt='PCE per candidate' src='data:image/png;base64,{pce_chart(res)}'></p>")
        surface = surfaces.get(res.path)
        if surface is not None:
            best = res.candidates[0].camera if res.candidates else ""
            img = surface_chart(surface, f"correlation around the best peak ({best})")
            parts.append(f"<p><img alt='correlation surface' src='data:image/png;base64,{img}'></p>")
    parts.append(
        f"<p>Threshold source: PCE {PCE_THRESHOLD:g}, Goljan, Fridrich and Filler, "
        "'Large scale test of sensor fingerprint camera identification', SPIE 2009.</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_pngs(results: list[MatchResult], surfaces: dict[str, np.ndarray], folder: Path) -> list[Path]:
    """The same figures as separate PNG files (for case-file systems that take images, not HTML)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for i, res in enumerate(results):
        stem = f"{i:03d}-{Path(res.path).stem}"
        if any(c.pce is not None for c in res.candidates):
            path = folder / f"{stem}-pce.png"
            path.write_bytes(base64.b64decode(pce_chart(res)))
            written.append(path)
        surface = surfaces.get(res.path)
        if surface is not None:
            path = folder / f"{stem}-surface.png"
            path.write_bytes(base64.b64decode(surface_chart(surface, "correlation around the best peak")))
            written.append(path)
    return written
