"""The branded send forms through the app: strict CSP, the one-time token,
the per-address rate limit, allowed prefixes, the access code, logos checked
by their bytes, colours, and the template override directory."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys

import pytest
from PIL import Image

from msghub.gateway import forms
from tests.web_admin.helpers import run, user


def image(kind: str = "PNG", size: tuple[int, int] = (2, 2)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (204, 51, 0)).save(out, kind)
    return out.getvalue()


PNG = image()


def _cli(db_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "msghub.app.cli", *args], input=stdin, capture_output=True,
                          text=True, env={**os.environ, "MSGHUB_DATABASE_URL": db_url}, timeout=120)


def _token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


def test_logo_and_colour_checks():
    assert forms.logo_type(PNG) == "image/png"
    assert forms.logo_type(image("JPEG")) == "image/jpeg" and forms.logo_type(image("GIF")) == "image/gif"
    with pytest.raises(forms.FormError, match="PNG, JPEG or GIF"):
        forms.logo_type(b"<svg onload=alert(1)>")
    # the magic number alone is not enough: Pillow must read the whole image, as that format
    with pytest.raises(forms.FormError, match="not a readable JPEG"):
        forms.logo_type(b"\xff\xd8\xff\xe0<script>alert(1)</script>")
    with pytest.raises(forms.FormError, match="not a readable PNG"):
        forms.logo_type(PNG[: len(PNG) // 2])
    with pytest.raises(forms.FormError, match="pixels"):
        forms.logo_type(image("PNG", (5000, 4000)))
    with pytest.raises(forms.FormError, match="at most"):
        forms.logo_type(b"\x89PNG\r\n\x1a\n" + bytes(forms.MAX_LOGO_BYTES))
    assert forms.colour(" #A0B1C2 ") == "#a0b1c2"
    with pytest.raises(forms.FormError):
        forms.colour("red;}</style>")


def test_tokens_are_bound_and_expire():
    token = forms.new_token("s", "acme", "1.2.3.4", now=1000)
    assert forms.check_token("s", "acme", "1.2.3.4", token, now=1001)
    for secret, form, client, now in (("x", "acme", "1.2.3.4", 1001), ("s", "other", "1.2.3.4", 1001),
                                      ("s", "acme", "5.6.7.8", 1001), ("s", "acme", "1.2.3.4", 1000 + 3601)):
        with pytest.raises(forms.FormError):
            forms.check_token(secret, form, client, token, now=now)


def test_kiosk_form_sends_once_per_token_and_limits_an_address(db_url, db, tmp_path):
    db.execute("INSERT INTO hub.connections (name, kind, channels, enabled) VALUES ('loop', 'loopback', '{sms}', true)")
    owner = user(db_url, "acme-owner")
    logo = tmp_path / "logo.png"
    logo.write_bytes(PNG)
    done = _cli(db_url, "form", "set", "acme", "--title", "ACME Alerts", "--owner", "acme-owner", "--logo",
                str(logo), "--colour", "#cc3300", "--login", "kiosk", "--prefix", "+49", "--rate", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    bad_logo = tmp_path / "logo.svg"
    bad_logo.write_bytes(b"<svg/>")
    refused = _cli(db_url, "form", "set", "x", "--title", "X", "--owner", "acme-owner", "--logo", str(bad_logo),
                   "--login", "kiosk")
    assert refused.returncode == 2 and "PNG, JPEG or GIF" in refused.stdout

    async def scenario(client):
        page = await client.get("/g/acme")
        assert page.status_code == 200 and "ACME Alerts" in page.text
        csp = page.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "'unsafe-inline'" not in csp
        assert (await client.get("/g/acme/logo")).content == PNG
        assert "#cc3300" in (await client.get("/g/acme/theme.css")).text
        token = _token(page.text)
        sent = await client.post("/g/acme", data={"token": token, "to": "+4917012345", "text": "Hello"})
        assert sent.status_code == 200 and "Status:" in sent.text
        status_url = re.search(r'data-status-url="([^"]+)"', sent.text).group(1).replace("&amp;", "&")
        assert (await client.get(status_url)).json()["status"] in ("queued", "sending", "sent", "delivered")
        again = await client.post("/g/acme", data={"token": token, "to": "+4917012345", "text": "Hello"})
        assert again.status_code == 429
        outside = await client.post("/g/acme", data={"token": _token(page.text), "to": "+3312345", "text": "x"})
        assert outside.status_code == 400 and "cannot send to that number" in outside.text
        forged = await client.post("/g/acme", data={"token": "1.2.3", "to": "+4917012345", "text": "x"})
        assert forged.status_code == 403
        second = await client.post("/g/acme", data={"token": _token((await client.get("/g/acme")).text),
                                                    "to": "+4917012346", "text": "Two"})
        assert second.status_code == 200
        third = await client.post("/g/acme", data={"token": _token((await client.get("/g/acme")).text),
                                                   "to": "+4917012347", "text": "Three"})
        assert third.status_code == 429  # two per address and hour
        assert (await client.get("/g/nosuch")).status_code == 404

    run(db_url, scenario)
    rows = db.execute("SELECT recipients[1] AS r, owner_user_id FROM hub.messages ORDER BY id").fetchall()
    assert [r["r"] for r in rows] == ["+4917012345", "+4917012346"] and {r["owner_user_id"] for r in rows} == {owner}


def test_code_login_and_template_override(db_url, db, tmp_path, monkeypatch):
    db.execute("INSERT INTO hub.connections (name, kind, channels, enabled) VALUES ('loop', 'loopback', '{sms}', true)")
    user(db_url, "owner")
    assert _cli(db_url, "form", "set", "desk", "--title", "Front desk", "--owner", "owner", "--code-stdin",
                stdin="open sesame\n").returncode == 0
    override = tmp_path / "templates"
    override.mkdir()
    (override / "form.html").write_text("<p>Our own {{ form.title }} <input name=token value={{ token }}></p>")
    monkeypatch.setenv("MSGHUB_FORM_TEMPLATES", str(override))

    async def scenario(client):
        page = await client.get("/g/desk")
        assert page.text.startswith("<p>Our own Front desk")
        token = re.search(r"value=([^>\s]+)>", page.text).group(1)
        wrong = await client.post("/g/desk", data={"token": token, "to": "+4917012345", "text": "x", "code": "no"})
        assert wrong.status_code == 403
        right = await client.post("/g/desk", data={"token": token, "to": "+4917012345", "text": "x",
                                                   "code": "open sesame"})
        assert right.status_code == 200

    run(db_url, scenario)
    assert db.execute("SELECT count(*) AS n FROM hub.messages").fetchone()["n"] == 1


def test_api_key_rate_limit_answers_429_with_retry_after(db_url, db, monkeypatch):
    from msghub.gateway.throttle import RateLimit
    from msghub.web.pages import api

    monkeypatch.setattr(api, "_key_rate", RateLimit(3))
    from tests.web_admin.helpers import api_key

    key = api_key(db_url, user(db_url, "busy"))

    async def scenario(client):
        return [await client.get("/api/v1/messages", headers={"Authorization": f"Bearer {key}"}) for _ in range(4)]

    answers = run(db_url, scenario)
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[3].json()["error"]["code"] == "rate_limited" and 1 <= int(answers[3].headers["retry-after"]) <= 60
