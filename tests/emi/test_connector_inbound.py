"""What the SMSC simulator sends the EMI connector: messages from phones (52),
reassembled from parts, acknowledged only once stored; and frames that are
malformed, oversized or trickled, which must not take the link down.

Parts out of order, duplicates and broken frames are written onto the
simulator's connection with its send_garbage fault injection (the frames
themselves are valid 52s built with the codec, unless a test breaks them).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from datetime import datetime

from msghub.connectors.emi.codec import (
    Frame,
    FrameReader,
    decode_message,
    encode_frame,
    login_frame,
    make_deliver,
    make_submit,
    to_wire,
    wrap,
)
from msghub.sms.udh import concat_udh
from tests.emi.test_connector_support import WAIT_S, HubRecorder, Tap, connected, header, run, simulator, sms, until

PHONE = "+447700900777"
SHORT_CODE = "4000"
PARTS = ("first part, ", "second part, ", "third part.")


def mo_part(trn: int, seq: int, *, ref: int = 0x42, total: int = 3, text: str | None = None) -> bytes:
    body = PARTS[seq - 1] if text is None else text
    return to_wire(
        make_deliver(
            SHORT_CODE, PHONE, datetime(2025, 1, 2, 3, 4, 5), text=body, udh=concat_udh(ref, total, seq), trn=trn
        )
    )


def acks(tap: Tap, ot: str = "52") -> list[tuple[str, str]]:
    """(TRN, A|N + EC) of the connector's answers to operations of type ot."""
    answers = []
    for frame in tap.frames("up", "R", ot):
        fields = frame.decode().split("/")
        answers.append((header(frame)[0], fields[4] if fields[4] == "A" else f"N{fields[5]}"))
    return answers


def test_single_message_from_a_phone_is_stored_then_acknowledged():
    async def main():
        hub = HubRecorder()
        async with simulator() as sim, connected(sim.port, hub):
            await sim.inject_mo(PHONE, SHORT_CODE, "hi there")
            await until(lambda: [o.status for o in sim.outbound] == ["acked"], what="the ACK")
            [message] = hub.delivered
            assert (message.channel, message.sender, message.recipients, message.text) == (
                "sms",
                PHONE,
                (SHORT_CODE,),
                "hi there",
            )
            assert message.meta["scts"] and message.operator_ref.startswith("447700900777:")

    run(main())


def test_a_message_the_smsc_sends_again_is_acknowledged_and_stored_once():
    # the SMSC resends a 52 whose ACK it never got (the hub was killed between
    # its commit and the ACK): same originator, same SCTS, another TRN
    def single(trn: int, text: str, second: int) -> bytes:
        return to_wire(make_deliver(SHORT_CODE, PHONE, datetime(2025, 1, 2, 3, 4, second), text=text, trn=trn))

    async def main():
        hub = HubRecorder()
        async with simulator() as sim, Tap(sim.port) as tap, connected(tap.port, hub):
            frames = [single(20, "once", 5), single(21, "once", 5), single(22, "later", 6)]
            for count, frame in enumerate(frames, start=1):
                sim.send_garbage(frame)
                await until(lambda n=count: len(acks(tap)) == n, what=f"answer {count}")
            assert acks(tap) == [("20", "A"), ("21", "A"), ("22", "A")]
            assert [m.text for m in hub.delivered] == ["once", "later"]

    run(main())


def test_long_message_from_a_phone_is_reassembled():
    text = "".join(f"mo{i:03d} " for i in range(60))  # 360 characters: three parts

    async def main():
        hub = HubRecorder()
        async with simulator() as sim, connected(sim.port, hub):
            assert await sim.inject_mo(PHONE, SHORT_CODE, text) == 3
            await until(lambda: [o.status for o in sim.outbound] == ["acked"] * 3, what="three ACKs")
            [message] = hub.delivered
            assert message.text == text and message.meta["parts"] == 3 and "partial" not in message.meta

    run(main())


def test_parts_out_of_order_and_duplicated_make_one_message():
    async def main():
        hub = HubRecorder()
        async with simulator() as sim, Tap(sim.port) as tap, connected(tap.port, hub, reassembly_timeout_s=0.5):
            order = [(10, 3), (11, 1), (12, 1), (13, 2), (14, 3)]  # 3 first, 1 twice, 3 again when complete
            for count, (trn, seq) in enumerate(order, start=1):
                sim.send_garbage(mo_part(trn, seq))
                await until(lambda n=count: len(acks(tap)) == n, what=f"the answer to TRN {trn}")
            assert acks(tap) == [(f"{trn:02d}", "A") for trn, _ in order]
            [message] = hub.delivered
            assert message.text == "".join(PARTS) and message.sender == PHONE
            await asyncio.sleep(0.8)  # past the reassembly timeout: no partial copy appears
            assert len(hub.delivered) == 1

    run(main())


