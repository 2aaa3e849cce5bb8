"""The hub's pool remembers the database's resource errors (a full disk,
no memory) for /readyz, whoever caught them afterwards; other errors it
leaves alone. Against a real PostgreSQL raising the SQLSTATEs itself."""

from __future__ import annotations

import asyncio

import psycopg
import psycopg.errors
import pytest

from msghub.app.runtime import make_pool
from msghub.hub.db import RESOURCE_ERRORS, ResourceErrors

RAISE = "DO $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '{}'; END $$"


async def _raise_in_pool(url: str, sqlstate: str) -> None:
    pool = make_pool(url, max_size=2)
    await pool.open()
    try:
        with pytest.raises(psycopg.Error):
            async with pool.connection() as conn:
                await conn.execute(RAISE.format(sqlstate))  # type: ignore[arg-type]
    finally:
        await pool.close()


def test_a_resource_error_through_the_pool_is_remembered(db_url):
    errors = ResourceErrors()
    assert errors.recent() is None
    RESOURCE_ERRORS.clear()  # what earlier tests of this process noted
    asyncio.run(_raise_in_pool(db_url, "22023"))  # invalid parameter: the caller's fault, not the database's
    assert RESOURCE_ERRORS.recent() is None
    asyncio.run(_raise_in_pool(db_url, "53100"))  # disk_full
    refused = RESOURCE_ERRORS.recent()
    assert refused is not None
    age, error = refused
    assert 0 <= age < 30 and error.startswith("DiskFull: ") and "No space left on device" in error
    assert RESOURCE_ERRORS.recent(window_s=-1) is None  # older than the window: forgotten


def test_only_resource_classes_count():
    errors = ResourceErrors()
    for sqlstate, counted in (("53200", True), ("58030", True), ("40001", False), ("08006", False)):
        errors.clear()
        errors.note(psycopg.errors.lookup(sqlstate)("x"))
        assert (errors.recent() is not None) is counted, sqlstate
    errors.clear()
    errors.note(OSError("not from the database"))
    assert errors.recent() is None
