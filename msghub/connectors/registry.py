"""The connection kinds msghub knows, by name."""

from __future__ import annotations

from msghub.connectors.base import Connector
from msghub.connectors.emi.connector import EmiConnector
from msghub.connectors.loopback import LoopbackConnector
from msghub.connectors.pop3.connector import Pop3Connector
from msghub.connectors.smtp.connector import SmtpConnector
from msghub.errors import ConfigError

KINDS: dict[str, type[Connector]] = {
    LoopbackConnector.kind: LoopbackConnector,
    EmiConnector.kind: EmiConnector,
    SmtpConnector.kind: SmtpConnector,
    Pop3Connector.kind: Pop3Connector,
}


def kind_class(kind: str) -> type[Connector]:
    try:
        return KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(KINDS))
        raise ConfigError(f"unknown connection kind {kind!r} (known kinds: {known})") from None