def test_incomplete_message_is_stored_as_partial_after_the_timeout():
    async def main():
        hub = HubRecorder()
        async with simulator() as sim, Tap(sim.port) as tap, connected(tap.port, hub, reassembly_timeout_s=0.5):
            sim.send_garbage(mo_part(20, 1) + mo_part(21, 3))
            await until(lambda: len(acks(tap)) == 2, what="both parts acknowledged")
            assert hub.delivered == []
            [message] = await until(lambda: hub.delivered, timeout=WAIT_S, what="the partial message")
            assert message.text == PARTS[0] + PARTS[2]
            assert message.meta["partial"] is True and message.meta["missing"] == [2]
            assert message.meta["parts_received"] == 2 and message.meta["parts"] == 3

    run(main())


def test_acknowledgement_waits_until_the_hub_has_stored_the_message():
    async def main():
        hub = HubRecorder(gate=asyncio.Event())
        async with simulator() as sim, Tap(sim.port) as tap, connected(tap.port, hub):
            await sim.inject_mo(PHONE, SHORT_CODE, "wait for it")
            await until(lambda: hub.calls == 1, what="deliver() to be called")
            await asyncio.sleep(0.2)
            assert acks(tap) == []  # not stored yet: no answer
            hub.gate.set()
            await until(lambda: [a for _, a in acks(tap)] == ["A"], what="the ACK after storing")
            assert [m.text for m in hub.delivered] == ["wait for it"]

    run(main())


def test_a_message_the_hub_cannot_store_is_nacked_for_the_smsc_to_resend():
    async def main():
        hub = HubRecorder(fail_deliveries=1)
        async with simulator() as sim, connected(sim.port, hub):
            await sim.inject_mo(PHONE, SHORT_CODE, "first try")
            await until(lambda: [o.status for o in sim.outbound] == ["nacked"], what="the NACK")
            assert sim.outbound[0].ec == "04" and hub.delivered == []
            await sim.inject_mo(PHONE, SHORT_CODE, "second try")
            await until(lambda: [o.status for o in sim.outbound] == ["nacked", "acked"])
            assert [m.text for m in hub.delivered] == ["second try"]

    run(main())


def test_a_completed_long_message_the_hub_cannot_store_is_kept_and_stored_later():
    async def main():
        hub = HubRecorder(fail_deliveries=1)
        async with simulator() as sim, Tap(sim.port) as tap, connected(tap.port, hub, reassembly_timeout_s=1):
            sim.send_garbage(mo_part(30, 1, total=2) + mo_part(31, 2, total=2))
            await until(lambda: len(acks(tap)) == 2, what="answers to both parts")
            assert acks(tap) == [("30", "A"), ("31", "N04")]  # the SMSC is asked to resend part 2
            [message] = await until(lambda: hub.delivered, timeout=WAIT_S, what="the retried store")
            assert message.text == PARTS[0] + PARTS[1] and "partial" not in message.meta
            sim.send_garbage(mo_part(32, 2, total=2))  # the SMSC's resend is a copy now
            await until(lambda: len(acks(tap)) == 3)
            assert acks(tap)[-1] == ("32", "A") and len(hub.delivered) == 1

    run(main())


def test_parts_split_across_a_reconnect_still_come_together():
    async def main():
        hub = HubRecorder()
        async with simulator() as sim:
            async with connected(sim.port, hub, name="emi-reconnect"):
                sim.send_garbage(mo_part(40, 1, total=2))
                await until(
                    lambda: hub.calls == 0 and any(e.kind == "unexpected_result" for e in sim.events),
                    what="part 1 answered",
                )
            async with connected(sim.port, hub, name="emi-reconnect"):  # the supervisor's next link
                sim.send_garbage(mo_part(41, 2, total=2))
                [message] = await until(lambda: hub.delivered, what="the whole message")
            assert message.text == PARTS[0] + PARTS[1]

    run(main())


def test_binary_message_arrives_as_an_attachment():
    async def main():
        hub = HubRecorder()
        async with simulator() as sim, connected(sim.port, hub):
            frame = make_deliver(
                SHORT_CODE, PHONE, datetime(2025, 1, 2, 3, 4, 5), user_data=b"\x00\x01\xfe\xff", dcs=0x04, trn=50
            )
            sim.send_garbage(to_wire(frame))
            [message] = await until(lambda: hub.delivered, what="the binary message")
            assert message.text == "" and [a.data for a in message.attachments] == [b"\x00\x01\xfe\xff"]

    run(main())


# -- hostile and broken input -------------------------------------------------------


