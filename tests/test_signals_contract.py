"""The contract every registered signal type keeps (a new hash is a module, a registry row, and
passing this file). Modelled on python-threatexchange's signal_type_test_helper, written anew."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opspoor.media.image import decode_image
from opspoor.signals.base import BytesHasher, ImageHasher, InvalidSignalValue, SignalType, SignalValue
from opspoor.signals.registry import all_signals, get_signal, register
from test_media_samples import encode, pattern

SIGNALS = all_signals()
IDS = [s.name for s in SIGNALS]
_IMAGE = decode_image(encode(pattern(200, 150, seed=5), "PNG"))
_OTHER_IMAGE = decode_image(encode(pattern(200, 150, seed=6), "PNG"))


def _samples(signal: SignalType) -> tuple[str, str]:
    """Two valid values of `signal`, computed where it can compute them."""
    if isinstance(signal, BytesHasher):
        return signal.from_bytes(b"opspoor").value, signal.from_bytes(b"opspoor!").value
    if isinstance(signal, ImageHasher):
        return signal.from_image(_IMAGE).value, signal.from_image(_OTHER_IMAGE).value
    if signal.example is not None:
        return signal.example, signal.example
    pytest.skip(f"{signal.name}: no capability to compute a value and no `example`")


def test_registry_has_the_agreed_signals() -> None:
    assert {"md5", "sha1", "sha256", "pdq"} <= set(IDS)
    assert len(IDS) == len(set(IDS))
    assert get_signal(" PDQ ") is get_signal("pdq")
    with pytest.raises(InvalidSignalValue, match="unknown signal type"):
        get_signal("no-such-hash")


@pytest.mark.parametrize("signal", SIGNALS, ids=IDS)
def test_declares_its_stored_name_and_content(signal: SignalType) -> None:
    assert signal.name == signal.name.strip().lower() and signal.name
    assert signal.content_types and signal.content_types <= {"photo", "video"}
    assert isinstance(signal.exact, bool)
    assert signal.default_threshold >= 0
    assert not signal.exact or signal.default_threshold == 0


@pytest.mark.parametrize("signal", SIGNALS, ids=IDS)
def test_parse_round_trips_and_normalises(signal: SignalType) -> None:
    value, other = _samples(signal)
    assert signal.parse(value) == value
    assert signal.parse(f"  {value}\n") == value
    assert signal.parse(signal.parse(other)) == signal.parse(other)


@pytest.mark.parametrize("signal", SIGNALS, ids=IDS)
def test_distance_is_a_metric_on_samples(signal: SignalType) -> None:
    value, other = _samples(signal)
    assert signal.distance(value, value) == 0
    assert signal.distance(value, other) == signal.distance(other, value) >= 0
    if value != other:
        assert signal.distance(value, other) > 0


@pytest.mark.parametrize("signal", SIGNALS, ids=IDS)
def test_computed_values_carry_their_signal_name(signal: SignalType) -> None:
    if isinstance(signal, BytesHasher):
        result = signal.from_bytes(b"abc")
    elif isinstance(signal, ImageHasher):
        result = signal.from_image(_IMAGE)
        assert result.quality is None or 0 <= result.quality <= 100
    else:
        pytest.skip(f"{signal.name} is not computed from bytes or one image")
    assert isinstance(result, SignalValue) and result.signal == signal.name


@pytest.mark.parametrize("signal", SIGNALS, ids=IDS)
def test_rejects_malformed_values(signal: SignalType) -> None:
    value, _ = _samples(signal)
    for bad in ("", "   ", "not a hash", "zz" * 32, value[:-1] + "g", "-" + value[1:]):
        with pytest.raises(InvalidSignalValue):
            signal.parse(bad)


@pytest.mark.parametrize("signal", SIGNALS, ids=IDS)
@settings(max_examples=150, deadline=None)
@given(text=st.one_of(st.text(max_size=200), st.text(alphabet="0123456789abcdefABCDEF \n", max_size=80)))
def test_any_text_is_valid_or_rejected_with_invalid_signal_value(signal: SignalType, text: str) -> None:
    try:
        canonical = signal.parse(text)
    except InvalidSignalValue as exc:
        assert str(exc)
        return
    assert signal.parse(canonical) == canonical  # whatever is accepted is canonical after one parse


def test_register_adds_a_plug_in() -> None:
    class Toy(BytesHasher):
        name = "toy-len"
        content_types = frozenset({"photo"})
        exact = True

        def parse(self, text: str) -> str:
            value = text.strip()
            if not value.isdigit():
                raise InvalidSignalValue(f"toy-len must be digits, got {value!r}")
            return str(int(value))

        def distance(self, a: str, b: str) -> int:
            return abs(int(a) - int(b))

        def from_bytes(self, data: bytes) -> SignalValue:
            return SignalValue(self.name, str(len(data)))

    from opspoor.signals import registry

    register(Toy())
    try:
        assert get_signal("toy-len").from_bytes(b"abcd").value == "4"
    finally:
        registry._SIGNALS.pop("toy-len")
