"""The EMI "Test connection": open a TCP (and TLS, when configured) link to
the SMSC and close it again, without logging in (a second login could
disturb the connection's own link, which the SMSC may allow only once)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Mapping
from typing import Any

from msghub.connectors.base import ProbeResult

PROBE_TIMEOUT_S = 10.0  # the longest a test waits, whatever connect_timeout_s says


def tls_context(config: Mapping[str, Any]) -> ssl.SSLContext | None:
    """The TLS context the settings ask for; None without tls."""
    if not config["tls"]:
        return None
    context = ssl.create_default_context(cafile=config["tls_ca_file"] or None)
    if not config["tls_verify"]:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


async def probe(config: Mapping[str, Any], timeout_s: float = PROBE_TIMEOUT_S) -> ProbeResult:
    host, port = str(config["host"]), int(config["port"])
    link = "TLS" if config["tls"] else "TCP"
    started = time.monotonic()
    try:
        context = tls_context(config)
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context),
            min(timeout_s, float(config["connect_timeout_s"])),
        )
    except (OSError, TimeoutError, ssl.SSLError) as exc:
        reason = "no answer in time" if isinstance(exc, TimeoutError) else (str(exc) or type(exc).__name__)
        return ProbeResult(False, f"could not open a {link} connection to {host}:{port}: {reason}")
    elapsed_ms = (time.monotonic() - started) * 1000
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()
    return ProbeResult(True, (
        f"opened a {link} connection to {host}:{port} in {elapsed_ms:.0f} ms "
        "and closed it; no login was tried (the connection's own link logs in)"
    ))
