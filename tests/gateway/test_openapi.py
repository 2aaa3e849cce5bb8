"""The OpenAPI 3.1 document: a valid document, every API route in it with
its methods, and the request examples of docs/API.md valid against it and
accepted by the API itself."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import httpx
import jsonschema
from openapi_spec_validator import validate

from msghub.web.app import page_routes
from msghub.web.pages.openapi import document
from tests.gateway.test_sendsms_e2e import _free_port
from tests.hubproc import start_hub, stop_hub, wait_for
from tests.web_admin.helpers import api_key, user

DOC = (Path(__file__).resolve().parents[2] / "docs" / "API.md").read_text()


def test_the_document_is_valid_openapi_3_1():
    spec = document()
    assert spec["openapi"] == "3.1.0"
    validate(spec)  # type: ignore[arg-type]
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_every_route_is_in_it():
    paths = document()["paths"]
    seen = 0
    for route in page_routes():
        path = getattr(route, "path", "")
        if not path.startswith(("/api/", "/cgi-bin/")):
            continue
        documented = re.sub(r"\{(\w+):int\}", r"{\1}", path)
        assert documented in paths, path
        for method in getattr(route, "methods", set()) - {"HEAD"}:
            assert method.lower() in paths[documented], (method, path)
            seen += 1
    assert seen >= 25


def _blocks() -> list[str]:
    return re.findall(r"```sh\n(.*?)```", DOC, re.S)


def test_the_send_examples_match_the_document():
    bodies = [json.loads(b.split("-d '", 1)[1].split("'", 1)[0]) for b in _blocks()
              if "/api/v1/messages" in b and "-d '" in b]
    assert bodies
    for body in bodies:
        jsonschema.validate(body, document()["components"]["schemas"]["SendRequest"])


def test_every_example_of_the_docs_runs_against_a_hub(db_url, db, tmp_path):
    """Each ```sh block of docs/API.md, run by bash with curl against a hub
    process; every answer it prints is JSON without an error."""
    db.execute("INSERT INTO hub.connections (name, kind, channels, enabled) "
               "VALUES ('smsc', 'loopback', '{sms,mms,email}', true)")
    db.execute("ALTER TABLE hub.messages ALTER COLUMN id RESTART WITH 1001")  # the examples' ids
    alice = user(db_url, "alice")
    key = api_key(db_url, alice, ("send", "read", "contacts"))
    # the poll the results example reads: lunch, two votes for pizza, one for soup
    poll = db.execute("INSERT INTO hub.polls (name, question, owner_user_id) VALUES ('lunch', 'Pizza or soup?', %s) "
                      "RETURNING id", (alice,)).fetchone()["id"]
    for position, label, votes in ((1, "pizza", 2), (2, "soup", 1)):
        option = db.execute("INSERT INTO hub.poll_options (poll_id, position, label, keywords) VALUES (%s, %s, %s, %s) "
                            "RETURNING id", (poll, position, label, [label])).fetchone()["id"]
        for n in range(votes):
            db.execute("INSERT INTO hub.poll_votes (poll_id, option_id, sender, voter_key) VALUES (%s, %s, %s, %s)",
                       (poll, option, f"+49170{position}{n}", f"{position}{n}"))
    # a real JPEG's first bytes: the MMS example attaches site.jpg
    (tmp_path / "site.jpg").write_bytes(bytes.fromhex("ffd8ffe000104a46494600010100000100010000ffd9"))
    port = _free_port()
    hub = start_hub(db_url, roles="web", MSGHUB_HTTP_PORT=str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(base), what="the web server")
        ran = checked = 0
        for block in _blocks():
            if "localhost:8080" not in block:
                continue
            # the reader's own key stands where the page shows a made-up one
            script = re.sub(r"^export MSGHUB_KEY=.*$", "", block, flags=re.M).replace("http://localhost:8080", base)
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True,
                                  text=True, timeout=60, env={**os.environ, "MSGHUB_KEY": key})
            assert done.returncode == 0, (block, done.stderr)
            lines = [json.loads(line) for line in done.stdout.splitlines() if line]
            for answer in lines:
                assert "error" not in answer, (block, answer)
            schema = _answer_schema(block)
            if schema is not None and lines:
                # the document describes what the API answered
                jsonschema.validate(lines[-1], schema)
                checked += 1
            ran += 1
    finally:
        assert stop_hub(hub) == 0
    assert ran >= 14 and checked >= 10
    assert db.execute("SELECT status FROM hub.messages WHERE id = 1001").fetchone()["status"] == "failed"  # cancelled
    assert db.execute("SELECT count(*) AS n FROM hub.webhooks").fetchone()["n"] == 1
    # the multipart example queued an MMS with the picture; the contact is on the list
    assert db.execute("SELECT count(*) AS n FROM hub.message_parts WHERE filename = 'site.jpg'").fetchone()["n"] == 3
    assert db.execute("SELECT count(*) AS n FROM hub.list_members").fetchone()["n"] == 1


def _answer_schema(block: str) -> dict | None:
    """The success answer's schema of the one operation a block calls, with
    the document's components for its $refs; None for blocks that call
    several or reshape the answer (jq)."""
    commands = [c for c in block.replace("\\\n", " ").splitlines() if c.strip().startswith(("curl", "page=$(curl"))]
    if len(commands) != 1 or "jq" in block:
        return None
    command = commands[0]
    method = (re.search(r"-X (\w+)", command) or re.search(r"()", command)).group(1) or (
        "POST" if re.search(r" -[dF] ", command) else "GET")
    path = re.search(r"localhost:8080(/[^\s\"'?]*)", command).group(1)
    spec = document()
    for template, item in spec["paths"].items():
        if re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", template), path) and method.lower() in item:
            responses = item[method.lower()]["responses"]
            ok = next(v for k, v in responses.items() if k.startswith("2"))
            if "content" not in ok:
                return None
            return {**ok["content"]["application/json"]["schema"], "components": spec["components"]}
    raise AssertionError(f"{method} {path} is not in the document")


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_field_the_validator_refuses_is_not_in_the_document():
    props = document()["components"]["schemas"]["SendRequest"]["properties"]
    assert "recipient" not in props and "to" in props
