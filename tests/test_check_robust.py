"""`opspoor check` uses robust matching by default where the list has the extra signals (issue 9)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from opspoor.cli.app import app
from opspoor.robust import transforms


def _run(args: list[str], db_url: str) -> str:
    result = CliRunner().invoke(app, args, env={"OPSPOOR_DATABASE_URL": db_url}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def _verdicts(stdout: str) -> dict[str, dict]:
    return {Path(r["path"]).name: r for r in map(json.loads, stdout.splitlines())}


def test_altered_copies_found_only_where_the_list_has_robust_signals(testdata: Path, tmp_path: Path) -> None:
    photos = sorted((testdata / "photos" / "bsds500").glob("*.jpg"))
    listed, others = photos[:4], photos[4:8]
    db_url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    _run(["lists", "create", "rich"], db_url)
    _run(["lists", "add", "rich", *map(str, listed)], db_url)

    # The same photos as bare PDQ hashes, the way lists from other tools arrive.
    hashed = _run(["hash", "--json", *map(str, listed)], db_url)
    hashes = [json.loads(line) for line in hashed.splitlines()]
    bare = tmp_path / "bare.txt"
    bare.write_text("\n".join(h["pdq"] for h in hashes) + "\n")
    _run(["lists", "create", "bare"], db_url)
    _run(["lists", "import", "bare", str(bare), "--format", "lines", "--signal", "pdq"], db_url)

    queries = tmp_path / "queries"
    queries.mkdir()
    for i, path in enumerate(listed):
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        for name in ("pad0.2", "crop0.05", "rotate4"):
            (queries / f"{i}-{name}.jpg").write_bytes(transforms.apply(name, rgb, i))
    for path in others:
        (queries / f"other-{path.name}").write_bytes(path.read_bytes())

    rich = _verdicts(_run(["check", "--json", "--workers", "1", "--list", "rich", str(queries)], db_url))
    altered = [r for n, r in rich.items() if not n.startswith("other-")]
    assert len(altered) == 12
    robust = [r for r in altered if r["matches"] and r["matches"][0]["signal"] == "opspoor_robust"]
    assert all(r["verdict"] == "near" for r in altered)
    assert robust, "plain PDQ cannot find padded copies: the robust stage must have"
    for r in robust:
        assert r["matches"][0]["list"] == "rich" and r["matches"][0]["score"] >= 50
    assert all(r["verdict"] == "unknown" for n, r in rich.items() if n.startswith("other-"))

    plain = _verdicts(_run(["check", "--json", "--workers", "1", "--list", "bare", str(queries)], db_url))
    padded = [r for n, r in plain.items() if n.endswith("pad0.2.jpg")]
    assert all(r["verdict"] == "unknown" for r in padded)  # bare hashes: plain PDQ only
