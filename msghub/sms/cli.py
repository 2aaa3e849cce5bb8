"""`msghub codec sms split TEXT [--transliterate] [--json]`: show how a text
would be sent. The lead wires split_command into the CLI; it only returns
the text to print.

`msghub codec pdu decode HEX [--direction D] [--no-smsc]` and `msghub codec
pdu encode [--no-smsc]` (JSON on standard input): add_parsers() puts them
under `msghub codec`; the JSON shape is msghub.sms.pdu.jsonform's.
"""

import argparse
import json
import sys
from typing import Any

from msghub.sms.pdu import DIRECTIONS, PduError
from msghub.sms.pdu import decode as pdu_decode
from msghub.sms.pdu import encode as pdu_encode
from msghub.sms.pdu.jsonform import from_json, to_json
from msghub.sms.split import UNIT_NAMES, SmsPlan, part_limit, plan_sms


def _plan_dict(plan: SmsPlan) -> dict[str, object]:
    per_part = part_limit(plan)
    return {
        "encoding": plan.encoding.value,
        "segments": plan.segments,
        "units": plan.units,
        "unit": UNIT_NAMES[plan.encoding],
        "per_part": per_part,
        "remaining": per_part - plan.parts[-1].units,
        "transliterated": plan.transliterated,
        "text": plan.text,
        "parts": [
            {
                "seq": part.seq,
                "total": part.total,
                "udh": part.udh.hex(),
                "units": part.units,
                "text": part.text,
                "user_data": part.user_data.hex(),
            }
            for part in plan.parts
        ],
    }


def _human(plan: SmsPlan) -> str:
    unit = UNIT_NAMES[plan.encoding]
    remaining = part_limit(plan) - plan.parts[-1].units
    lines = [
        f"encoding: {plan.encoding.value}",
        f"segments: {plan.segments}",
        f"units: {plan.units} {unit} ({remaining} left in the last part)",
        f"transliterated: {'yes' if plan.transliterated else 'no'}",
    ]
    if plan.transliterated:
        lines.append(f"text sent: {json.dumps(plan.text, ensure_ascii=False)}")
    for part in plan.parts:
        udh = part.udh.hex() or "-"
        lines.append(f"part {part.seq}/{part.total}  udh {udh}  {part.units} {unit}")
        # JSON quoting shows newlines, tabs and trailing spaces unambiguously.
        lines.append(f"  {json.dumps(part.text, ensure_ascii=False)}")
    return "\n".join(lines)


def split_command(text: str, transliterate: bool, as_json: bool) -> str:
    """Text to print for `msghub codec sms split`; SmsEncodingError propagates."""
    plan = plan_sms(text, transliterate=transliterate)
    if as_json:
        return json.dumps(_plan_dict(plan), ensure_ascii=False, indent=2)
    return _human(plan)


# --- `msghub codec pdu decode HEX` / `msghub codec pdu encode` ----------------


def add_parsers(codec: Any) -> None:
    """The `pdu` subcommands under `msghub codec` (codec is its subparsers)."""
    pdu = codec.add_parser("pdu", help="SMS PDUs of GSM modems (3GPP TS 23.040)").add_subparsers(
        dest="op", required=True
    )
    decode = pdu.add_parser("decode", help="decode a PDU (hex, as AT+CMGR/+CMT show it) to JSON")
    decode.add_argument("hex")
    decode.add_argument(
        "--direction",
        choices=DIRECTIONS,
        default="stored",
        help="stored (+CMGR/+CMGL, the default), sc_to_ms (+CMT, +CDS, +CMGS answers), ms_to_sc (AT+CMGS, AT+CNMA)",
    )
    decode.add_argument("--no-smsc", action="store_true", help="the PDU starts with the first octet, no SMSC field")
    decode.set_defaults(handler=_cmd_pdu_decode)
    encode = pdu.add_parser("encode", help="encode the JSON of `decode` (on standard input) to a PDU")
    encode.add_argument("--no-smsc", action="store_true", help="leave the SMSC field out")
    encode.set_defaults(handler=_cmd_pdu_encode)


def pdu_decode_command(hex_pdu: str, direction: str = "stored", with_smsc: bool = True) -> str:
    """JSON text of the decoded PDU; PduError propagates."""
    msg = pdu_decode(hex_pdu, direction=direction, with_smsc=with_smsc)
    return json.dumps(to_json(msg), ensure_ascii=False, indent=2)


def pdu_encode_command(text: str, with_smsc: bool = True) -> str:
    """JSON {"pdu": hex, "length": n} for a message in decode's JSON; PduError propagates."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PduError(f"standard input is not JSON: {exc}") from None
    hex_pdu, length = pdu_encode(from_json(data), with_smsc=with_smsc)
    return json.dumps({"pdu": hex_pdu, "length": length})


def _cmd_pdu_decode(args: argparse.Namespace, config: object) -> int:
    print(pdu_decode_command(args.hex, args.direction, not args.no_smsc))
    return 0


def _cmd_pdu_encode(args: argparse.Namespace, config: object) -> int:
    print(pdu_encode_command(sys.stdin.read(), not args.no_smsc))
    return 0
