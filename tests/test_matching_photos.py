"""No false PDQ match between distinct photos of the benign corpus (issue 3).

Each of the 2,542 photos is checked, with all 8 dihedral variants, against a list holding all the
photos; any match other than the photo's own entry would be a false match at the default threshold.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from opspoor.cli.parallel import map_with_progress
from opspoor.index.pdq import hex_to_array
from opspoor.lists.rows import EntryRow
from opspoor.matching.engine import Matcher
from opspoor.matching.triage import hash_for_check
from opspoor.signals.pdq import PDQ_MATCH_THRESHOLD


def test_no_match_between_distinct_photos(testdata: Path) -> None:
    files = sorted(p for p in (testdata / "photos").rglob("*") if p.is_file())
    assert len(files) == 2542
    hashed = list(map_with_progress(hash_for_check, files, workers=2))
    signals = [s for _, s, _ in hashed]
    assert all(s is not None and s.pdq for s in signals)
    rows = [
        EntryRow(i, "corpus", 1, "pdq", s.pdq, None, str(f), None, s.pdq_quality)
        for i, (f, s) in enumerate(zip(files, signals, strict=True))
    ]
    matcher = Matcher.from_entries(rows)
    false_matches = []
    for i, s in enumerate(signals):
        verdict = matcher.match_file(s)
        false_matches += [
            (files[i].name, m.source_ref, m.distance) for m in verdict.matches if m.entry_id != i
        ]
    assert false_matches == []

    # The margin, reported: the smallest distance between distinct photos over all dihedral variants.
    stored = np.unpackbits(hex_to_array([s.pdq for s in signals]), axis=1).astype(np.int32)
    smallest = 256
    for k in range(8):
        queries = np.unpackbits(hex_to_array([s.pdq_dihedral[k] for s in signals]), axis=1).astype(np.int32)
        dist = queries @ (1 - stored.T) + (1 - queries) @ stored.T
        np.fill_diagonal(dist, 256)
        smallest = min(smallest, int(dist.min()))
    print(f"smallest PDQ distance between distinct photos: {smallest}")
    assert smallest > PDQ_MATCH_THRESHOLD
