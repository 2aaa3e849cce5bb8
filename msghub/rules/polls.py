"""SMS voting polls: creating them, and the rule that counts the votes.

A poll's votes are counted by a rule calling poll.vote(name); the vote is
matched to an option by keyword (msghub.rules.keywords), recorded by
hub.poll_vote_v1 (one vote per sender: a re-vote moves it; outside the
opening hours: refused), and the poll's reply for that outcome is queued back
to the voter. hub.poll_results is the view charts and reports read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from msghub.errors import HubError
from msghub.rules.keywords import normalize_keyword
from msghub.rules.queries import STORE_QUERIES


class PollError(HubError):
    """A poll that cannot be created as asked."""


@dataclass(frozen=True, slots=True)
class Option:
    label: str
    keywords: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Option:
        """'Label:kw1,kw2' (keywords default to the label)."""
        label, _, words = text.partition(":")
        keywords = tuple(k.strip() for k in words.split(",") if k.strip()) or (label.strip(),)
        return cls(label.strip(), keywords)


def create_poll(
    conn: psycopg.Connection[Any],
    name: str,
    question: str,
    options: Sequence[Option],
    *,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    one_vote_per_sender: bool = True,
    reply_vote: str | None = None,
    reply_revote: str | None = None,
    reply_closed: str | None = "Sorry, voting is closed.",
    reply_unknown: str | None = None,
    with_rule: bool = True,
) -> int:
    """Creates the poll (and, unless with_rule is false, the rule that feeds
    it every received SMS) in one transaction; returns the poll's id."""
    if len(options) < 2:
        raise PollError("a poll needs at least two options")
    seen: dict[str, str] = {}
    for option in options:
        if not option.label:
            raise PollError("every option needs a label")
        for keyword in option.keywords:
            key = normalize_keyword(keyword)
            if not key:
                raise PollError(f"option {option.label!r}: keyword {keyword!r} has no letters or digits")
            if seen.setdefault(key, option.label) != option.label:
                raise PollError(f"keyword {keyword!r} belongs to both {seen[key]!r} and {option.label!r}")
    with conn.transaction():
        row = conn.execute(
            STORE_QUERIES["poll_insert"],
            {
                "name": name,
                "question": question,
                "opens_at": opens_at,
                "closes_at": closes_at,
                "one_vote_per_sender": one_vote_per_sender,
                "reply_vote": reply_vote,
                "reply_revote": reply_revote,
                "reply_closed": reply_closed,
                "reply_unknown": reply_unknown,
            },
        ).fetchone()
        assert row is not None
        poll_id = int(row["id"])
        for position, option in enumerate(options, 1):
            conn.execute(
                STORE_QUERIES["poll_option_insert"],
                {"poll_id": poll_id, "position": position, "label": option.label, "keywords": list(option.keywords)},
            )
        if with_rule:
            conn.execute(STORE_QUERIES["poll_rule_insert"], {"name": f"poll: {name}", "source": poll_rule_source(name)})
    return poll_id


def poll_rule_source(name: str) -> str:
    """The JavaScript of a poll's rule: every received SMS is a vote, and
    its answer the only one (later rules do not run for it)."""
    return f"if (message.channel === 'sms') {{\n  poll.vote({json.dumps(name)});\n  stop();\n}}\n"


def results(conn: psycopg.Connection[Any], name: str) -> list[dict[str, Any]]:
    return conn.execute(STORE_QUERIES["poll_results"], {"name": name}).fetchall()
