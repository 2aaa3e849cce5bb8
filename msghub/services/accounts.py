"""Accounts as an admin manages them, from the CLI or the web: create a
local user, change a password. Async services (see msghub.services.tx);
the CLI calls them through blocking.call()."""

from __future__ import annotations

from msghub.hub.queries import QUERIES
from msghub.services import audit
from msghub.services.tx import Actor, Tx
from msghub.services.users import UserError, UserRow, add_user, hash_password


async def create_user(tx: Tx, actor: Actor, username: str, password: str | None, *, role: str = "user",
                      display_name: str = "", email: str | None = None) -> int:
    """Adds a local account and records it in the audit log."""
    user_id = await add_user(tx, username, password, role=role, display_name=display_name, email=email)
    await audit.record(tx, actor, "user.create", username, {"role": role})
    return user_id


async def find_user(tx: Tx, username: str) -> int:
    row = await QUERIES.one(tx, "user_by_name", UserRow, {"username": username})
    if row is None:
        raise UserError(f"no user {username!r}")
    return int(row["id"])


async def change_password(tx: Tx, actor: Actor, user_id: int, password: str) -> str:
    """Sets a local account's password and ends its web sessions; returns
    the user name. An account of LDAP or PAM changes its password there."""
    password_hash = hash_password(password)
    row = await (await tx.execute(QUERIES["user_password"], {"id": user_id, "password_hash": password_hash})).fetchone()
    if row is None:
        who = await (await tx.execute(QUERIES["user_auth_source"], {"id": user_id})).fetchone()
        if who is None:
            raise UserError(f"no user with id {user_id}")
        raise UserError(f"{who['username']} logs in through {who['auth_source'].upper()}: change the password there")
    await tx.execute(QUERIES["user_sessions_end"], {"id": user_id})
    await audit.record(tx, actor, "user.password", row["username"])
    return str(row["username"])
