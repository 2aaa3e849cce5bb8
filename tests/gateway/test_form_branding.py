"""Administration → Send forms and → Webhooks through the app: an admin
edits a form's branding (title, colours, texts, channels, a logo checked by
its bytes and size) with CSRF, what is shown is escaped, others are refused;
parked webhook deliveries are listed with their error and retried."""

from __future__ import annotations

import io
import random
import re

from PIL import Image

from msghub.gateway import forms
from tests.gateway.test_send_form import PNG, _cli, image
from tests.web_admin.helpers import assert_inert, login, run, user

HOSTILE = '<script>alert("x")</script>'


def _form(db_url, slug="acme") -> None:
    user(db_url, "acme-owner")
    done = _cli(db_url, "form", "set", slug, "--title", "ACME", "--owner", "acme-owner", "--login", "kiosk")
    assert done.returncode == 0, done.stdout + done.stderr


def _fields(csrf: str, **changes: str | list[str]) -> dict[str, str | list[str]]:
    fields: dict[str, str | list[str]] = {
        "csrf_token": csrf, "title": "ACME Field Service", "intro": "Text an engineer.", "footer": "ACME Ltd.",
        "sent_text": "Thank you!", "colour": "#CC3300", "background": "#fff5f0", "channels": ["sms", "mms"]}
    fields.update(changes)
    return fields


def test_an_admin_brands_a_form_and_it_shows(db_url, db):
    _form(db_url)
    user(db_url, "root", role="admin")
    user(db_url, "mallory")

    async def scenario(client):
        csrf = await login(client, "root")
        index = await client.get("/admin/forms")
        page = await client.get("/admin/forms/acme")
        saved = await client.post("/admin/forms/acme", data=_fields(csrf),
                                  files={"logo": ("logo.png", PNG, "image/png")})
        after = await client.get("/admin/forms/acme?saved=1")
        public = await client.get("/g/acme")
        theme = await client.get("/g/acme/theme.css")
        logo = await client.get("/g/acme/logo")
        hostile = await client.post("/admin/forms/acme", data=_fields(csrf, title=HOSTILE, footer=HOSTILE))
        hostile_public = await client.get("/g/acme")
        hostile_admin = await client.get("/admin/forms/acme")
        no_csrf = await client.post("/admin/forms/acme", data=_fields("wrong", title="Taken"))
        return index, page, saved, after, public, theme, logo, hostile, hostile_public, hostile_admin, no_csrf

    index, page, saved, after, public, theme, logo, hostile, hostile_public, hostile_admin, no_csrf = run(
        db_url, scenario)
    assert index.status_code == 200 and 'href="/admin/forms/acme"' in index.text
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/forms/acme?saved=1"
    assert "Saved." in after.text and 'src="/g/acme/logo"' in after.text
    assert "ACME Field Service" in public.text and "ACME Ltd." in public.text and "Text an engineer." in public.text
    assert "#cc3300" in theme.text and "#fff5f0" in theme.text
    assert logo.content == PNG and logo.headers["content-type"] == "image/png"
    assert hostile.status_code == 303
    for html in (hostile_public.text, hostile_admin.text):
        assert HOSTILE not in html and "&lt;script&gt;" in html
        assert_inert(html)
    assert no_csrf.status_code == 403
    row = db.execute("SELECT title, channels, sent_text FROM hub.send_forms WHERE slug = 'acme'").fetchone()
    assert row == {"title": HOSTILE, "channels": ["sms", "mms"], "sent_text": "Thank you!"}
    audit = db.execute("SELECT actor, detail FROM hub.audit_log WHERE action = 'form.brand' ORDER BY id").fetchall()
    assert [a["detail"]["logo"] for a in audit] == ["new", "kept"] and audit[0]["actor"] == "root"


