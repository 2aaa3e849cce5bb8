"""The inbound route's Basic and Digest checks (RFC 2617), nonces included."""

import base64
import hashlib
import re
import xml.etree.ElementTree as ET

from msghub.connectors.base import Attachment
from msghub.connectors.mm7 import httpauth
from msghub.connectors.mm7.content import media_parts


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _digest(challenge: str, user: str, password: str, method: str = "POST", uri: str = "/mm7/op") -> str:
    nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)  # type: ignore[union-attr]
    ha1, ha2 = _md5(f"{user}:{httpauth.REALM}:{password}"), _md5(f"{method}:{uri}")
    response = _md5(f"{ha1}:{nonce}:00000001:abc:auth:{ha2}")
    return (f'Digest username="{user}", realm="{httpauth.REALM}", nonce="{nonce}", uri="{uri}", qop=auth, '
            f'nc=00000001, cnonce="abc", response="{response}"')  # fmt: skip


def test_basic() -> None:
    good = "Basic " + base64.b64encode(b"mmsc:pw").decode()
    assert httpauth.check("basic", good, "mmsc", "pw", "POST")
    assert not httpauth.check("basic", "Basic " + base64.b64encode(b"mmsc:no").decode(), "mmsc", "pw", "POST")
    assert not httpauth.check("basic", "Basic !!!", "mmsc", "pw", "POST")
    assert not httpauth.check("basic", None, "mmsc", "pw", "POST")
    assert not httpauth.check("digest", good, "mmsc", "pw", "POST")  # the scheme asked for, not another


def test_digest_and_its_nonces() -> None:
    challenge = httpauth.challenge("digest", "pw", now=1_000_000)
    header = _digest(challenge, "mmsc", "pw")
    assert httpauth.check("digest", header, "mmsc", "pw", "POST", now=1_000_010)
    assert not httpauth.check("digest", header, "mmsc", "pw", "GET", now=1_000_010)  # another method
    assert not httpauth.check("digest", _digest(challenge, "mmsc", "no"), "mmsc", "pw", "POST", now=1_000_010)
    assert not httpauth.check("digest", header, "mmsc", "pw", "POST", now=1_000_000 + httpauth.NONCE_LIFETIME_S + 1)
    forged = header.replace('nonce="1000000.', 'nonce="1000005.')
    assert not httpauth.check("digest", forged, "mmsc", "pw", "POST", now=1_000_010)
    # a nonce one node issued is good on another: it is derived from the password, not kept
    other = httpauth.challenge("digest", "pw", now=1_000_000)
    assert re.search(r'nonce="([^"]+)"', other).group(1) in header  # type: ignore[union-attr]


def test_the_generated_smil_is_xml_and_names_every_medium() -> None:
    parts, start = media_parts("hi", (Attachment("image/png", b"\x89PNG\r\n\x1a\n", "a.png"),
                                      Attachment("audio/amr", b"#!AMR\n", "b.amr"),
                                      Attachment("application/pdf", b"%PDF-1.4", "c.pdf")))  # fmt: skip
    assert start == "smil" and parts[0].content_id == "smil"
    smil = ET.fromstring(parts[0].data)
    sources = [element.get("src") for element in smil.iter() if element.get("src")]
    assert sources == ["cid:text0", "cid:part1", "cid:part2"]  # the PDF travels, but is not a slide
    assert [p.content_id for p in parts] == ["smil", "text0", "part1", "part2", "part3"]
