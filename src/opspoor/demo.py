"""A self-contained demonstration on benign photos that ship inside scikit-image.

It builds a "known" list from four sample photos, makes a folder that looks like a small seizure
(an exact copy, altered copies — re-encoded, resized, rotated, brightened — and photos on no list)
and triages it. Nothing is downloaded: scikit-image ships these files in its package.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image, ImageEnhance

KNOWN = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg")
OTHER = ("camera.png", "motorcycle_left.png", "hubble_deep_field.jpg", "coins.png")


@dataclass(frozen=True)
class DemoSet:
    known_dir: Path  # what the list is made from
    seized_dir: Path  # what gets triaged
    expected: dict[str, str]  # file name in seized_dir -> expected verdict


def sample_dir() -> Path:
    import skimage.data

    return Path(skimage.data.__file__).parent


def build_demo_set(workdir: Path) -> DemoSet:
    """Write the demo's input files below `workdir` (replaced if present)."""
    src = sample_dir()
    if workdir.exists():
        shutil.rmtree(workdir)
    known_dir, seized_dir = workdir / "known", workdir / "seized"
    known_dir.mkdir(parents=True)
    seized_dir.mkdir()
    for name in KNOWN:
        shutil.copyfile(src / name, known_dir / name)

    def load(name: str) -> Image.Image:
        with Image.open(src / name) as im:
            return im.convert("RGB")

    expected: dict[str, str] = {}
    shutil.copyfile(src / "astronaut.png", seized_dir / "IMG_0001.png")
    expected["IMG_0001.png"] = "known"
    cat = load("chelsea.png")
    cat.resize((cat.width // 2, cat.height // 2), Image.Resampling.LANCZOS).save(
        seized_dir / "IMG_0002.jpg", quality=70
    )
    expected["IMG_0002.jpg"] = "near"
    load("coffee.png").transpose(Image.Transpose.ROTATE_90).save(seized_dir / "IMG_0003.jpg", quality=85)
    expected["IMG_0003.jpg"] = "near"
    ImageEnhance.Brightness(load("rocket.jpg")).enhance(1.2).save(seized_dir / "IMG_0004.webp", quality=80)
    expected["IMG_0004.webp"] = "near"
    # Altered beyond what plain PDQ survives: found by opspoor's robust matching.
    cat = load("chelsea.png")
    framed = Image.new("RGB", (int(cat.width * 1.4), int(cat.height * 1.4)), (250, 250, 250))
    framed.paste(cat, ((framed.width - cat.width) // 2, (framed.height - cat.height) // 2))
    framed.save(seized_dir / "IMG_0009.jpg", quality=90)
    expected["IMG_0009.jpg"] = "near"
    astro = load("astronaut.png")
    dx, dy = astro.width // 10, astro.height // 10
    astro.crop((dx, dy, astro.width - dx, astro.height - dy)).save(seized_dir / "IMG_0010.jpg", quality=90)
    expected["IMG_0010.jpg"] = "near"
    for i, name in enumerate(OTHER, start=5):
        out = f"IMG_{i:04d}.jpg"
        load(name).save(seized_dir / out, quality=90)
        expected[out] = "unknown"
    noise = np.random.default_rng(7).integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    (seized_dir / "notes.txt").write_bytes(noise.tobytes()[:300])
    expected["notes.txt"] = "unknown"  # not an image: checked by its file hashes only
    return DemoSet(known_dir, seized_dir, expected)


@dataclass
class DemoOutcome:
    results: list  # list[FileResult], in file order
    expected: dict[str, str]
    report: Path
    list_name: str

    @property
    def mismatches(self) -> list[tuple[str, str, str]]:
        """(file, expected, got) for every file whose verdict differs from what the demo expects."""
        got = {Path(r.path).name: r.verdict for r in self.results}
        return [(n, v, got.get(n, "missing")) for n, v in self.expected.items() if got.get(n) != v]


def run_demo(workdir: Path, db_url: str | None = None, workers: int | None = None) -> DemoOutcome:
    """Build the list, triage the seized folder, write the HTML report; nothing leaves `workdir`."""
    from opspoor.cli.files import iter_files
    from opspoor.cli.parallel import map_with_progress
    from opspoor.lists.media import add_media
    from opspoor.lists.service import create_list
    from opspoor.matching.engine import Matcher
    from opspoor.matching.report import write_report
    from opspoor.matching.triage import hash_for_check, triage
    from opspoor.signals.compute import compute_signals
    from opspoor.store.db import open_store, transaction

    demo = build_demo_set(workdir)
    if db_url is None:
        db_url = f"sqlite:///{workdir / 'demo.db'}"
    engine, factory = open_store(db_url)
    list_name = "demo-known"
    try:
        with transaction(factory) as session:
            create_list(
                session,
                list_name,
                source="scikit-image sample photos (benign stand-ins for known material)",
                supplier="opspoor demo",
            )
            for path in sorted(demo.known_dir.iterdir()):
                signals = compute_signals(path.read_bytes(), robust_reference=True)
                add_media(
                    session,
                    list_name,
                    [signals],
                    classification="iccam:baseline",
                    source_ref=f"demo:{path.name}",
                    actor="demo",
                )
        matcher = Matcher.from_store(factory, [list_name])
        files = list(iter_files([demo.seized_dir]))
        worker = partial(hash_for_check, robust=matcher.has_robust)
        hashed = map_with_progress(worker, files, workers=workers, label="Checking")
        results = list(triage(hashed, matcher))
    finally:
        engine.dispose()
    report = workdir / "report.html"
    write_report(results, report, lists=[list_name], threshold=31)
    return DemoOutcome(results, demo.expected, report, list_name)
