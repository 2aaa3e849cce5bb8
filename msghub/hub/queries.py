"""Named SQL queries, kept in queries.sql beside this module.

The file holds blocks that start with a line ``-- name: some_query`` followed
by the SQL; code asks for ``QUERIES["some_query"]``. SQL stays in .sql files
where it can be read and reviewed as SQL.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import LiteralString, cast

_HEADER = re.compile(r"^-- name: ([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def load_queries(path: Path) -> dict[str, LiteralString]:
    text = path.read_text(encoding="utf-8")
    queries: dict[str, LiteralString] = {}
    pieces = _HEADER.split(text)
    # pieces: [preamble, name1, body1, name2, body2, ...]
    for name, body in zip(pieces[1::2], pieces[2::2], strict=True):
        if name in queries:
            raise ValueError(f"{path}: query {name!r} defined twice")
        # a trusted file shipped with the code, not input: safe as LiteralString
        queries[name] = cast(LiteralString, body.strip())
    return queries


QUERIES = load_queries(Path(__file__).with_name("queries.sql"))
