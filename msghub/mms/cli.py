"""`msghub codec mms decode FILE [--save-parts DIR]`, wired into the CLI by
add_parsers() (`msghub simulate mmsc` and `msghub bench mms` are development
tools: msghub/devtools/cli.py)."""

from __future__ import annotations

import argparse
import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from msghub.errors import ConfigError
from msghub.mms.content import ContentType, Part
from msghub.mms.headers import InsertAddress, header_name
from msghub.mms.pdu import Pdu, decode_pdu
from msghub.mms.wsp import decode_with_charset
from msghub.mms.wsp_tables import CHARSET_CODES

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_TEXT_TYPES = ("text/", "application/smil", "application/xml", "application/xhtml+xml")


def add_parsers(codec: Any) -> None:
    mms = codec.add_parser("mms", help="MMS encapsulation PDUs (MM1)").add_subparsers(dest="op", required=True)
    decode = mms.add_parser("decode", help="decode an MMS PDU file to JSON")
    decode.add_argument("file", type=Path)
    decode.add_argument("--save-parts", type=Path, metavar="DIR", help="write each part's content to DIR")
    decode.set_defaults(handler=cmd_codec_mms_decode)


def cmd_codec_mms_decode(args: argparse.Namespace, config: object) -> int:
    print(decode_command(args.file, args.save_parts))
    return 0


def decode_command(path: Path, save_parts: Path | None = None) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    pdu = decode_pdu(data)
    if save_parts is not None:
        save_parts.mkdir(parents=True, exist_ok=True)
    return json.dumps(pdu_to_json(pdu, save_parts), indent=2, ensure_ascii=False)


def jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return {"relative_s": int(value.total_seconds())}
    if isinstance(value, InsertAddress):
        return value.value
    if isinstance(value, tuple):
        return [jsonable(item) for item in value]
    return value


def pdu_to_json(pdu: Pdu, save_parts: Path | None = None) -> dict[str, Any]:
    headers = {
        name: jsonable(getattr(pdu, name))
        for name in ("mms_version", *pdu.header_fields())
        if getattr(pdu, name) not in (None, ())
    }
    out: dict[str, Any] = {"message_type": pdu.message_type, "headers": headers}
    if pdu.unknown_headers:
        out["unknown_headers"] = [
            {"name": header_name(code), "code": f"0x{code:02X}", "value": raw.hex()}
            for code, raw in pdu.unknown_headers
        ]
    if pdu.application_headers:
        out["application_headers"] = [list(item) for item in pdu.application_headers]
    ct: ContentType | None = getattr(pdu, "content_type", None)
    if ct is not None:
        out["content_type"] = {"media_type": ct.media_type, "params": ct.params}
        parts: tuple[Part, ...] = getattr(pdu, "parts", ())
        out["parts"] = [_part_json(i, part, save_parts) for i, part in enumerate(parts)]
    return out


def _part_json(index: int, part: Part, save_parts: Path | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "content_type": part.content_type.media_type,
        "params": part.content_type.params,
        "size": len(part.data),
    }
    for key in ("content_id", "content_location", "filename"):
        if (value := getattr(part, key)) is not None:
            entry[key] = value
    if part.headers:
        entry["headers"] = [list(item) for item in part.headers]
    if part.content_type.media_type.lower().startswith(_TEXT_TYPES):
        charset = (part.content_type.param("charset") or "utf-8").lower()
        entry["text"] = decode_with_charset(part.data, CHARSET_CODES.get(charset, 106))
    if save_parts is not None:
        target = save_parts / f"{index:02d}-{safe_name(part.filename or part.content_id or 'part')}"
        target.write_bytes(part.data)
        entry["saved_as"] = str(target)
    return entry


def safe_name(name: str) -> str:
    """A file name that stays inside the folder, whatever the PDU says."""
    cleaned = _UNSAFE.sub("_", name.replace("\\", "/").rsplit("/", 1)[-1]).lstrip(".")
    return cleaned[:80] or "part"
