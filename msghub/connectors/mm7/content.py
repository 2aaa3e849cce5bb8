"""The content of an outbound MMS: text and attachments as media parts, with a
generated SMIL presentation (one slide per picture, sound or video, the text
on the first)."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from msghub.connectors.base import Attachment
from msghub.connectors.mm7.mime import MediaPart
from msghub.mms.media import content_type_of

SMIL_CID = "smil"
_REGION = {"image": "Image", "video": "Image", "audio": None, "text": "Text"}
_TAG = {"image": "img", "video": "video", "audio": "audio", "text": "text"}


def _name(index: int, attachment: Attachment) -> str:
    if attachment.filename:
        return attachment.filename.replace("\\", "/").rsplit("/", 1)[-1] or f"part{index}"
    sub = attachment.content_type.split(";", 1)[0].split("/")[-1] or "bin"
    return f"part{index}.{sub}"


def media_parts(text: str, attachments: tuple[Attachment, ...]) -> tuple[list[MediaPart], str | None]:
    """(parts, start): the SMIL first when anything can be shown, then the media."""
    media: list[tuple[str, MediaPart]] = []
    if text:
        media.append(("text", MediaPart('text/plain; charset="utf-8"', text.encode("utf-8"), "text0", "text0.txt")))
    for index, attachment in enumerate(attachments, start=1):
        content_type = content_type_of(attachment.data, attachment.content_type)  # by its bytes, not its name
        kind = content_type.split("/", 1)[0].lower()
        name = _name(index, attachment)
        cid = (attachment.content_id or f"part{index}").strip("<>")
        media.append((kind, MediaPart(content_type, attachment.data, cid, name)))
    if not any(kind in _TAG for kind, _ in media):
        return [part for _, part in media], None
    smil = MediaPart("application/smil", smil_for(media).encode("utf-8"), SMIL_CID, "presentation.smil")
    return [smil, *(part for _, part in media)], SMIL_CID


def smil_for(media: list[tuple[str, MediaPart]]) -> str:
    text = [part for kind, part in media if kind == "text"]
    shown = [(kind, part) for kind, part in media if kind in ("image", "video", "audio")]
    slides: list[list[tuple[str, MediaPart]]] = [[item] for item in shown] or [[]]
    if text:
        slides[0] = [("text", text[0]), *slides[0]]
    body = []
    for slide in slides:
        items = []
        for kind, part in slide:
            region = _REGION[kind]
            where = f" region={quoteattr(region)}" if region else ""
            items.append(f"<{_TAG[kind]} src={quoteattr('cid:' + (part.content_id or ''))}{where}/>")
        body.append(f'<par dur="5000ms">{"".join(items)}</par>')
    return ('<smil><head><layout><root-layout width="100%" height="100%"/>'
            '<region id="Image" top="0%" left="0%" width="100%" height="70%" fit="meet"/>'
            '<region id="Text" top="70%" left="0%" width="100%" height="30%" fit="scroll"/>'
            f'</layout></head><body>{"".join(body)}</body></smil>')  # fmt: skip
