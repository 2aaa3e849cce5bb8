"""Fuzzing the decoder: random bytes and structured mutations of real frames.

Whatever comes in, the decoder either returns a message that encodes back to
the same bytes, or raises a UcpError; decoded views raise nothing else, and
the CLI's description of a decoded message never fails.
"""

import contextlib
import json
from collections.abc import Callable

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from msghub.connectors.emi import (
    Ack,
    CallInput,
    DeliveryNotification,
    ListManagement,
    Message,
    Nack,
    SessionLogin,
    ShortMessageOperation,
    SmsMessageTransfer,
    UcpError,
    checksum,
    decode_message,
    encode_message,
    make_submit,
    unwrap,
)
from msghub.connectors.emi.cli import decode_command, describe, encode_command
from tests.emi.test_codec_vectors import FRAMES

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Seeds that exist without the vectors folder, so the fuzzing always runs.
BUILT = [
    make_submit(
        "4917012345", sender="Hub", text="héllo", udh=b"\x05\x00\x03\x01\x02\x01"
    ).to_frame(),
    make_submit("1", sender="+4912", user_data=b"\x01\x02", notify=True, validity=5).to_frame(),
]
SEEDS = [text.encode("ascii") for text in FRAMES] + [encode_message(f) for f in BUILT]

# Characters that matter to the grammar come often; other printable ASCII
# sometimes (bytes outside it are the byte mutations' business).
field_chars = st.one_of(
    st.sampled_from("/0123456789ABCDEFabcdefAN:"),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),
)
field_text = st.text(alphabet=field_chars, max_size=24)
inserted = st.one_of(
    field_text.map(lambda text: text.encode("ascii")),
    field_text.map(lambda text: text.encode("ascii")),
    st.binary(max_size=6),
)


def _views(message: Message) -> list[Callable[[], object]]:
    views: list[Callable[[], object]] = []
    if isinstance(message, ShortMessageOperation):
        views += [
            lambda: message.text,
            lambda: message.user_data,
            lambda: message.udh,
            lambda: message.data_coding,
            lambda: message.sender,
            lambda: message.scts_time,
            lambda: message.dscts_time,
            lambda: message.validity_time,
            lambda: message.deferred_time,
            lambda: message.notification_types,
        ]
        if isinstance(message, DeliveryNotification):
            views += [lambda: message.status, lambda: message.reason]
    elif isinstance(message, CallInput | SmsMessageTransfer):
        views.append(lambda: message.text)
    elif isinstance(message, SessionLogin | ListManagement):
        views += [lambda: message.password, lambda: message.new_password]
    elif isinstance(message, Ack):
        views += [lambda: message.mvp_time, lambda: message.submit_reference]
    elif isinstance(message, Nack):
        views += [lambda: message.description, lambda: message.permanent]
    return views


def check(data: bytes) -> None:
    try:
        message = decode_message(data)
    except UcpError as exc:
        assert exc.ec in ("01", "02", "03")
        event(type(exc).__name__)  # --hypothesis-show-statistics shows the mix
        return
    event(f"decoded {type(message).__name__}")
    body = unwrap(data)
    assert encode_message(message) == body[:-2] + body[-2:].upper()
    for view in _views(message):
        with contextlib.suppress(UcpError):
            view()
    described = describe(message)
    text = body.decode("ascii")
    assert json.loads(decode_command(text)) == described
    assert encode_command(json.dumps(described)).lower() == text.lower()


def repaired(fields: list[str], head: tuple[str, str, str]) -> bytes:
    """A frame with correct LEN and checksum around possibly bad fields, so
    the checks behind the checksum get fuzzed too."""
    trn, kind, ot = head
    body = "".join(value + "/" for value in fields)
    text = f"{trn}/{len(body) + 16:05d}/{kind}/{ot}/{body}"
    raw = text.encode("ascii")
    return raw + checksum(raw).encode("ascii")


@FUZZ
@given(st.binary(max_size=400) | st.text(field_chars, max_size=200).map(str.encode))
def test_random_bytes(data: bytes) -> None:
    check(data)


@FUZZ
@given(
    seed=st.sampled_from(SEEDS),
    pos=st.integers(0, 400),
    cut=st.integers(0, 40),
    insert=inserted,
    same_length=st.booleans(),
    wrap=st.booleans(),
)
def test_byte_mutations_of_real_frames(
    seed: bytes, pos: int, cut: int, insert: bytes, same_length: bool, wrap: bool
) -> None:
    pos %= len(seed) + 1
    # Same-length edits keep LEN right and so reach the checksum check.
    data = seed[:pos] + insert + seed[pos + (len(insert) if same_length else cut) :]
    check(b"\x02" + data + b"\x03" if wrap else data)


@FUZZ
@given(
    seed=st.sampled_from(SEEDS),
    edits=st.lists(st.tuples(st.integers(0, 40), field_text), max_size=4),
    drop=st.sampled_from([0, 0, 0, 1, 5]),
    extra=st.lists(field_text, max_size=2),
    head=st.tuples(
        st.sampled_from(["00", "42", "99", "1", "x9"]),
        st.sampled_from(["O", "R", "X"]),
        st.sampled_from(["01", "30", "31", "51", "52", "53", "57", "60", "61", "02", "5"]),
    ),
    keep_head=st.sampled_from([True, True, True, False]),
)
def test_field_mutations_with_valid_len_and_checksum(
    seed: bytes,
    edits: list[tuple[int, str]],
    drop: int,
    extra: list[str],
    head: tuple[str, str, str],
    keep_head: bool,
) -> None:
    parts = seed.decode("ascii").split("/")
    fields = parts[4:-1]
    for index, value in edits:
        if fields:
            fields[index % len(fields)] = value
    fields = fields[: max(0, len(fields) - drop)] + extra
    check(repaired(fields, (parts[0], parts[2], parts[3]) if keep_head else head))
