"""Parts of the smtp connector that need no server: pacing, the HTML body convention, wrong channels."""

from __future__ import annotations

import asyncio
import time

import pytest

from msghub.connectors.base import Attachment, PermanentFailure
from msghub.connectors.settings import validate_config
from msghub.connectors.smtp import connector as smtp_module
from msghub.connectors.smtp.connector import SmtpConnector, split_html
from msghub.connectors.smtp.settings import SETTINGS
from msghub.email.port import MemoryMailPort
from tests.email.support import outbound


def _connector(**over: object) -> SmtpConnector:
    config = validate_config(SETTINGS, {"host": "127.0.0.1", "from_address": "hub@example.test", **over})
    return SmtpConnector("out", config, MemoryMailPort())  # type: ignore[arg-type]


def test_the_rate_limit_spaces_sends(monkeypatch: pytest.MonkeyPatch):
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(smtp_module.asyncio, "sleep", fake_sleep)
    connector = _connector(rate_per_s=2)

    async def three() -> float:
        started = time.monotonic()
        for _ in range(3):
            await connector._pace()
        return time.monotonic() - started

    elapsed = asyncio.run(three())
    # three sends at 2 per second span at least one second, slept or spent
    assert elapsed + sum(waits) >= 0.99
    assert _connector()._next_send == 0.0  # no limit: no bookkeeping


def test_an_unnamed_html_attachment_is_the_html_body():
    html = Attachment("text/html", b"<p>Hi</p>", None)
    named = Attachment("text/html", b"<p>file</p>", "page.html")
    body, rest = split_html((named, html))
    assert body == "<p>Hi</p>" and rest == (named,)
    assert split_html((named,)) == (None, (named,))


def test_an_sms_routed_to_smtp_fails_clearly():
    message = outbound(1, "alice@example.test")
    sms = type(message)(**{**message.__dict__, "channel": "sms"})
    with pytest.raises(PermanentFailure, match="sends e-mail, not sms"):
        asyncio.run(_connector().send(sms))
