"""The classification schemes hotlines, NCMEC and the IWF use, in one validated string form.

String form: `<scheme>:<code>`, or `ncii`; either may carry the annotation `+ai` (AI-generated),
and a bare `ai` marks AI-generated material without a category. Case and `-`/space versus `_`
are normalised, so `IWF:a`, `iwf:A` and `iwf:a` are the same. Unknown strings are rejected.

Schemes (sources):
- `iccam:baseline | iccam:national | iccam:not_illegal` - the assessment INHOPE's ICCAM platform
  records: INTERPOL's "baseline" (internationally illegal: a real child, apparently prepubescent,
  engaged in or witnessing sexual activity, or the focus is on the genital or anal region - the
  INTERPOL Baseline criteria), illegal under the national law of the assessing hotline's country,
  or not illegal.
- `iwf:A | iwf:B | iwf:C` - the UK Sentencing Council's categories the IWF grades by: A
  penetrative sexual activity, sexual activity with an animal or sadism; B non-penetrative sexual
  activity; C other indecent images.
- `ncmec:A1 | A2 | B1 | B2` - NCMEC's industry categorisation for hash sharing: A prepubescent,
  B pubescent; 1 a sex act, 2 a lascivious exhibition.
- `ncii` - non-consensual intimate imagery of adults (as StopNCII.org shares hashes of it).
- `+ai` - the AI-generated annotation, kept apart from the category because it changes which
  legal criteria apply (INTERPOL's baseline requires a real child).

Mappings: only one is supported by the published definitions - NCMEC A1 and A2 (prepubescent,
and a sex act or a lascivious exhibition of the genitals) meet the INTERPOL baseline criteria,
unless AI-generated (baseline requires a real child). No official crosswalk exists between IWF and
NCMEC categories (IWF grades the act, not the age; NCMEC grades the age band and act or exhibition
in a way that does not split IWF's A and B), nor from pubescent NCMEC B1/B2 or IWF's categories to
ICCAM (national illegality depends on the country). Where no mapping is defined we return None
rather than invent one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from opspoor.errors import OpspoorError

AI_ANNOTATION = "ai"

# Canonical codes per scheme; None means the scheme has no code (`ncii`).
SCHEMES: dict[str, tuple[str, ...] | None] = {
    "iccam": ("baseline", "national", "not_illegal"),
    "iwf": ("A", "B", "C"),
    "ncmec": ("A1", "A2", "B1", "B2"),
    "ncii": None,
}

_ICCAM_ALIASES = {"nationally_illegal": "national", "notillegal": "not_illegal", "legal": "not_illegal"}

LABELS: dict[str, str] = {
    "iccam:baseline": "INTERPOL baseline (internationally illegal)",
    "iccam:national": "Nationally illegal",
    "iccam:not_illegal": "Not illegal",
    "iwf:A": "IWF category A (penetrative sexual activity, with an animal, or sadism)",
    "iwf:B": "IWF category B (non-penetrative sexual activity)",
    "iwf:C": "IWF category C (other indecent images)",
    "ncmec:A1": "NCMEC A1 (prepubescent, sex act)",
    "ncmec:A2": "NCMEC A2 (prepubescent, lascivious exhibition)",
    "ncmec:B1": "NCMEC B1 (pubescent, sex act)",
    "ncmec:B2": "NCMEC B2 (pubescent, lascivious exhibition)",
    "ncii": "Non-consensual intimate imagery",
}


class InvalidClassification(OpspoorError, ValueError):
    """A classification string outside the known schemes."""


@dataclass(frozen=True)
class Classification:
    scheme: str | None  # None only for a bare `ai`
    code: str | None
    ai_generated: bool = False

    @property
    def category(self) -> str | None:
        """The category without the annotation, as stored in `Entry.classification`."""
        if self.scheme is None:
            return None
        return self.scheme if self.code is None else f"{self.scheme}:{self.code}"

    def __str__(self) -> str:
        category = self.category
        if category is None:
            return AI_ANNOTATION
        return f"{category}+{AI_ANNOTATION}" if self.ai_generated else category

    @property
    def label(self) -> str:
        text = LABELS.get(self.category or "", "Unclassified")
        return f"{text}, AI-generated" if self.ai_generated else text


def _known() -> str:
    return ", ".join(sorted(LABELS)) + " (each optionally +ai), or ai"


@lru_cache(maxsize=256)  # lists repeat a handful of classifications over millions of rows
def parse_classification(text: str) -> Classification:
    """Validate and normalise a classification string; raise InvalidClassification if unknown."""
    raw = text
    norm = text.strip().lower().replace("-", "_").replace(" ", "_")
    if not norm:
        raise InvalidClassification("empty classification")
    ai = False
    base, plus, annotation = norm.partition("+")
    if plus:
        if annotation != AI_ANNOTATION:
            raise InvalidClassification(
                f"unknown annotation {annotation!r} in classification {raw!r}; only +ai is defined"
            )
        ai = True
    if base == AI_ANNOTATION and not plus:
        return Classification(None, None, ai_generated=True)
    scheme, colon, code = base.partition(":")
    if scheme not in SCHEMES:
        raise InvalidClassification(f"unknown classification {raw!r}; known: {_known()}")
    codes = SCHEMES[scheme]
    if codes is None:
        if colon:
            raise InvalidClassification(f"{scheme} takes no category code, got {raw!r}")
        return Classification(scheme, None, ai)
    if scheme == "iccam":
        code = _ICCAM_ALIASES.get(code, code)
    by_lower = {c.lower(): c for c in codes}
    if code not in by_lower:
        raise InvalidClassification(
            f"unknown {scheme} category {code!r} in {raw!r}; known: "
            + ", ".join(f"{scheme}:{c}" for c in codes)
        )
    return Classification(scheme, by_lower[code], ai)


def map_classification(value: Classification, scheme: str) -> Classification | None:
    """`value` expressed in `scheme`, where a published definition supports it; else None."""
    if scheme not in SCHEMES:
        raise InvalidClassification(f"unknown scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    if value.scheme == scheme:
        return value
    # NCMEC A1/A2 meet INTERPOL's baseline criteria (prepubescent; a sex act or a focus on the
    # genitals) - but baseline requires a real child, so not for AI-generated material.
    if (
        scheme == "iccam"
        and value.scheme == "ncmec"
        and value.code in ("A1", "A2")
        and not value.ai_generated
    ):
        return Classification("iccam", "baseline")
    return None
