"""A received MMS on its page: slides in the order of its SMIL (pictures,
sound and text where the SMIL puts them), what no slide shows as a
download, hostile parts never inline, and the SMIL reader on its own."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser

from msghub.mms.smil import Item, Slide, slides, src_key
from tests.web.webkit import login, make_user, run_app

JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
AMR = b"#!AMR\n" + b"\x02" * 32
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
SMIL = (b'<?xml version="1.0"?><!DOCTYPE smil><smil xmlns="http://www.w3.org/2001/SMIL20/Language"><head/><body>'
        b'<par dur="4s"><img src="cid:beach" region="Image"/><text src="cid:greeting"/></par>'
        b'<par dur="2500ms"><audio src="sea.amr"/></par>'
        b'<par><img src="cid:%3Clogo%3E"/><img src="cid:hat"/></par>'
        b'</body></smil>')  # fmt: skip


class _Slides(HTMLParser):
    """[(slide number, [(tag, src or text)])] of the page's #slides."""

    def __init__(self) -> None:
        super().__init__()
        self.slides: list[tuple[str, list[tuple[str, str]]]] = []
        self._in_pre = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "li" and a.get("data-slide"):
            self.slides.append((str(a["data-slide"]), []))
        elif self.slides and tag in ("img", "audio", "video"):
            self.slides[-1][1].append((tag, str(a.get("src"))))
        elif self.slides and tag == "pre":
            self._in_pre = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "ol" and self.slides:
            self._done = True
        self._in_pre = self._in_pre and tag != "pre"

    def handle_data(self, data: str) -> None:
        if self._in_pre and self.slides and not getattr(self, "_done", False):
            self.slides[-1][1].append(("text", data))


def _mms(db, owner: int) -> tuple[int, dict[str, int]]:
    parts = [("application/smil", "s.smil", "smil", SMIL), ("audio/amr", "sea.amr", "sea", AMR),
             ("image/png", "logo.png", "logo", PNG), ("text/plain", "t.txt", "greeting", "Grüße <b>".encode()),
             ("image/jpeg", "beach.jpg", "beach", JPEG), ("image/svg+xml", "hat.svg", "hat", SVG),
             ("application/pdf", "menu.pdf", "menu", b"%PDF-1.4")]  # fmt: skip
    data = [{"content_type": ct, "filename": fn, "content_id": cid, "data": base64.b64encode(d).decode()}
            for ct, fn, cid, d in parts]  # fmt: skip
    db.execute("INSERT INTO hub.connections (name, kind, channels) VALUES ('op', 'loopback', '{sms,mms,email}')")
    mid = db.execute("SELECT hub.receive_message_v1(1, 'mms', '+15550123', '{1234}', 'Holiday', 'Grüße <b>', "
                     "'{}', %s) AS id", (json.dumps(data),)).fetchone()["id"]  # fmt: skip
    db.execute("UPDATE hub.messages SET owner_user_id = %s WHERE id = %s", (owner, mid))
    ids = {r["filename"]: r["id"] for r in db.execute("SELECT id, filename FROM hub.message_parts "
                                                       "WHERE message_id = %s", (mid,))}  # fmt: skip
    return int(mid), ids


def test_slides_follow_the_smil_and_the_rest_are_downloads(db_url, db):
    alice = make_user(db_url, "alice", role="user")
    mid, ids = _mms(db, alice)

    async def scenario(client):
        await login(client)
        page = await client.get(f"/messages/{mid}")
        audio = await client.get(f"/messages/{mid}/parts/{ids['sea.amr']}?inline=1")
        hat = await client.get(f"/messages/{mid}/parts/{ids['hat.svg']}?inline=1")
        return page, audio, hat

    page, audio, hat = run_app(db_url, scenario)
    assert page.status_code == 200
    parser = _Slides()
    parser.feed(page.text)
    url = lambda name: f"/messages/{mid}/parts/{ids[name]}?inline=1"  # noqa: E731
    assert parser.slides == [
        ("1", [("img", url("beach.jpg")), ("text", "Grüße <b>")]),
        ("2", [("audio", url("sea.amr"))]),
        ("3", [("img", url("logo.png"))]),  # the SVG the SMIL names is no slide: never inline
    ]
    assert "Slide 1 of 3" in page.text and "(4 s)" in page.text and "(2.5 s)" in page.text
    others = page.text.split("Other parts", 1)[1]
    for name in ("s.smil", "hat.svg", "menu.pdf"):
        assert f'href="/messages/{mid}/parts/{ids[name]}" download' in others
    assert f'<img src="/messages/{mid}/parts/{ids["hat.svg"]}' not in page.text
    assert "Grüße &lt;b&gt;" in page.text and "Grüße <b>" not in page.text
    assert page.text.count("Grüße &lt;b&gt;") == 1  # on its slide, not again as the body
    assert (audio.headers["content-type"], audio.headers["x-content-type-options"]) == ("audio/amr", "nosniff")
    assert hat.headers["content-type"] == "application/octet-stream"
    assert hat.headers["content-disposition"].startswith("attachment;")


def test_an_mms_without_a_readable_smil_shows_a_slide_per_part(db_url, db):
    alice = make_user(db_url, "alice", role="user")
    mid, _ = _mms(db, alice)
    db.execute("UPDATE hub.message_parts SET data = 'not <smil' WHERE filename = 's.smil'")

    async def scenario(client):
        await login(client)
        return await client.get(f"/messages/{mid}")

    html = run_app(db_url, scenario).text
    parser = _Slides()
    parser.feed(html)
    shown = [item for _, items in parser.slides for item in items]
    assert [tag for tag, _ in shown] == ["audio", "img", "text", "img"]  # stored order, SVG and PDF left out
    assert re.search(r"Slide 4 of 4", html)


def test_the_smil_reader() -> None:
    assert slides(SMIL) == [Slide(4000, (Item("image", "cid:beach"), Item("text", "cid:greeting"))),
                            Slide(2500, (Item("audio", "sea.amr"),)),
                            Slide(None, (Item("image", "cid:%3Clogo%3E"), Item("image", "cid:hat")))]  # fmt: skip
    assert src_key("cid:%3CLogo%3E") == "logo" and src_key(" CID:<a@b> ") == "a@b"
    bare = b'<smil><body><img src="a.jpg" dur="3s"/><audio src="b.amr"/></body></smil>'
    assert slides(bare) == [Slide(3000, (Item("image", "a.jpg"),)), Slide(None, (Item("audio", "b.amr"),))]
    bomb = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
            b'<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
            b'<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]>'
            b'<smil><body><par><text src="&h;"/></par></body></smil>')  # fmt: skip
    assert slides(bomb) == []  # expat refuses the expansion
    external = b'<!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><smil><body><img src="&x;"/></body></smil>'
    assert all("root" not in item.src for s in slides(external) for item in s.items)
    assert slides(b"<smil") == [] and slides(b"<smil/>") == [] and slides(b" " * 70000) == []
