"""How message parts (MMS slides, e-mail attachments) are shown and served.

Only plain raster images and sound are ever shown inline; everything else
(HTML, SVG, scripts, documents) is a download of type
application/octet-stream, with nosniff and a sandboxing CSP, so nothing a
sender attached can run in the hub's origin.
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any

INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/bmp",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "audio/wav",
        "audio/x-wav",
        "audio/amr",
        "audio/aac",
        "audio/3gpp",
        "video/mp4",
        "video/3gpp",
        "video/webm",
    }
)
PART_CSP = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._ -]")


def base_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def kind(content_type: str) -> str:
    """'image', 'audio', 'video', 'text' or 'file': how the page shows a part."""
    t = base_type(content_type)
    if t in INLINE_TYPES:
        return t.split("/", 1)[0]
    if t == "text/plain":
        return "text"
    return "file"


def served_type(content_type: str) -> str:
    t = base_type(content_type)
    return t if t in INLINE_TYPES else "application/octet-stream"


def disposition(filename: str | None, seq: int, inline: bool) -> str:
    name = filename or f"part-{seq}"
    fallback = _UNSAFE_FILENAME.sub("_", name)[:100] or "part"
    quoted = urllib.parse.quote(name[:200], safe="")
    return f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; filename*=UTF-8''{quoted}"


def part_view(part: dict[str, Any]) -> dict[str, Any]:
    """The template's view of one part row."""
    data = part.get("text_data")
    return {
        **part,
        "kind": kind(part["content_type"]),
        "text": bytes(data).decode("utf-8", errors="replace") if data is not None else None,
    }


def email_parts(message_id: int, parts: list[dict[str, Any]], allow_images: bool) -> list[dict[str, Any]]:
    """An e-mail's HTML body, sanitised (nh3), with its cid: images pointing at
    their parts and remote images blocked unless the reader allowed them."""
    from msghub.email.sanitize import has_remote_images, sanitize_html

    cids = {p["content_id"]: f"/messages/{message_id}/parts/{p['id']}?inline=1" for p in parts if p.get("content_id")}
    out = []
    for p in parts:
        data = p.get("html_data")
        if data is not None:
            html = bytes(data).decode("utf-8", errors="replace")
            p = {**p, "kind": "html", "html": sanitize_html(html, allow_remote_images=allow_images, cid_url=cids),
                 "images_blocked": has_remote_images(html) and not allow_images}
        out.append(p)
    return out


SMIL_TYPE = "application/smil"
SHOWN_KINDS = ("image", "audio", "video", "text")


def mms_slides(parts: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(slides, other parts) of an MMS: the slides in its SMIL's order, each
    {"duration_ms", "parts"} with the parts its items name (only the kinds
    shown inline); every part no slide shows (the SMIL itself, documents) is
    an other part, a download. Without a readable SMIL each picture, sound,
    video or text is a slide of its own, in stored order."""
    from msghub.mms.smil import slides as smil_slides
    from msghub.mms.smil import src_key

    smil = next((p for p in parts if base_type(p["content_type"]) == SMIL_TYPE and p.get("smil_data")), None)
    by_key: dict[str, dict[str, Any]] = {}
    for p in parts:
        for key in (p.get("content_id"), p.get("filename")):
            if key:
                by_key.setdefault(src_key(key), p)
    found: list[dict[str, Any]] = []
    if smil is not None:
        for slide in smil_slides(bytes(smil["smil_data"])):
            shown = [by_key[src_key(item.src)] for item in slide.items if src_key(item.src) in by_key]
            shown = [p for p in shown if p["kind"] in SHOWN_KINDS]
            if shown:
                found.append({"duration_ms": slide.duration_ms, "parts": shown})
    if not found:
        found = [{"duration_ms": None, "parts": [p]} for p in parts if p["kind"] in SHOWN_KINDS]
    on_slides = {p["id"] for slide in found for p in slide["parts"]}
    return found, [p for p in parts if p["id"] not in on_slides]
