"""opspoor.media: formats by content, limits, orientation, and hostile input."""

from __future__ import annotations

import contextlib
import io
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from opspoor.media.errors import (
    CorruptMedia,
    DecompressionBomb,
    InvalidLimits,
    MediaError,
    MediaTooLarge,
    UnsupportedMedia,
)
from opspoor.media.image import decode_image, read_limited
from opspoor.media.limits import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, MediaLimits
from opspoor.media.sniff import sniff_kind
from test_media_samples import encode, pattern, png_bomb

PIXELS = pattern(320, 240)


@pytest.mark.parametrize(
    ("fmt", "params", "expected_format", "lossless"),
    [
        ("PNG", {}, "PNG", True),
        ("BMP", {}, "BMP", True),
        ("TIFF", {}, "TIFF", True),
        ("WEBP", {"lossless": True}, "WEBP", True),
        ("JPEG", {"quality": 95}, "JPEG", False),
        ("GIF", {}, "GIF", False),
    ],
)
def test_formats_decode_to_rgb(
    fmt: str, params: dict[str, object], expected_format: str, lossless: bool
) -> None:
    image = decode_image(encode(PIXELS, fmt, **params))
    assert image.format == expected_format
    assert (image.width, image.height) == (320, 240)
    assert image.pixels.shape == (240, 320, 3) and image.pixels.dtype == np.uint8
    assert image.scale == 1 and image.orientation == 1
    if lossless:
        assert np.array_equal(image.pixels, PIXELS)
    else:
        assert np.abs(image.pixels.astype(int) - PIXELS).mean() < 12


