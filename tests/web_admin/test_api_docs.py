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
