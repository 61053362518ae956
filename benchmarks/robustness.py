"""Robustness benchmark: recall at 99.99% precision per alteration for PDQ, pHash and opspoor.

Usage: python benchmarks/robustness.py [--photos DIR] [--limit N] [--workers W]
Builds altered copies of the benign photos (Thorn's transforms plus opspoor's), compares every copy
with every photo, prints a Markdown table and writes it with a PNG chart to benchmarks/out/.
The logic lives in opspoor.robust.benchmark so tests can run it on a handful of photos.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from opspoor.robust import benchmark, report

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PHOTOS = ROOT.parent / "shared" / "testdata" / "photos"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--limit", type=int, default=0, help="use N photos spread evenly over the set")
    parser.add_argument("--queries", type=int, default=0, help="make altered copies of only N photos")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument(
        "--duplicates",
        type=Path,
        default=ROOT / "benchmarks" / "robustness_duplicates.txt",
        help="pairs of corpus photos that are one picture; the second of each is left out",
    )
    args = parser.parse_args()

    paths = sorted(p for p in args.photos.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    if args.duplicates.is_file():
        dropped = benchmark.duplicates_to_drop(args.duplicates.read_text())
        paths = [p for p in paths if p.relative_to(args.photos).as_posix() not in dropped]
    if args.limit and args.limit < len(paths):
        step = len(paths) / args.limit
        paths = [paths[int(i * step)] for i in range(args.limit)]
    started = time.monotonic()
    result = benchmark.run(paths, workers=args.workers, query_photos=args.queries or None)
    table = report.markdown(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "robustness.md").write_text(table)
    report.chart(result, args.out / "robustness.png")
    print(table)
    print(f"wall time {time.monotonic() - started:.0f} s; wrote {args.out}/robustness.md and robustness.png")


if __name__ == "__main__":
    main()
