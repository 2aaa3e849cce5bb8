"""Validates MM7 envelopes against tests/mm7/mm7-operations.xsd (see its header)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import xmlschema

from msghub.connectors.mm7.status import SOAP_ENV, namespace

XSD = Path(__file__).with_name("mm7-operations.xsd")


@cache
def schema_for(version: str) -> xmlschema.XMLSchema:
    text = XSD.read_text("utf-8").replace("TARGET_NAMESPACE", namespace(version))
    return xmlschema.XMLSchema(text)


def validate_envelope(data: bytes, version: str) -> str:
    """Checks the SOAP frame and validates the MM7 payload; returns the payload's name."""
    root = ET.fromstring(data)
    assert root.tag == f"{{{SOAP_ENV}}}Envelope"
    header, body = list(root)
    assert header.tag == f"{{{SOAP_ENV}}}Header" and body.tag == f"{{{SOAP_ENV}}}Body"
    (transaction,) = list(header)
    assert transaction.tag == f"{{{namespace(version)}}}TransactionID"
    assert transaction.get(f"{{{SOAP_ENV}}}mustUnderstand") == "1" and transaction.text
    payload = body[0]
    if payload.tag == f"{{{SOAP_ENV}}}Fault":
        assert [child.tag for child in payload] == ["faultcode", "faultstring", "detail"]
        payload = payload.find("detail")[0]  # type: ignore[index]
    schema_for(version).validate(ET.tostring(payload))
    return payload.tag.rsplit("}", 1)[-1]
