"""HTTP to the MMSC, as a phone's MMS client speaks it: POST a PDU to the
MMSC URL (m-send-req, m-notifyresp-ind, m-acknowledge-ind), GET the
Content-Location of a notification (m-retrieve-conf).

The requests go over the host's network: through mms_proxy when set (the
operator's WAP/MMS proxy, reached over the device's data connection), from
mms_local_address when set (the address of that data connection's interface,
ppp0 or wwan0), else by the host's routes. Failures come out as the
connector contract's SendFailures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from msghub.connectors.base import PermanentFailure, TemporaryFailure, UncertainFailure
from msghub.mms import MmsError, Pdu, decode_pdu, encode_pdu

MMS_MESSAGE = "application/vnd.wap.mms-message"
ACCEPT = f"{MMS_MESSAGE}, */*"
USER_AGENT = "msghub-mm1"
RETRY_HTTP = {408, 429}


def fetch_hosts(value: str) -> tuple[str, ...]:
    """The host names of an mms_fetch_hosts setting, in lower case."""
    return tuple(h.strip().lower() for h in value.split(",") if h.strip())


class Mm1Client:
    def __init__(self, config: Mapping[str, Any]) -> None:
        self.url = str(config["mms_url"])
        self.max_bytes = int(config["mms_max_bytes"])
        proxy = str(config.get("mms_proxy") or "") or None
        local = str(config.get("mms_local_address") or "") or None
        transport = httpx.AsyncHTTPTransport(local_address=local, proxy=proxy, retries=0)
        self._client = httpx.AsyncClient(
            transport=transport, timeout=float(config["mms_timeout_s"]), trust_env=False,
            headers={"User-Agent": USER_AGENT, "Accept": ACCEPT},
        )  # fmt: skip

    async def aclose(self) -> None:
        await self._client.aclose()

    async def post(self, pdu: Pdu) -> Pdu | None:
        """POSTs a PDU to the MMSC URL; the PDU it answered with, if any."""
        body = encode_pdu(pdu)
        response = await self._exchange("POST", self.url, body)
        if not response:
            return None
        try:
            return decode_pdu(response)
        except MmsError as exc:
            raise UncertainFailure(f"the MMSC's answer is not an MMS PDU: {exc}", code="mm1_answer") from None

    async def fetch(self, location: str) -> Pdu:
        """GETs what a notification's Content-Location names."""
        response = await self._exchange("GET", location, None)
        try:
            return decode_pdu(response)
        except MmsError as exc:
            raise PermanentFailure(f"{location} did not give an MMS PDU: {exc}", code="mm1_answer") from None

    async def reach(self) -> str:
        """Whether the MMSC URL answers over HTTP at all (the "test connection"
        of a modem with MMS): any HTTP status counts, since MMSCs answer a
        GET with 200, 400 or 405. Raises TemporaryFailure when nothing answers."""
        try:
            response = await self._client.get(self.url)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError) as exc:
            raise TemporaryFailure(f"cannot reach the MMSC ({self.url}): {exc}", code="mm1_connect") from None
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"no HTTP answer from the MMSC ({self.url}): {exc}", code="mm1_http") from None
        return f"the MMSC answers HTTP {response.status_code} at {self.url}"

    async def _exchange(self, method: str, url: str, body: bytes | None) -> bytes:
        headers = {"Content-Type": MMS_MESSAGE} if body is not None else {}
        try:
            async with self._client.stream(method, url, content=body, headers=headers) as response:
                if response.status_code >= 400:
                    reason = f"the MMSC answered HTTP {response.status_code} to {method} {url}"
                    if response.status_code >= 500 or response.status_code in RETRY_HTTP:
                        raise TemporaryFailure(reason, code="mm1_http")
                    raise PermanentFailure(reason, code="mm1_http")
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > self.max_bytes:
                        raise PermanentFailure(f"{url} sent more than mms_max_bytes ({self.max_bytes})",
                                               code="mm1_too_large")  # fmt: skip
                return bytes(data)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError) as exc:
            raise TemporaryFailure(f"cannot reach the MMSC ({url}): {exc}", code="mm1_connect") from None
        except httpx.TimeoutException:
            raise UncertainFailure(f"the MMSC did not answer {method} {url} in time", code="mm1_timeout") from None
        except httpx.HTTPError as exc:
            raise UncertainFailure(f"the HTTP exchange with the MMSC broke: {exc}", code="mm1_http") from None
