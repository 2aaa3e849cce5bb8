"""The slides of an MMS from its SMIL presentation (a pure function).

    slides(smil_bytes) -> [Slide(duration_ms, (Item("img", "cid:p1"), ...)), ...]

Each <par> of the body is a slide, in order (a body of bare media elements
makes one slide per element); its img/image, video, audio, text and ref
elements name parts by src (cid:<Content-ID> or a Content-Location). A
SMIL that cannot be read gives no slides, and the caller shows the parts in
their stored order. Expat resolves no external entities and refuses entity
expansion bombs; SMIL larger than MAX_SMIL_BYTES is not read.
"""

from __future__ import annotations

import re
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass

MAX_SMIL_BYTES = 65536
MEDIA_TAGS = {"img": "image", "image": "image", "video": "video", "audio": "audio", "text": "text", "ref": "ref"}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$")


@dataclass(frozen=True)
class Item:
    kind: str  # image, video, audio, text or ref
    src: str


@dataclass(frozen=True)
class Slide:
    duration_ms: int | None
    items: tuple[Item, ...]


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1].lower()


def _duration(value: str | None) -> int | None:
    found = _DURATION.match(value or "")
    if not found:
        return None
    number = float(found.group(1))
    return int(number if found.group(2) == "ms" else number * 1000)


def _items(element: ET.Element) -> tuple[Item, ...]:
    found = []
    for child in element.iter():
        kind = MEDIA_TAGS.get(_local(child.tag))
        src = child.get("src")
        if kind is not None and src:
            found.append(Item(kind, src.strip()))
    return tuple(found)


def slides(smil: bytes) -> list[Slide]:
    if len(smil) > MAX_SMIL_BYTES:
        return []
    try:
        root = ET.fromstring(smil)
    except (ET.ParseError, ValueError):
        return []
    body = next((e for e in root.iter() if _local(e.tag) == "body"), None)
    if body is None:
        return []
    pars = [e for e in body.iter() if _local(e.tag) == "par"]
    if pars:
        return [Slide(_duration(par.get("dur")), _items(par)) for par in pars]
    return [Slide(_duration(e.get("dur")), (item,)) for e in body for item in _items(e)]


def src_key(src: str) -> str:
    """What a src names, comparable with a part's Content-ID or file name:
    cid: and angle brackets dropped, %-escapes undone, lower case."""
    value = src.strip()
    if value.lower().startswith("cid:"):
        value = value[4:]
    return urllib.parse.unquote(value).strip("<>").lower()
