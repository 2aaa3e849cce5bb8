"""Content types by their bytes, and pictures made to fit an MMS size class."""

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msghub.mms import decode_pdu
from msghub.mms.media import PictureTooLarge, content_type_of, fit_picture, sniff
from tests.mms.vectors import mms_vectors

Image = pytest.importorskip("PIL.Image")


@pytest.mark.skipif(not mms_vectors(), reason="no MMS vectors")
def test_the_media_of_the_vectors_are_what_they_say() -> None:
    checked = 0
    for path in mms_vectors():
        for part in decode_pdu(path.read_bytes()).parts:  # type: ignore[attr-defined]
            declared = part.content_type.media_type
            if declared in ("image/jpeg", "image/gif", "audio/amr", "audio/midi", "application/smil"):
                assert sniff(part.data) == declared, (path.name, declared)
                checked += 1
    assert checked > 30


def test_names_do_not_decide() -> None:
    png = _picture("PNG", 20, 20)
    assert content_type_of(png, "image/jpeg") == "image/png"
    assert content_type_of(png, "application/octet-stream") == "image/png"
    assert content_type_of(b"hello", 'text/plain; charset="utf-8"') == 'text/plain; charset="utf-8"'
    assert content_type_of(b"\x00\x01\x02\xfe", "application/x-thing") == "application/x-thing"
    assert content_type_of(b"\x00\x01\x02\xfe", None) == "application/octet-stream"
    assert sniff(b"\x00\x00\x00\x18ftyp3gp4\x00\x00") == "video/3gpp"
    assert sniff(b"\x00\x00\x00\x18ftypisom\x00\x00") == "video/mp4"
    assert sniff(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "audio/wav"
    assert sniff(b'<?xml version="1.0"?><smil/>') == "application/smil"


def _picture(fmt: str, width: int, height: int, mode: str = "RGB") -> bytes:
    noise = Image.effect_noise((width, height), 90).convert(mode)
    out = io.BytesIO()
    noise.save(out, fmt)
    return out.getvalue()


def test_a_small_picture_is_left_alone() -> None:
    jpeg = _picture("JPEG", 64, 48)
    fitted = fit_picture(jpeg, len(jpeg))
    assert (fitted.data, fitted.changed, fitted.width, fitted.height) == (jpeg, False, 64, 48)


def test_a_large_picture_is_scaled_and_reencoded_to_fit() -> None:
    png = _picture("PNG", 1200, 900)
    limit = 60_000
    assert len(png) > limit
    fitted = fit_picture(png, limit)
    assert fitted.changed and len(fitted.data) <= limit and fitted.content_type == "image/jpeg"
    assert sniff(fitted.data) == "image/jpeg"
    assert fitted.width < 1200 and abs(fitted.width / fitted.height - 4 / 3) < 0.02
    with Image.open(io.BytesIO(fitted.data)) as again:
        assert again.size == (fitted.width, fitted.height)


def test_transparency_stays_png_and_hopeless_cases_say_so() -> None:
    rgba = _picture("PNG", 400, 400, "RGBA")
    fitted = fit_picture(rgba, len(rgba) // 2)
    assert fitted.content_type == "image/png" and len(fitted.data) <= len(rgba) // 2
    with pytest.raises(PictureTooLarge, match="does not fit"):
        fit_picture(_picture("PNG", 400, 400), 100)
    with pytest.raises(PictureTooLarge, match="not a picture"):
        fit_picture(b"not a picture at all", 10)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz(data: bytes) -> None:
    sniff(data)
    with contextlib.suppress(PictureTooLarge):
        fit_picture(data, 50)
