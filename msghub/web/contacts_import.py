"""Importing a contacts file in the background, in batches, with progress.

The upload is saved to a temporary file; a task of the web process parses it
(msghub.contacts.contacts_io, in a thread so the event loop keeps serving) and
stores a batch of contacts per transaction as the importing user, so
row-level security applies. Each transaction also records the progress in
hub.contact_imports, which the import page polls. Duplicates (same phone, or
same e-mail ignoring case, with the same owner) are updated or skipped, in
the file and against the address book.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import IO

from msghub.contacts.contacts_io import ContactRecord, ContactsFormatError, Parsed, RecordError, parse
from msghub.hub.db import Pool
from msghub.web.common import as_user
from msghub.web.queries import ADMIN_QUERIES

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
MAX_ERRORS_KEPT = 200

# running imports, referenced so they are not garbage-collected mid-way
_TASKS: set[asyncio.Task[None]] = set()


@dataclass(frozen=True)
class ImportJob:
    id: int
    user_id: int
    owner_user_id: int | None
    owner_group_id: int | None
    format: str
    on_duplicate: str  # update or skip
    path: str


class _CountingLines:
    """Iterates a binary file's lines and counts the bytes handed out."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.done = 0

    def __iter__(self) -> Iterator[bytes]:
        for line in self.file:
            self.done += len(line)
            yield line


def _keys(record: ContactRecord) -> list[str]:
    keys = []
    if record.phone:
        keys.append("p:" + record.phone)
    if record.email:
        keys.append("e:" + record.email.lower())
    return keys


def merge_batch(records: list[ContactRecord], on_duplicate: str) -> tuple[list[ContactRecord], int]:
    """Folds records of one batch that share a phone or an e-mail into the
    first of them; returns the records and how many were folded. With
    'update' later rows fill in and override, with 'skip' they are dropped."""
    out: list[ContactRecord] = []
    index: dict[str, int] = {}
    folded = 0
    for record in records:
        keys = _keys(record)
        hit = next((index[k] for k in keys if k in index), None)
        if hit is None:
            for key in keys:
                index[key] = len(out)
            out.append(record)
            continue
        folded += 1
        if on_duplicate != "update":
            continue
        old = out[hit]
        phone = old.phone or (record.phone if record.phone and "p:" + record.phone not in index else None)
        email = old.email or (record.email if record.email and "e:" + record.email.lower() not in index else None)
        merged = replace(
            old,
            name=record.name or old.name,
            phone=phone,
            email=email,
            notes=record.notes or old.notes,
            lists=old.lists + tuple(n for n in record.lists if n not in old.lists),
        )
        out[hit] = merged
        for key in _keys(merged):
            index.setdefault(key, hit)
    return out, folded


def _take(records: Iterator[Parsed], size: int) -> tuple[list[ContactRecord], list[RecordError], bool]:
    good: list[ContactRecord] = []
    bad: list[RecordError] = []
    for item in records:
        if isinstance(item, RecordError):
            bad.append(item)
        else:
            good.append(item)
        if len(good) + len(bad) >= size:
            return good, bad, False
    return good, bad, True


