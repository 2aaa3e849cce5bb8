"""The AT command layer against scripted devices on real pseudo-terminals:
echo on and off, URCs between a command and its answer, the > prompt, error
results (numeric, verbose, vendor words), timeouts, a silent device, an
unplugged one, and one command at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from msghub.connectors.modem.channel import AtChannel, Urc
from msghub.connectors.modem.errors import AtCommandError, AtTimeout, LinkDown
from msghub.connectors.modem.transport import SerialTransport
from tests.modem.peer import PtyPeer, final, ok

WAIT_S = 20.0  # generous: the machine is shared


def run(coro_fn: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(coro_fn(), 120))


async def channel_for(peer: PtyPeer, urcs: list[Urc] | None = None, **kw: object) -> AtChannel:
    peer.start()
    transport = await SerialTransport.open(peer.path, 115200)
    channel = AtChannel(transport, (urcs if urcs is not None else []).append, name="test", **kw)  # type: ignore[arg-type]
    channel.start()
    return channel


def basic(line: str) -> bytes | None:
    if line == "AT":
        return ok()
    if line == "AT+CGMI":
        return ok("huawei")
    if line == "AT+CSQ":
        return b"\r\n^RSSI: 17\r\n\r\n+CSQ: 17,99\r\n\r\n+CMTI: \"SM\",3\r\n\r\nOK\r\n"
    if line == "AT+CREG?":
        return ok("+CREG: 0,1")
    if line == "AT+CMGS=23":
        return b"\r\n> "
    if line == "AT+BAD":
        return final("ERROR")
    if line == "AT+CPIN?":
        return final("+CME ERROR: 10")
    if line == "AT+VERBOSE":
        return final("+CMS ERROR: Network out of order")
    if line == "AT+VENDOR":
        return final("COMMAND NOT SUPPORT")
    if line == "AT+SILENT":
        return None
    return final("ERROR")


@pytest.mark.parametrize("echo", [False, True])
def test_answers_with_echo_on_and_off_and_urcs_apart(echo: bool) -> None:
    async def body() -> None:
        peer = PtyPeer(basic, echo=echo)
        urcs: list[Urc] = []
        channel = await channel_for(peer, urcs)
        try:
            answer = await channel.command("AT+CGMI", timeout_s=WAIT_S)
            assert answer.lines == ("huawei",) and answer.final == "OK"
            answer = await channel.command("AT+CSQ", timeout_s=WAIT_S, expect="+CSQ:")
            assert answer.first("+CSQ:") == "17,99"
            assert [u.line for u in urcs] == ["^RSSI: 17", '+CMTI: "SM",3']
            # +CREG: is a URC too, but here it is the expected answer
            answer = await channel.command("AT+CREG?", timeout_s=WAIT_S, expect="+CREG:")
            assert answer.first("+CREG:") == "0,1" and len(urcs) == 2
        finally:
            await channel.close()
            peer.close()

    run(body)


def test_prompt_then_pdu_then_answer() -> None:
    async def body() -> None:
        peer = PtyPeer(basic, echo=True)
        peer.on_pdu = lambda pdu: ok("+CMGS: 42")
        channel = await channel_for(peer)
        try:
            answer = await channel.command("AT+CMGS=23", timeout_s=WAIT_S, expect="+CMGS:", pdu="0011AABB")
            assert answer.first("+CMGS:") == "42"
            assert peer.received[-1] == "PDU:0011AABB"
        finally:
            await channel.close()
            peer.close()

    run(body)


def test_two_line_urcs_carry_their_pdu() -> None:
    async def body() -> None:
        peer = PtyPeer(basic)
        urcs: list[Urc] = []
        channel = await channel_for(peer, urcs)
        try:
            peer.send(b"\r\n+CMT: ,24\r\n07911326040000F0040B911346610089F60000"
                      b"208062917314080CC8F71D14969741F977FD07\r\n")
            peer.send(b"\r\n+CDS: 25\r\n0006A30B911346610089F6\r\n")
            await channel.command("AT", timeout_s=WAIT_S)
            assert [(u.line, u.pdu is not None) for u in urcs] == [("+CMT: ,24", True), ("+CDS: 25", True)]
            assert urcs[1].pdu == "0006A30B911346610089F6"
        finally:
            await channel.close()
            peer.close()

    run(body)


@pytest.mark.parametrize(("command", "name", "retry"), [
    ("AT+BAD", "error", True),
    ("AT+CPIN?", "sim_not_inserted", False),
    ("AT+VERBOSE", "network_out_of_order", True),
    ("AT+VENDOR", "not_supported", False),
])
def test_error_results_are_named(command: str, name: str, retry: bool) -> None:
    async def body() -> None:
        peer = PtyPeer(basic)
        channel = await channel_for(peer)
        try:
            with pytest.raises(AtCommandError) as caught:
                await channel.command(command, timeout_s=WAIT_S)
            assert caught.value.reason.name == name and caught.value.reason.retry is retry
            # the channel still works afterwards
            assert (await channel.command("AT", timeout_s=WAIT_S)).final == "OK"
        finally:
            await channel.close()
            peer.close()

    run(body)


def test_a_silent_device_times_out_then_counts_as_gone() -> None:
    async def body() -> None:
        peer = PtyPeer(basic)
        gone: list[str] = []
        channel = await channel_for(peer, on_unresponsive=gone.append, unresponsive_after=2)
        try:
            with pytest.raises(AtTimeout) as caught:
                await channel.command("AT+SILENT", timeout_s=0.2)
            assert caught.value.written and not gone
            # an answer in between resets the count
            await channel.command("AT", timeout_s=WAIT_S)
            with pytest.raises(AtTimeout):
                await channel.command("AT+SILENT", timeout_s=0.2)
            assert not gone
            with pytest.raises(AtTimeout):
                await channel.command("AT+SILENT", timeout_s=0.2)
            assert gone and "2 commands in a row" in gone[0]
        finally:
            await channel.close()
            peer.close()

    run(body)


def test_a_prompt_that_never_comes_is_left_with_escape() -> None:
    async def body() -> None:
        peer = PtyPeer(lambda line: None if line.startswith("AT+CMGS") else ok())
        channel = await channel_for(peer)
        try:
            with pytest.raises(AtTimeout) as caught:
                await channel.command("AT+CMGS=10", timeout_s=0.2, pdu="00")
            assert not caught.value.written  # the PDU never went out
            assert (await channel.command("AT", timeout_s=WAIT_S)).final == "OK"
        finally:
            await channel.close()
            peer.close()

    run(body)


def test_unplugged_mid_command_raises_link_down_and_reports_it() -> None:
    async def body() -> None:
        peer = PtyPeer(basic)
        lost: list[str] = []
        channel = await channel_for(peer, on_lost=lost.append)
        try:
            task = asyncio.create_task(channel.command("AT+SILENT", timeout_s=WAIT_S))
            await asyncio.sleep(0.05)
            while "AT+SILENT" not in peer.received:
                await asyncio.sleep(0.01)
            peer.unplug()
            with pytest.raises(LinkDown) as caught:
                await task
            assert caught.value.written and lost
            with pytest.raises(LinkDown):
                await channel.command("AT", timeout_s=WAIT_S)
        finally:
            await channel.close()
            peer.close()

    run(body)


def test_commands_queue_one_at_a_time_in_order() -> None:
    async def body() -> None:
        in_flight: list[str] = []

        def script(line: str) -> bytes | None:
            in_flight.append(line)
            return None  # answered below, one by one

        peer = PtyPeer(script)
        channel = await channel_for(peer)
        try:
            tasks = [asyncio.create_task(channel.command(f"AT+N{i}", timeout_s=WAIT_S)) for i in range(5)]
            for i in range(5):
                while len(in_flight) <= i:
                    await asyncio.sleep(0.01)
                await asyncio.sleep(0.02)
                assert len(in_flight) == i + 1  # the next waits for this answer
                peer.send(ok(f"n{i}"))
            answers = await asyncio.gather(*tasks)
            assert [a.lines for a in answers] == [(f"n{i}",) for i in range(5)]
            assert in_flight == [f"AT+N{i}" for i in range(5)]
        finally:
            await channel.close()
            peer.close()

    run(body)


def test_lenient_commands_take_the_expected_line_without_a_final_result() -> None:
    async def body() -> None:
        peer = PtyPeer(lambda line: b"\r\n+CPIN: READY\r\n" if line == "AT+CPIN?" else ok())
        channel = await channel_for(peer)
        try:
            answer = await channel.command("AT+CPIN?", timeout_s=WAIT_S, expect="+CPIN:", lenient=True)
            assert answer.first("+CPIN:") == "READY"
            with pytest.raises(AtTimeout):  # without lenient the missing OK is a timeout
                await channel.command("AT+CPIN?", timeout_s=1.0, expect="+CPIN:")
        finally:
            await channel.close()
            peer.close()

    run(body)
