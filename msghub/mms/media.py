"""MMS content: what a file is, judged by its bytes (never by its name), and
pictures scaled and re-encoded to fit an MMS size class."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from msghub.errors import HubError

# (offset, magic bytes, content type), checked in order
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"BM", "image/bmp"),
    (0, b"#!AMR-WB\n", "audio/amr-wb"),
    (0, b"#!AMR\n", "audio/amr"),
    (0, b"MThd", "audio/midi"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"BEGIN:VCARD", "text/x-vCard"),
    (0, b"BEGIN:VCALENDAR", "text/x-vCalendar"),
)
_RIFF = {b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo", b"WEBP": "image/webp"}
_ISO_BRANDS = ((b"3gp", "video/3gpp"), (b"3g2", "video/3gpp2"), (b"M4A", "audio/mp4"), (b"qt", "video/quicktime"))
PICTURES = ("image/jpeg", "image/png", "image/gif", "image/bmp", "image/webp")
MIN_SIDE_PX = 32
QUALITIES = (85, 75, 65, 50, 35)


def sniff(data: bytes) -> str | None:
    """The content type the bytes show, or None when they show none."""
    for offset, magic, content_type in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return content_type
    if data[:4] == b"RIFF" and data[8:12] in _RIFF:
        return _RIFF[data[8:12]]
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        return next((kind for prefix, kind in _ISO_BRANDS if brand.startswith(prefix)), "video/mp4")
    if data[:2] == b"\xff\xfb" or data[:2] == b"\xff\xf3":
        return "audio/mpeg"
    head = data[:512].lstrip()
    if head.startswith(b"<smil") or (head.startswith(b"<?xml") and b"<smil" in head):
        return "application/smil"
    if head.startswith(b"<?xml"):
        return "application/xml"
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < 4092:  # not merely a character cut at the 4096th byte
            return None
    return "text/plain" if b"\x00" not in data[:4096] else None


def content_type_of(data: bytes, declared: str | None) -> str:
    """The type to store and send: the bytes' own where they show one (the
    declared one, with its parameters, when it says the same)."""
    sniffed = sniff(data)
    if sniffed is None:
        return declared or "application/octet-stream"
    if declared and declared.split(";", 1)[0].strip().lower() == sniffed.lower():
        return declared
    return sniffed


class PictureTooLarge(HubError):
    """A picture could not be made small enough."""


@dataclass(frozen=True)
class Fitted:
    data: bytes
    content_type: str
    width: int
    height: int
    changed: bool


def fit_picture(data: bytes, max_bytes: int) -> Fitted:
    """The picture as it is when it fits in max_bytes, else scaled down and
    re-encoded as JPEG (PNG with transparency stays PNG) until it fits."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise PictureTooLarge("scaling pictures needs Pillow (pip install Pillow)") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # a bomb is refused, not decoded
            image = Image.open(io.BytesIO(data))
            image.load()
        with image:
            width, height = image.size
            kind = sniff(data) or "application/octet-stream"
            if len(data) <= max_bytes:
                return Fitted(data, kind, width, height, False)
            keep_alpha = image.mode in ("RGBA", "LA") or "transparency" in image.info
            picture = image.convert("RGBA" if keep_alpha else "RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise PictureTooLarge(f"not a picture msghub can read: {exc}") from None
    scale = 1.0
    while min(width * scale, height * scale) >= MIN_SIDE_PX:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        resized = picture.resize(size, Image.Resampling.LANCZOS) if scale < 1 else picture
        for quality in QUALITIES if not keep_alpha else (0,):
            out = io.BytesIO()
            if keep_alpha:
                resized.save(out, "PNG", optimize=True)
            else:
                resized.save(out, "JPEG", quality=quality, optimize=True)
            if out.tell() <= max_bytes:
                return Fitted(out.getvalue(), "image/png" if keep_alpha else "image/jpeg", size[0], size[1], True)
        scale *= 0.75
    raise PictureTooLarge(f"the picture does not fit in {max_bytes} bytes even at {MIN_SIDE_PX} pixels")


def fit_files(files: list[dict[str, str]], max_bytes: int) -> list[dict[str, str]]:
    """Attachments as hub.outbox takes them ({"filename", "content_type", "data"
    (base64)}) with their pictures scaled so that all fit in max_bytes; each
    picture gets a share of what the other files leave, by its size."""
    import base64

    decoded = [(item, base64.b64decode(item["data"])) for item in files]
    pictures = [data for item, data in decoded if item["content_type"] in PICTURES]
    others = sum(len(data) for item, data in decoded if item["content_type"] not in PICTURES)
    budget = max_bytes - others
    if not pictures or budget <= 0:
        raise PictureTooLarge(f"the files other than pictures already take {others} of {max_bytes} bytes")
    total = sum(len(data) for data in pictures)
    out = []
    for item, data in decoded:
        if item["content_type"] in PICTURES:
            fitted = fit_picture(data, budget * len(data) // total)
            name = item.get("filename") or "picture"
            if fitted.changed and fitted.content_type == "image/jpeg" and not name.lower().endswith((".jpg", ".jpeg")):
                name = name.rsplit(".", 1)[0] + ".jpg"
            item = {**item, "filename": name, "content_type": fitted.content_type,
                    "data": base64.b64encode(fitted.data).decode("ascii")}  # fmt: skip
        out.append(item)
    return out
