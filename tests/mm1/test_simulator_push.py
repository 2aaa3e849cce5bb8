"""`msghub simulate mmsc --modem-control URL`: the MMSC simulator's WAP
pushes reach a modem simulator as WAP push SMS through its control API."""

from __future__ import annotations

import asyncio

from msghub.devtools.mmsc.cli import push_to_modem
from msghub.devtools.mmsc.simulator import MmscConfig, MmscSimulator
from msghub.devtools.modem import ModemSimulator
from msghub.devtools.modem.sms import decode_stored
from msghub.mms import ContentType, NotificationInd, Part, decode_pdu
from msghub.mms.push import decode_push


def test_pushes_arrive_in_the_modem_as_port_2948_sms() -> None:
    with ModemSimulator("generic", control_port=0) as modem:
        async def main() -> None:
            mmsc = MmscSimulator(MmscConfig())
            await mmsc.start()
            try:
                tasks = push_to_modem(mmsc, f"http://127.0.0.1:{modem.control_port}", "+31653000000")
                big = [Part(ContentType("text/plain"), b"x" * 10)]
                push = mmsc.notify_phone("+31600000001", "+3169/TYPE=PLMN", "a subject " * 12, big)
                await asyncio.gather(*tasks)
                assert len(push.user_data) > 140  # long enough to need two SMS
                stored = await asyncio.to_thread(lambda: modem.wait_for(lambda: len(modem.storage("SM")) == 2, 30))
                assert stored
                messages = [decode_stored(entry["pdu"]) for _, entry in sorted(modem.storage("SM").items())]
                assert all(m.udh is not None and m.udh.ports is not None and m.udh.ports.dst == 2948
                           for m in messages)  # fmt: skip
                assert [m.sender.number for m in messages] == ["+31653000000"] * 2
                data = b"".join(bytes(m.user_data) for m in messages)  # type: ignore[arg-type]
                assert data == push.user_data
                notification = decode_pdu(decode_push(data).body)
                assert isinstance(notification, NotificationInd) and notification.content_location == push.location
            finally:
                await mmsc.stop()

        asyncio.run(main())
