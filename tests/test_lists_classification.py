import pytest
from hypothesis import given
from hypothesis import strategies as st

from opspoor.lists.classification import (
    LABELS,
    Classification,
    InvalidClassification,
    map_classification,
    parse_classification,
)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("iwf:A", "iwf:A"),
        (" IWF:a ", "iwf:A"),
        ("ncmec:a1", "ncmec:A1"),
        ("NCMEC:B2+AI", "ncmec:B2+ai"),
        ("iccam:baseline", "iccam:baseline"),
        ("iccam:nationally-illegal", "iccam:national"),
        ("iccam:not illegal", "iccam:not_illegal"),
        ("ncii", "ncii"),
        ("ncii+ai", "ncii+ai"),
        ("ai", "ai"),
    ],
)
def test_valid_classifications_normalise(text: str, canonical: str) -> None:
    parsed = parse_classification(text)
    assert str(parsed) == canonical
    assert parse_classification(canonical) == parsed


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("iwf:D", "unknown iwf category"),
        ("ncmec:A3", "unknown ncmec category"),
        ("interpol", "unknown classification"),
        ("iwf:A+fake", "unknown annotation"),
        ("ncii:A", "takes no category"),
        ("", "empty"),
        ("iwf", "unknown iwf category"),
    ],
)
def test_unknown_classifications_are_rejected_clearly(text: str, fragment: str) -> None:
    with pytest.raises(InvalidClassification, match=fragment):
        parse_classification(text)


def test_ai_annotation_is_separate_from_the_category() -> None:
    parsed = parse_classification("iwf:B+ai")
    assert parsed.category == "iwf:B" and parsed.ai_generated
    assert "AI-generated" in parsed.label
    bare = parse_classification("ai")
    assert bare.category is None and bare.ai_generated


def test_only_published_mappings_are_made() -> None:
    baseline = Classification("iccam", "baseline")
    assert map_classification(parse_classification("ncmec:A1"), "iccam") == baseline
    assert map_classification(parse_classification("ncmec:A2"), "iccam") == baseline
    # Baseline requires a real child: not for AI-generated material.
    assert map_classification(parse_classification("ncmec:A1+ai"), "iccam") is None
    # Pubescent: national law decides. IWF grades acts, not age. No crosswalk IWF <-> NCMEC.
    assert map_classification(parse_classification("ncmec:B1"), "iccam") is None
    assert map_classification(parse_classification("iwf:A"), "iccam") is None
    assert map_classification(parse_classification("iwf:A"), "ncmec") is None
    assert map_classification(parse_classification("iccam:baseline"), "ncmec") is None
    same = parse_classification("iwf:C")
    assert map_classification(same, "iwf") is same
    with pytest.raises(InvalidClassification):
        map_classification(same, "nope")


def test_every_label_parses() -> None:
    for code in LABELS:
        assert parse_classification(code).category == code


@given(st.text(max_size=30))
def test_any_text_parses_to_a_round_tripping_value_or_a_typed_error(text: str) -> None:
    try:
        parsed = parse_classification(text)
    except InvalidClassification:
        return
    assert parse_classification(str(parsed)) == parsed
