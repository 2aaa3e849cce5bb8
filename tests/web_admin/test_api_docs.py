"""docs/API.md cannot fall behind the API: every route, request field and
error code is documented."""

from __future__ import annotations

import re
from pathlib import Path

from msghub.web.pages import api

DOC = (Path(__file__).resolve().parents[2] / "docs" / "API.md").read_text()


def test_every_route_is_documented():
    for route in api.routes:
        path = route.path.replace("{message_id:int}", "{id}")
        for method in sorted(route.methods - {"HEAD"}):
            assert f"{method} {path}" in DOC or f"`{method} {path}" in DOC, (method, path)


def test_every_request_field_is_documented():
    for field in api.KNOWN_FIELDS:
        assert f"| `{field}` |" in DOC, field


def test_every_error_code_is_documented():
    source = Path(api.__file__).read_text()
    codes = set(re.findall(r'ApiFailure\(\s*\d+,\s*"([a-z_]+)"', source))
    assert codes >= {"unauthorized", "invalid", "refused", "conflict"}
    for code in codes:
        assert f"`{code}`" in DOC, code


def test_every_declared_operation_and_its_fields_are_documented():
    from msghub.web.pages.openapi import DECLARED

    for op in DECLARED:
        assert f"{op.method} {op.document_path}" in DOC, (op.method, op.document_path)
        for field in (*op.query, *(op.body or ())):
            assert f"| `{field.name}` |" in DOC, (op.operation_id, field.name)
        assert f"`{op.scope}`" in DOC


def test_the_error_codes_of_the_declared_operations_are_documented():
    pages = Path(api.__file__).parent
    sources = [pages.parent / "api_fields.py", *pages.glob("api_*.py")]
    codes = {c for path in sources for c in re.findall(r'ApiFailure\(\s*\d+,\s*"([a-z_]+)"', path.read_text())}
    assert "unknown_field" in codes
    for code in codes:
        assert f"`{code}`" in DOC, code
