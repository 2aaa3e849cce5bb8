"""A small XML writer (deterministic output, namespaces as MM7 peers expect)
and a guarded reader for what arrives from the network."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from msghub.connectors.mm7.errors import MESSAGE_FORMAT_CORRUPT, Mm7Error

MAX_XML_BYTES = 1_000_000  # an MM7 envelope is a few kilobytes; its content travels as attachments


@dataclass
class Node:
    """An element to write: `tag` may carry a prefix ("env:Body")."""

    tag: str
    text: str | None = None
    children: list[Node] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)

    def add(self, tag: str, text: str | None = None, **attrs: str) -> Node:
        child = Node(tag, text, attrs=attrs)
        self.children.append(child)
        return child

    def opt(self, tag: str, value: object) -> None:
        """Adds <tag>value</tag> unless value is None."""
        if value is not None:
            self.add(tag, _text(value))


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write(node: Node) -> str:
    parts: list[str] = []
    _write(node, parts)
    return "".join(parts)


def _write(node: Node, out: list[str]) -> None:
    attrs = "".join(f" {name}={quoteattr(value)}" for name, value in node.attrs.items())
    if node.text is None and not node.children:
        out.append(f"<{node.tag}{attrs}/>")
        return
    out.append(f"<{node.tag}{attrs}>")
    if node.text is not None:
        out.append(escape(node.text))
    for child in node.children:
        _write(child, out)
    out.append(f"</{node.tag}>")


# --- reading --------------------------------------------------------------------


def parse(data: bytes) -> ET.Element:
    """Parses untrusted XML: no DTD (so no entity expansion), bounded size."""
    if len(data) > MAX_XML_BYTES:
        raise Mm7Error(f"SOAP envelope of {len(data)} bytes is too large", MESSAGE_FORMAT_CORRUPT)
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Mm7Error("SOAP envelope carries a DTD, which MM7 does not allow", MESSAGE_FORMAT_CORRUPT)
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise Mm7Error(f"SOAP envelope is not well-formed XML: {exc}", MESSAGE_FORMAT_CORRUPT) from None


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def ns_of(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def child(parent: ET.Element, name: str) -> ET.Element | None:
    """The first child with this local name, whatever its namespace (peers differ)."""
    for item in parent:
        if local(item.tag) == name:
            return item
    return None


def children(parent: ET.Element, name: str) -> list[ET.Element]:
    return [item for item in parent if local(item.tag) == name]


def text(parent: ET.Element, name: str) -> str | None:
    found = child(parent, name)
    if found is None:
        return None
    return (found.text or "").strip()


def attr(element: ET.Element, name: str) -> str | None:
    """An attribute by local name (href comes both plain and namespaced)."""
    for key, value in element.attrib.items():
        if local(key) == name:
            return value
    return None
