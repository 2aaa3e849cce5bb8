"""The mm7 connection kind: MMS to an operator's MMSC over MM7, the hub as VASP.

Outbound, each message is one SubmitReq (its content a multipart/related of a
generated SMIL, the text and the attachments) POSTed to the MMSC; the
SubmitRsp's MessageID becomes the message's operator reference. Inbound
(DeliverReq, DeliveryReportReq, ReadReplyReq) reaches the web role's
POST /mm7/<connection name>, which the composition root mounts for every kind
that receives_http and answers with receive_http (msghub/connectors/mm7/inbound.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict

import httpx

from msghub.connectors.base import (
    Connector,
    HttpAnswer,
    HttpRequest,
    HubPort,
    OutboundMessage,
    PermanentFailure,
    ProbeResult,
    SendResult,
    TemporaryFailure,
    UncertainFailure,
)
from msghub.connectors.mm7 import inbound, mime, soap
from msghub.connectors.mm7.content import media_parts
from msghub.connectors.mm7.errors import Mm7Error
from msghub.connectors.mm7.status import DEFAULT_SCHEMA, SCHEMA_VERSIONS, outcome, status_text
from msghub.connectors.settings import Setting

log = logging.getLogger(__name__)
PRIORITY_NAMES = {0: "Low", 1: "Normal", 2: "High", 3: "High"}
PROBE_MESSAGE_ID = "msghub-probe"


def _url(value: str) -> str | None:
    return None if value.startswith(("http://", "https://")) else "must be an http:// or https:// URL"


def _networks(value: str) -> str | None:
    import ipaddress

    try:
        for item in value.split(","):
            if item.strip():
                ipaddress.ip_network(item.strip(), strict=False)
    except ValueError as exc:
        return str(exc)
    return None


SETTINGS = (
    Setting("url", str, "the MMSC's MM7 URL (SubmitReq, CancelReq, ReplaceReq are POSTed here)", required=True,
            check=_url),
    Setting("username", str, "user name msghub gives the MMSC; empty: no authentication", default=""),
    Setting("password", str, "password msghub gives the MMSC", default="", secret=True),
    Setting("auth", str, "how msghub authenticates to the MMSC", default="basic", choices=("basic", "digest")),
    Setting("vasp_id", str, "VASPID: msghub's identity at the operator", default=""),
    Setting("vas_id", str, "VASID: the service within the VASP", default=""),
    Setting("sender_address", str, "sender of messages that name none (a short code or number); empty: the MMSC's",
            default=""),
    Setting("service_code", str, "ServiceCode for the operator's billing; empty: none", default=""),
    Setting("charged_party", str, "who pays: Sender, Recipient, Both, Neither or ThirdParty; empty: not said",
            default="", choices=("", *soap.CHARGED_PARTIES)),
    Setting("charged_party_id", str, "the paying third party (REL-6 schemas only)", default=""),
    Setting("message_class", str, "MessageClass of what is sent; empty: not said", default="",
            choices=("", *soap.MESSAGE_CLASSES)),
    Setting("read_reply", bool, "ask for read replies", default=False),
    Setting("schema_version", str, "the MM7 schema msghub speaks to this MMSC", default=DEFAULT_SCHEMA,
            choices=tuple(SCHEMA_VERSIONS)),
    Setting("mm7_version", str, "MM7Version sent; empty: the one usual with schema_version", default=""),
    Setting("timeout_s", float, "seconds to wait for the MMSC's answer", default=30.0, minimum=0.1, maximum=600),
    Setting("window", int, "submits in flight at once", default=4, minimum=1, maximum=100),
    Setting("inbound_username", str, "user name the MMSC must give on /mm7/<name>; empty: none asked", default=""),
    Setting("inbound_password", str, "password the MMSC must give on /mm7/<name>", default="", secret=True),
    Setting("inbound_auth", str, "how the MMSC authenticates to msghub", default="basic",
            choices=("basic", "digest")),
    Setting("inbound_allow", str, "addresses or networks (comma-separated) the MMSC may post from; empty: any",
            default="", check=_networks),
)  # fmt: skip


class Mm7Settings(TypedDict):
    """SETTINGS as a type (the contract tests check that the two agree)."""
    url: str
    username: str
    password: str
    auth: str
    vasp_id: str
    vas_id: str
    sender_address: str
    service_code: str
    charged_party: str
    charged_party_id: str
    message_class: str
    read_reply: bool
    schema_version: str
    mm7_version: str
    timeout_s: float
    window: int
    inbound_username: str
    inbound_password: str
    inbound_auth: str
    inbound_allow: str


def _opt(config: Mapping[str, Any], name: str) -> str | None:
    value = str(config.get(name) or "")
    return value or None


class Mm7Connector(Connector):
    kind = "mm7"
    channels = ("mms",)
    description = "MMS to and from an operator's MMSC over MM7 (SOAP over HTTP), msghub as VASP"
    settings = SETTINGS
    settings_type = Mm7Settings
    config: Mm7Settings
    receives_http = True

    def __init__(self, name: str, config: dict[str, Any], hub: HubPort) -> None:
        super().__init__(name, config, hub)
        self.window = int(config.get("window", 4))
        self.schema = str(config.get("schema_version") or DEFAULT_SCHEMA)
        self._client: httpx.AsyncClient | None = None

    @staticmethod
    def _new_client(config: Mapping[str, Any]) -> httpx.AsyncClient:
        auth: httpx.Auth | None = None
        if config.get("username"):
            user, password = str(config["username"]), str(config.get("password") or "")
            digest = config.get("auth") == "digest"
            auth = httpx.DigestAuth(user, password) if digest else httpx.BasicAuth(user, password)
        return httpx.AsyncClient(auth=auth, timeout=float(config.get("timeout_s", 30.0)))

    async def open(self) -> None:
        self._client = self._new_client(self.config)
        log.info("mm7 %s ready: %s (%s)", self.name, self.config["url"], self.schema)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- outbound ------------------------------------------------------------

    def submit_request(
        self, message: OutboundMessage, transaction_id: str
    ) -> tuple[soap.SubmitReq, list[mime.MediaPart], str | None]:
        parts, start = media_parts(message.text, message.attachments)
        now = datetime.now(UTC)
        request = soap.SubmitReq(
            transaction_id=transaction_id, schema=self.schema, mm7_version=_opt(self.config, "mm7_version"),
            recipients=soap.Recipients(to=(message.recipient,), cc=message.cc, bcc=message.bcc),
            vasp_id=_opt(self.config, "vasp_id"), vas_id=_opt(self.config, "vas_id"),
            sender_address=message.sender or _opt(self.config, "sender_address"),
            service_code=_opt(self.config, "service_code"), message_class=_opt(self.config, "message_class"),
            timestamp=now.replace(microsecond=0),
            earliest_delivery=message.send_at if message.send_at and message.send_at > now else None,
            expiry=message.valid_until, delivery_report=message.delivery_report,
            read_reply=True if self.config.get("read_reply") else None,
            priority=PRIORITY_NAMES.get(message.priority, "Normal"), subject=message.subject or None,
            charged_party=_opt(self.config, "charged_party"), charged_party_id=_opt(self.config, "charged_party_id"),
            content_href=f"cid:{mime.CONTENT_CID}" if parts else None,
        )  # fmt: skip
        return request, parts, start

    async def send(self, message: OutboundMessage) -> SendResult:
        transaction_id = f"{self.name}-{message.id}-{message.attempt}"
        try:
            request, parts, start = self.submit_request(message, transaction_id)
            envelope = soap.build_envelope(request)
        except Mm7Error as exc:
            raise PermanentFailure(f"cannot build the SubmitReq: {exc}", code="mm7_build") from None
        content = mime.build_content(parts, start) if parts else None
        answer = await self._post(*mime.build_request(envelope, content))
        if isinstance(answer, soap.Response) and answer.kind == "SubmitRsp":
            verdict = outcome(answer.status.code)
            if verdict == "success" and answer.message_id:
                return SendResult(operator_ref=answer.message_id)
            if verdict == "success":
                raise UncertainFailure("the MMSC accepted the message but named no MessageID", code="mm7_no_id")
        elif not isinstance(answer, soap.Fault):
            raise UncertainFailure(f"the MMSC answered a SubmitReq with {type(answer).__name__}", code="mm7_answer")
        raise _failure(answer.status)

    async def cancel(self, operator_ref: str) -> soap.Status:
        """CancelReq for a message the MMSC holds (not yet delivered)."""
        request = soap.CancelReq(transaction_id=f"{self.name}-cancel-{operator_ref}", schema=self.schema,
                                 mm7_version=_opt(self.config, "mm7_version"), message_id=operator_ref,
                                 vasp_id=_opt(self.config, "vasp_id"), vas_id=_opt(self.config, "vas_id"))  # fmt: skip
        return _status_of(await self._post(*mime.build_request(soap.build_envelope(request), None)))

    async def replace(self, operator_ref: str, message: OutboundMessage) -> soap.Status:
        """ReplaceReq: new content for a message the MMSC holds."""
        parts, start = media_parts(message.text, message.attachments)
        request = soap.ReplaceReq(transaction_id=f"{self.name}-replace-{operator_ref}", schema=self.schema,
                                  mm7_version=_opt(self.config, "mm7_version"), message_id=operator_ref,
                                  vasp_id=_opt(self.config, "vasp_id"), vas_id=_opt(self.config, "vas_id"),
                                  service_code=_opt(self.config, "service_code"),
                                  content_href=f"cid:{mime.CONTENT_CID}" if parts else None)  # fmt: skip
        content = mime.build_content(parts, start) if parts else None
        return _status_of(await self._post(*mime.build_request(soap.build_envelope(request), content)))

    async def _post(self, content_type: str, body: bytes) -> soap.Operation:
        if self._client is None:
            raise TemporaryFailure("the mm7 connection is not open", code="link_down")
        return await post(self._client, str(self.config["url"]), content_type, body)

    # --- inbound -------------------------------------------------------------

    async def receive_http(self, request: HttpRequest) -> HttpAnswer:
        """DeliverReq, DeliveryReportReq and ReadReplyReq from the MMSC, into self.hub."""
        return await inbound.answer(self.name, self.config, request, self.hub)

    # --- probe ---------------------------------------------------------------

    @classmethod
    async def probe(cls, config: dict[str, Any]) -> ProbeResult:
        """A CancelReq for a message that does not exist: any MM7 answer shows the
        MMSC is there and takes our credentials; nothing is sent to anyone."""
        schema = str(config.get("schema_version") or DEFAULT_SCHEMA)
        request = soap.CancelReq(transaction_id="msghub-probe", schema=schema, message_id=PROBE_MESSAGE_ID,
                                 mm7_version=_opt(config, "mm7_version"), vasp_id=_opt(config, "vasp_id"))  # fmt: skip
        async with cls._new_client(config) as client:
            try:
                answer = await post(client, str(config["url"]), *mime.build_request(soap.build_envelope(request), None))
            except (TemporaryFailure, UncertainFailure, PermanentFailure) as exc:
                return ProbeResult(False, exc.reason)
        status = answer.status if isinstance(answer, soap.Response | soap.Fault) else None
        if status is None:
            return ProbeResult(False, f"the MMSC answered a CancelReq with {type(answer).__name__}")
        if status.code in (4001, 4007):
            return ProbeResult(False, f"the MMSC refused us: {status.code} {status.text or status_text(status.code)}")
        text = status.text or status_text(status.code)
        return ProbeResult(True, f"the MMSC answers MM7 ({schema}): {status.code} {text}")


async def post(client: httpx.AsyncClient, url: str, content_type: str, body: bytes) -> soap.Operation:
    """POSTs one MM7 request and parses the answer; failures as SendFailures."""
    headers = {"Content-Type": content_type, "SOAPAction": '""'}
    try:
        response = await client.post(url, content=body, headers=headers)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise TemporaryFailure(f"cannot reach the MMSC at {url}: {exc}", code="connect") from None
    except httpx.TimeoutException:
        raise UncertainFailure("the MMSC did not answer in time", code="timeout") from None
    except httpx.HTTPError as exc:
        raise UncertainFailure(f"the HTTP exchange with the MMSC broke: {exc}", code="http") from None
    if response.status_code in (401, 403):
        raise TemporaryFailure(f"the MMSC refused our credentials (HTTP {response.status_code})", code="auth")
    try:
        received = mime.parse_request(response.headers.get("content-type", ""), response.content)
        return soap.parse_envelope(received.envelope)
    except Mm7Error as exc:
        if response.status_code >= 400:  # an HTTP error page: the MMSC did not take the request
            status = response.status_code
            raise TemporaryFailure(f"the MMSC answered HTTP {status}, not MM7: {exc}", code="http") from None
        raise UncertainFailure(f"the MMSC's answer (HTTP {response.status_code}) is not MM7: {exc}",
                               code="mm7_answer") from None  # fmt: skip


def _status_of(answer: soap.Operation) -> soap.Status:
    if isinstance(answer, soap.Response | soap.Fault):
        return answer.status
    raise UncertainFailure(f"the MMSC answered with {type(answer).__name__}", code="mm7_answer")


def _failure(status: soap.Status) -> TemporaryFailure | PermanentFailure:
    reason = f"MMSC status {status.code} {status.text or status_text(status.code)}"
    if status.details:
        reason += f": {status.details}"
    if outcome(status.code) == "retry":
        return TemporaryFailure(reason, code=f"mm7_{status.code}")
    return PermanentFailure(reason, code=f"mm7_{status.code}")