def test_garbage_between_frames_is_skipped_and_the_link_carries_on():
    async def main():
        hub = HubRecorder()
        async with simulator() as sim, connected(sim.port, hub) as connector:
            sim.send_garbage(b"noise\x03 more\x02not a frame at all\x03" + bytes(range(256)) + b"\x03")
            await sim.inject_mo(PHONE, SHORT_CODE, "after the noise")
            await until(lambda: hub.delivered, what="the message after the noise")
            await connector.send(sms("still sending"))
            assert connector.session.rejected_frames >= 1
            assert connector.lost_reason == "" and len(sim.submits) == 1

    run(main())


def test_damaged_operation_is_nacked_with_its_error_code():
    async def main():
        hub = HubRecorder()
        async with simulator() as sim, Tap(sim.port) as tap, connected(tap.port, hub) as connector:
            good = mo_part(60, 1, total=1)
            damaged = good[:-3] + (b"00" if good[-3:-1] != b"00" else b"01") + b"\x03"
            sim.send_garbage(damaged)
            await until(lambda: acks(tap), what="the NACK")
            assert acks(tap) == [("60", "N01")]  # checksum error
            # well formed, but a submit is not the SMSC's to send, and OT 59 does not exist
            sim.send_garbage(to_wire(make_submit("4000", text="not for you", trn=62)))
            sim.send_garbage(wrap(encode_frame(Frame(trn=63, kind="O", ot="59", fields=("x",)))))
            await until(lambda: acks(tap, "51") and acks(tap, "59"), what="the other NACKs")
            assert (acks(tap, "51"), acks(tap, "59")) == ([("62", "N03")], [("63", "N03")])
            assert hub.delivered == [] and connector.lost_reason == ""
            await connector.send(sms("fine"))

    run(main())


def test_oversized_frame_is_skipped_without_holding_it():
    async def main():
        hub = HubRecorder()
        async with simulator() as sim, connected(sim.port, hub) as connector:
            sim.send_garbage(b"\x0201/99999/O/52/" + b"4" * 200_000 + b"\x03")
            sim.send_garbage(b"\x02" + b"7" * 1_000_000)  # never ends: cut off at the next STX
            await sim.inject_mo(PHONE, SHORT_CODE, "after the flood")
            [message] = await until(lambda: hub.delivered, timeout=10, what="the message after the flood")
            assert message.text == "after the flood"
            assert connector.session.rejected_frames >= 2
            await connector.send(sms("fine"))
            assert connector.lost_reason == ""

    run(main())


def test_frames_trickled_byte_by_byte_are_read_whole():
    async def main():
        hub = HubRecorder()
        async with simulator() as sim, Tap(sim.port, trickle_down_s=0.001) as tap, connected(tap.port, hub) as c:
            result = await c.send(sms("slowly answered"))
            assert result.operator_ref.startswith("00447700900123:")
            frame = mo_part(70, 1, total=1, text="in pieces")
            for i in range(0, len(frame), 7):  # and in separate writes with pauses between
                sim.send_garbage(frame[i : i + 7])
                await asyncio.sleep(0.01)
            [message] = await until(lambda: hub.delivered, timeout=10, what="the trickled message")
            assert message.text == "in pieces" and c.lost_reason == ""

    run(main())


# -- the receiving link -------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _exchange(port: int, frames: list[bytes], answers: int) -> list[bytes]:
    """Plays the SMSC opening the receiving link (the simulator only accepts links)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framer, got = FrameReader(), []
    try:
        for frame in frames:
            writer.write(frame)
        while len(got) < answers:
            data = await asyncio.wait_for(reader.read(4096), 5)
            if not data:
                break
            got.extend(f for f in framer.feed(data) if isinstance(f, bytes))
    except ConnectionResetError:
        pass  # a refused link may be reset rather than closed
    finally:
        writer.close()
        with contextlib.suppress(ConnectionResetError):
            await writer.wait_closed()
    return got


def test_receiving_link_takes_messages_from_the_smsc():
    async def main():
        hub = HubRecorder()
        port = _free_port()
        async with simulator() as sim, connected(sim.port, hub, receive_port=port) as connector:
            assert connector.receive_port == port
            frames = [to_wire(login_frame("smsc", "x", trn=1)), mo_part(2, 1, total=1, text="via the side door")]
            answers = [decode_message(f) for f in await _exchange(port, frames, 2)]
            assert [(a.ot, a.trn, type(a).__name__) for a in answers] == [("60", 1, "Ack"), ("52", 2, "Ack")]
            assert [m.text for m in hub.delivered] == ["via the side door"]

    run(main())


def test_receiving_link_refuses_addresses_not_allowed():
    async def main():
        hub = HubRecorder()
        port = _free_port()
        async with simulator() as sim, connected(sim.port, hub, receive_port=port, receive_allow="192.0.2.0/24"):
            answers = await _exchange(port, [mo_part(2, 1, total=1, text="intruder")], 1)
            assert answers == [] and hub.delivered == []

    run(main())