def test_a_logo_is_checked_by_its_bytes_and_size(db_url, db):
    _form(db_url)
    user(db_url, "root", role="admin")
    big = io.BytesIO()
    # noise does not compress: a PNG over the size limit
    Image.frombytes("RGB", (400, 400), random.Random(7).randbytes(400 * 400 * 3)).save(big, "PNG")
    assert len(big.getvalue()) > forms.MAX_LOGO_BYTES

    async def scenario(client):
        csrf = await login(client, "root")
        answers = {}
        for name, data in (("svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
                           ("fake_png", b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script>"),
                           ("big", big.getvalue()), ("jpeg", image("JPEG"))):
            answers[name] = await client.post("/admin/forms/acme", data=_fields(csrf),
                                              files={"logo": ("logo.png", data, "image/png")})
        answers["no_channel"] = await client.post("/admin/forms/acme", data=_fields(csrf, channels=[]))
        answers["bad_colour"] = await client.post("/admin/forms/acme", data=_fields(csrf, colour="red;}"))
        answers["removed"] = await client.post("/admin/forms/acme", data=_fields(csrf, remove_logo="1"))
        return answers

    answers = run(db_url, scenario)
    assert answers["svg"].status_code == 400 and "PNG, JPEG or GIF" in answers["svg"].text
    assert answers["fake_png"].status_code == 400 and "not a readable PNG" in answers["fake_png"].text
    assert answers["big"].status_code in (400, 413) and "256" in answers["big"].text
    assert answers["jpeg"].status_code == 303
    assert answers["no_channel"].status_code == 400 and "channels" in answers["no_channel"].text
    assert answers["bad_colour"].status_code == 400 and "is not a colour" in answers["bad_colour"].text
    assert answers["removed"].status_code == 303
    row = db.execute("SELECT logo, logo_type FROM hub.send_forms WHERE slug = 'acme'").fetchone()
    assert row == {"logo": None, "logo_type": None}


def test_only_admins_edit_branding(db_url, db):
    _form(db_url)
    user(db_url, "mallory")

    async def scenario(client):
        csrf = await login(client, "mallory")
        return (await client.get("/admin/forms/acme"),
                await client.post("/admin/forms/acme", data=_fields(csrf, title="Mine")),
                await client.get("/admin/webhooks"))

    page, post, hooks = run(db_url, scenario)
    assert page.status_code == 403 and post.status_code == 403 and hooks.status_code == 403
    assert db.execute("SELECT title FROM hub.send_forms").fetchone()["title"] == "ACME"


def test_parked_webhook_deliveries_show_their_error_and_are_retried(db_url, db):
    user(db_url, "root", role="admin")
    hook = db.execute("INSERT INTO hub.webhooks (url, events, secret) VALUES "
                      "('https://hooks.example/in?a=1&b=<2>', '{message_status}', 's') RETURNING id").fetchone()["id"]
    for error in ("HTTP 503 from https://hooks.example/in", "<b>timeout</b> after 10 s"):
        db.execute("INSERT INTO hub.webhook_deliveries (webhook_id, event, payload, status, attempts, last_error) "
                   "VALUES (%s, 'message_status', '{\"message\": {\"id\": 7}}', 'parked', 10, %s)", (hook, error))

    async def scenario(client):
        csrf = await login(client, "root")
        page = await client.get("/admin/webhooks")
        no_csrf = await client.post(f"/admin/webhooks/{hook}/retry", data={"csrf_token": "x"})
        retried = await client.post(f"/admin/webhooks/{hook}/retry", data={"csrf_token": csrf})
        after = await client.get(retried.headers["location"])
        return page, no_csrf, retried, after

    page, no_csrf, retried, after = run(db_url, scenario)
    assert page.status_code == 200
    parked = page.text.split('id="parked"', 1)[1]
    assert "HTTP 503 from https://hooks.example/in" in parked and "&lt;b&gt;timeout&lt;/b&gt; after 10 s" in parked
    assert 'href="/messages/7"' in parked and "<b>timeout" not in page.text
    assert re.search(r"<td>2</td>", page.text.split('id="webhooks"', 1)[1])  # two parked
    assert_inert(page.text)
    assert no_csrf.status_code == 403
    assert retried.status_code == 303 and "2 parked deliveries queued again" in after.text
    states = db.execute("SELECT status, attempts FROM hub.webhook_deliveries ORDER BY id").fetchall()
    assert states == [{"status": "pending", "attempts": 0}] * 2
    assert "No parked deliveries." in after.text
