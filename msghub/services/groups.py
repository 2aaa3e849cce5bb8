"""Group membership: who is in which group (hub.memberships), with its audit."""

from __future__ import annotations

from msghub.hub.queries import QUERIES
from msghub.services import audit
from msghub.services.access import AccessError
from msghub.services.tx import Actor, Tx


async def set_membership(tx: Tx, actor: Actor, *, user_id: int, username: str, group_id: int, group: str,
                         member: bool) -> None:
    """Puts the user in the group (member) or takes them out; recorded as
    group.join or group.leave. Joining twice or leaving a group one is not
    in changes nothing and is still recorded, as asked for."""
    params = {"user_id": user_id, "group_id": group_id}
    await tx.execute(QUERIES["add_membership" if member else "remove_membership"], params)
    await audit.record(tx, actor, "group.join" if member else "group.leave", group, {"user": username})


async def set_membership_by_name(tx: Tx, actor: Actor, username: str, group: str, *, member: bool) -> None:
    user = await (await tx.execute(QUERIES["user_by_name"], {"username": username})).fetchone()
    if user is None:
        raise AccessError(f"no user {username!r}")
    found = await (await tx.execute(QUERIES["group_by_name"], {"name": group})).fetchone()
    if found is None:
        raise AccessError(f"no group named {group!r}")
    await set_membership(tx, actor, user_id=int(user["id"]), username=username, group_id=int(found["id"]),
                         group=group, member=member)
