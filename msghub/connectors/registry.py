"""The connection kinds msghub knows, by name.

The built-in kinds are listed here; any installed distribution can add a
kind through the entry point group ``msghub.connectors`` (in its
pyproject.toml: ``[project.entry-points."msghub.connectors"]``,
``<kind> = "package.module:ConnectorClass"``). msghub's own kinds are
declared there too, and listed here as well, so that they are found from
a source tree that was never installed.
"""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint, entry_points

from msghub.connectors.base import Connector
from msghub.connectors.emi.connector import EmiConnector
from msghub.connectors.loopback import LoopbackConnector
from msghub.connectors.mm7.connector import Mm7Connector
from msghub.connectors.modem.connector import ModemConnector
from msghub.connectors.pop3.connector import Pop3Connector
from msghub.connectors.smtp.connector import SmtpConnector
from msghub.errors import ConfigError

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "msghub.connectors"

KINDS: dict[str, type[Connector]] = {
    LoopbackConnector.kind: LoopbackConnector,
    EmiConnector.kind: EmiConnector,
    Mm7Connector.kind: Mm7Connector,
    ModemConnector.kind: ModemConnector,
    SmtpConnector.kind: SmtpConnector,
    Pop3Connector.kind: Pop3Connector,
}


def load_entry_point(entry: EntryPoint) -> type[Connector]:
    """The connector class an entry point names; ConfigError when it is not one."""
    try:
        cls = entry.load()
    except Exception as exc:  # a broken third-party package must not stop the hub
        raise ConfigError(f"connector entry point {entry.name} = {entry.value}: cannot load: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConfigError(f"connector entry point {entry.name} = {entry.value}: not a Connector class")
    if cls.kind != entry.name:
        raise ConfigError(f"connector entry point {entry.name} = {entry.value}: the class says kind {cls.kind!r}")
    return cls


def discover(group: str = ENTRY_POINT_GROUP) -> dict[str, type[Connector]]:
    """The kinds installed distributions declare; a broken one is logged and left out."""
    found: dict[str, type[Connector]] = {}
    for entry in entry_points(group=group):
        if entry.name in found:
            continue  # the first distribution on the path wins, as for imports
        try:
            found[entry.name] = load_entry_point(entry)
        except ConfigError as exc:
            log.warning("%s", exc)
    return found


def merged(built_in: dict[str, type[Connector]], installed: dict[str, type[Connector]]) -> dict[str, type[Connector]]:
    """Built-in kinds win over installed ones of the same name: an installed
    msghub (from another tree) declares the same kinds, and this tree's
    classes are the ones to run."""
    return {**installed, **built_in}


KINDS.update(merged(dict(KINDS), discover()))


def kind_class(kind: str) -> type[Connector]:
    try:
        return KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(KINDS))
        raise ConfigError(f"unknown connection kind {kind!r} (known kinds: {known})") from None