async def _store(
    pool: Pool,
    job: ImportJob,
    records: list[ContactRecord],
    errors: list[RecordError],
    bytes_done: int,
    kept_errors: int,
) -> None:
    owner = {"owner_user_id": job.owner_user_id, "owner_group_id": job.owner_group_id}
    batch, folded = merge_batch(records, job.on_duplicate)
    created = updated = skipped = 0
    async with as_user(pool, job.user_id) as conn:
        await conn.execute(ADMIN_QUERIES["import_lock"], owner)
        contact_ids: list[int | None] = [None] * len(batch)
        if batch:
            matches = await (
                await conn.execute(
                    ADMIN_QUERIES["import_match"],
                    {
                        **owner,
                        "phones": [r.phone for r in batch],
                        "emails": [r.email.lower() if r.email else None for r in batch],
                    },
                )
            ).fetchall()
            existing = {int(m["seq"]) - 1: int(m["id"]) for m in matches}
            if job.on_duplicate == "update" and existing:
                rows = [(existing[i], batch[i]) for i in sorted(existing)]
                await conn.execute(
                    ADMIN_QUERIES["import_update"],
                    {
                        "ids": [i for i, _ in rows],
                        "names": [r.name for _, r in rows],
                        "phones": [r.phone for _, r in rows],
                        "emails": [r.email for _, r in rows],
                        "notes": [r.notes for _, r in rows],
                    },
                )
                for i, contact_id in existing.items():
                    contact_ids[i] = contact_id
                updated = len(existing)
            else:
                skipped = len(existing)
            fresh = [i for i in range(len(batch)) if i not in existing]
            if fresh:
                inserted = await (
                    await conn.execute(
                        ADMIN_QUERIES["import_insert"],
                        {
                            **owner,
                            "names": [batch[i].name for i in fresh],
                            "phones": [batch[i].phone for i in fresh],
                            "emails": [batch[i].email for i in fresh],
                            "notes": [batch[i].notes for i in fresh],
                        },
                    )
                ).fetchall()
                by_key = {_keys(batch[i])[0]: i for i in fresh}
                for row in inserted:
                    key = "p:" + row["phone"] if row["phone"] else "e:" + row["email"]
                    contact_ids[by_key[key]] = int(row["id"])
                created = len(inserted)
            names = sorted({n for i, r in enumerate(batch) if contact_ids[i] is not None for n in r.lists})
            if names:
                lists = await (await conn.execute(ADMIN_QUERIES["import_lists"], {**owner, "names": names})).fetchall()
                list_ids = {row["name"]: int(row["id"]) for row in lists}
                pairs = [
                    (list_ids[n], cid)
                    for r, cid in zip(batch, contact_ids, strict=True)
                    if cid is not None
                    for n in r.lists
                ]
                await conn.execute(
                    ADMIN_QUERIES["import_memberships"],
                    {"list_ids": [p[0] for p in pairs], "contact_ids": [p[1] for p in pairs]},
                )
        if job.on_duplicate == "update":
            updated += folded
        else:
            skipped += folded
        await conn.execute(
            ADMIN_QUERIES["import_progress"],
            {
                "id": job.id,
                "bytes_done": bytes_done,
                "created": created,
                "updated": updated,
                "skipped": skipped,
                "error_count": len(errors),
                "errors": [str(e) for e in errors[: max(0, MAX_ERRORS_KEPT - kept_errors)]],
                "max_errors": MAX_ERRORS_KEPT,
            },
        )


async def _finish(pool: Pool, job: ImportJob, state: str, failure: str | None) -> None:
    async with as_user(pool, job.user_id) as conn:
        await conn.execute(ADMIN_QUERIES["import_finish"], {"id": job.id, "state": state, "failure": failure})


async def run_import(pool: Pool, job: ImportJob) -> None:
    """Works through the saved upload; always ends the job as done or failed
    and removes the file."""
    try:
        with open(job.path, "rb") as file:
            lines = _CountingLines(file)
            records = parse(job.format, lines)
            kept = 0
            while True:
                good, bad, finished = await asyncio.to_thread(_take, records, BATCH_SIZE)
                await _store(pool, job, good, bad, lines.done, kept)
                kept += len(bad)
                if finished:
                    break
        await _finish(pool, job, "done", None)
    except ContactsFormatError as exc:
        await _finish(pool, job, "failed", str(exc))
    except Exception as exc:
        log.exception("contact import %s failed", job.id)
        with contextlib.suppress(Exception):
            await _finish(
                pool,
                job,
                "failed",
                f"the import stopped on an internal error ({type(exc).__name__}); contacts stored before it remain",
            )
    finally:
        with contextlib.suppress(OSError):
            os.unlink(job.path)


def start_import(pool: Pool, job: ImportJob) -> asyncio.Task[None]:
    task = asyncio.create_task(run_import(pool, job), name=f"contact-import-{job.id}")
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)
    return task
