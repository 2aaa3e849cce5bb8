"""The real Postfix and Dovecot, started once for the e-mail tests (msghub/devtools/mailservers.py).

Without them the tests fail and say how to install them
(scripts/install-test-deps); MSGHUB_SKIP_PEERS=1 skips them instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from msghub.devtools.mailservers import MailServers, ServersMissing


@pytest.fixture(scope="session")
def mail_servers() -> Iterator[MailServers]:
    try:
        servers = MailServers()
    except ServersMissing as exc:
        if os.environ.get("MSGHUB_SKIP_PEERS") == "1":
            pytest.skip(f"{exc} (MSGHUB_SKIP_PEERS=1)")
        pytest.fail(f"{exc} (or set MSGHUB_SKIP_PEERS=1 to skip the peer tests)")
    servers.start()
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def mailboxes(mail_servers: MailServers) -> Iterator[MailServers]:
    """The servers with every mailbox empty before the test (and nothing left in Postfix's queue)."""
    mail_servers.settle()
    for user in ("hub", "alice", "bob"):
        mail_servers.clear_mailbox(user)
    yield mail_servers