def test_gif_first_frame_is_decoded() -> None:
    first, second = Image.fromarray(PIXELS), Image.fromarray(255 - PIXELS)
    buf = io.BytesIO()
    first.save(buf, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    image = decode_image(buf.getvalue())
    assert image.format == "GIF"
    first_error = np.abs(image.pixels.astype(int) - PIXELS).mean()
    second_error = np.abs(image.pixels.astype(int) - (255 - PIXELS)).mean()
    assert first_error < 12 < second_error


def test_heic_decodes_through_pillow_heif() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    if not pillow_heif.libheif_info().get("HEIF"):
        pytest.skip("this pillow-heif build has no HEVC encoder to make a HEIC sample")
    pillow_heif.register_heif_opener()
    data = encode(PIXELS, "HEIF", quality=90)
    assert sniff_kind(data[:32]) == "image"
    image = decode_image(data)
    assert image.format == "HEIF"
    assert image.pixels.shape == (240, 320, 3)
    assert np.abs(image.pixels.astype(int) - PIXELS).mean() < 12


def test_grey_and_alpha_modes() -> None:
    grey = decode_image(encode(PIXELS[..., 1], "PNG"))
    assert grey.is_grey and grey.mode == "L" and grey.rgb().shape == (240, 320, 3)
    rgba = np.dstack([PIXELS, np.full((240, 320), 7, np.uint8)])
    image = decode_image(encode(rgba, "PNG"))
    assert image.mode == "RGBA" and np.array_equal(image.pixels, PIXELS)  # alpha dropped, not composited


def test_exif_orientation_is_reported_not_applied() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    buf = io.BytesIO()
    Image.fromarray(PIXELS).save(buf, "JPEG", quality=90, exif=exif)
    image = decode_image(buf.getvalue())
    assert image.orientation == 6
    assert image.pixels.shape == (240, 320, 3)  # stored pixels, as the reference hashes them


def test_format_is_read_from_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(encode(PIXELS, "PNG"))
    assert decode_image(read_limited(path)).format == "PNG"


@pytest.mark.testdata
def test_badinput_folder(testdata: Path) -> None:
    bad = testdata / "badinput"
    webp = decode_image(read_limited(bad / "Agfa_DC-504_0_25_invalid.jpeg"))
    assert webp.format == "WEBP" and min(webp.width, webp.height) > 100
    small = decode_image(read_limited(bad / "Invalid_image_size.jpg"))
    assert (small.format, small.width, small.height) == ("JPEG", 100, 100)
    with pytest.raises(UnsupportedMedia, match="not an image"):
        decode_image(read_limited(bad / "test_text_file.txt"))


def test_text_file_is_unsupported() -> None:
    with pytest.raises(UnsupportedMedia, match="not an image in a supported format"):
        decode_image(b"Hello, this is a plain text file.\n" * 20)


def test_random_bytes_are_unsupported() -> None:
    with pytest.raises(UnsupportedMedia):
        decode_image(random.Random(7).randbytes(4096))


def test_empty_file_is_unsupported() -> None:
    with pytest.raises(UnsupportedMedia, match="empty file"):
        decode_image(b"")


def test_truncated_jpeg_is_corrupt() -> None:
    data = encode(PIXELS, "JPEG", quality=90)
    with pytest.raises(CorruptMedia, match="truncated"):
        decode_image(data[: len(data) // 2])


def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = png_bomb(30000, 30000, block_rows=35)
    with pytest.raises(DecompressionBomb, match="30000x30000"):
        decode_image(bomb)


def test_pixel_limit_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(PIXELS, "PNG")
    with pytest.raises(DecompressionBomb, match="over the limit of 1000"):
        decode_image(data, limits=MediaLimits(max_pixels=1000))
    monkeypatch.setenv("OPSPOOR_MAX_PIXELS", "76799")  # one under 320 x 240
    with pytest.raises(DecompressionBomb):
        decode_image(data)
    monkeypatch.setenv("OPSPOOR_MAX_PIXELS", "76800")
    assert decode_image(data).width == 320


def test_byte_limit_is_configurable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    data = encode(PIXELS, "PNG")
    path = tmp_path / "a.png"
    path.write_bytes(data)
    monkeypatch.setenv("OPSPOOR_MAX_BYTES", str(len(data) - 1))
    with pytest.raises(MediaTooLarge, match="over the limit"):
        read_limited(path)
    with pytest.raises(MediaTooLarge):
        decode_image(data)
    monkeypatch.setenv("OPSPOOR_MAX_BYTES", str(len(data)))
    assert decode_image(read_limited(path)).width == 320


def test_limits_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert MediaLimits.from_env() == MediaLimits(DEFAULT_MAX_PIXELS, DEFAULT_MAX_BYTES)
    monkeypatch.setenv("OPSPOOR_MAX_PIXELS", "1_000_000")
    monkeypatch.setenv("OPSPOOR_MAX_BYTES", "2048")
    assert MediaLimits.from_env() == MediaLimits(1_000_000, 2048)
    monkeypatch.setenv("OPSPOOR_MAX_BYTES", "lots")
    with pytest.raises(InvalidLimits, match="OPSPOOR_MAX_BYTES must be a whole number"):
        MediaLimits.from_env()
    with pytest.raises(InvalidLimits, match="positive"):
        MediaLimits(max_pixels=0)


def _big_jpeg(width: int, height: int) -> bytes:
    small = pattern(width // 8, height // 8, seed=3)
    big = Image.fromarray(small).resize((width, height), Image.Resampling.BILINEAR)
    buf = io.BytesIO()
    big.save(buf, "JPEG", quality=90)
    return buf.getvalue()


@pytest.mark.parametrize(("size", "scale"), [((2400, 1600), 2), ((4096, 3072), 4), ((1600, 1000), 1)])
def test_fast_decode_uses_dct_scaling(size: tuple[int, int], scale: int) -> None:
    data = _big_jpeg(*size)
    image = decode_image(data, min_side=512, grey=True)
    assert image.scale == scale
    assert (image.width, image.height) == size  # the file's own size is still reported
    assert image.is_grey
    assert image.pixels.shape == (-(-size[1] // scale), -(-size[0] // scale))
    assert min(image.pixels.shape) >= 512


def test_full_decode_is_the_default() -> None:
    image = decode_image(_big_jpeg(2400, 1600))
    assert image.scale == 1 and image.pixels.shape == (1600, 2400, 3)


_MAGIC = [b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*",
          b"RIFF\x00\x01\x00\x00WEBPVP8 ", b"\x00\x00\x00\x18ftypheic", b""]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from(_MAGIC), body=st.binary(max_size=2048), fast=st.booleans())
def test_random_bytes_only_raise_media_errors(prefix: bytes, body: bytes, fast: bool) -> None:
    data = prefix + body
    try:
        image = decode_image(
            data, limits=MediaLimits(max_pixels=4_000_000), min_side=512 if fast else None, grey=fast
        )
    except MediaError as exc:
        assert str(exc)  # a message for the user, never empty
        return
    assert image.pixels.dtype == np.uint8 and image.pixels.ndim in (2, 3)


@settings(max_examples=150, deadline=None)
@given(cut=st.integers(min_value=0, max_value=4000), flips=st.lists(st.integers(0, 10**6), max_size=8))
def test_damaged_real_files_only_raise_media_errors(cut: int, flips: list[int]) -> None:
    for fmt in ("JPEG", "PNG", "GIF", "WEBP"):
        data = bytearray(encode(PIXELS[:60, :80], fmt))
        for f in flips:
            data[f % len(data)] ^= 0x5A
        with contextlib.suppress(MediaError):
            decode_image(bytes(data[: max(0, len(data) - cut)]), limits=MediaLimits(max_pixels=4_000_000))


def test_unreadable_paths_raise_a_media_error(tmp_path: Path) -> None:
    from opspoor.media.errors import MediaError, UnreadableFile

    for path in (tmp_path / "missing.jpg", tmp_path):  # absent, and a folder
        with pytest.raises(UnreadableFile, match="cannot read file") as info:
            read_limited(path)
        assert isinstance(info.value, MediaError)
