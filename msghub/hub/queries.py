"""Named SQL queries, kept in .sql files beside the code that runs them.

The convention, the same for every package: a file `<area>_queries.sql`
(the kernel's is hub/queries.sql) holds blocks that start with a line
``-- name: some_query`` followed by the SQL; the package's queries.py loads
it once as ``<AREA>_QUERIES = Queries.beside(__file__, "<area>_queries.sql")``
(the kernel's: ``QUERIES``). Code asks for ``X_QUERIES["some_query"]``, or,
where it reads rows, for them typed: ``await X_QUERIES.one(tx, "some_query",
SomeRow, params)`` with SomeRow a TypedDict of the columns. SQL stays in
.sql files where it can be read and reviewed as SQL; tests/test_queries.py
fails when a named query is unused or a used name is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, LiteralString, TypeVar, cast

from msghub.hub.db import Tx

_HEADER = re.compile(r"^-- name: ([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)

R = TypeVar("R")
Params = Mapping[str, Any] | Sequence[Any] | None


class Queries(Mapping[str, LiteralString]):
    """The named queries of one .sql file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        text = path.read_text(encoding="utf-8")
        self._queries: dict[str, LiteralString] = {}
        pieces = _HEADER.split(text)
        # pieces: [preamble, name1, body1, name2, body2, ...]
        for name, body in zip(pieces[1::2], pieces[2::2], strict=True):
            if name in self._queries:
                raise ValueError(f"{path}: query {name!r} defined twice")
            # a trusted file shipped with the code, not input: safe as LiteralString
            self._queries[name] = cast(LiteralString, body.strip())

    @classmethod
    def beside(cls, module_file: str, filename: str) -> Queries:
        """The queries of `filename` in the directory of the module `module_file` (its __file__)."""
        return cls(Path(module_file).resolve().with_name(filename))

    def __getitem__(self, name: str) -> LiteralString:
        try:
            return self._queries[name]
        except KeyError:
            raise KeyError(f"no query {name!r} in {self.path.name}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._queries)

    def __len__(self) -> int:
        return len(self._queries)

    async def one(self, tx: Tx, name: str, row: type[R], params: Params = None) -> R | None:
        """The first row of query `name`, typed as `row` (a TypedDict of its columns); None without one."""
        found = await (await tx.execute(self[name], params)).fetchone()
        return None if found is None else cast(R, found)

    async def all(self, tx: Tx, name: str, row: type[R], params: Params = None) -> list[R]:
        """Every row of query `name`, typed as `row`."""
        return cast(list[R], await (await tx.execute(self[name], params)).fetchall())

    async def run(self, tx: Tx, name: str, params: Params = None) -> int:
        """Runs query `name` for its effect; returns how many rows it touched."""
        return (await tx.execute(self[name], params)).rowcount


def load_queries(path: Path) -> Queries:
    """The queries of the .sql file at path (Queries(path); kept for callers of old)."""
    return Queries(path)


QUERIES = Queries.beside(__file__, "queries.sql")
