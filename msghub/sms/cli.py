"""`msghub codec sms split TEXT [--transliterate] [--json]`: show how a text
would be sent. The lead wires split_command into the CLI; it only returns
the text to print.
"""

import json

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
