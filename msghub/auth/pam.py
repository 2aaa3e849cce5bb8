"""Host accounts for login, through PAM (python-pam).

PAM is off unless MSGHUB_PAM_SERVICE names a service in /etc/pam.d. With
pam_unix, only root can check other users' passwords (unix_chkpwd lets an
unprivileged process check its own user's password only): run the hub as
root or use a PAM stack that does not need /etc/shadow (sssd, ...).
Everything here blocks (PAM modules may sleep after a failure): async
callers run it in a thread.
"""

from __future__ import annotations

import grp
import logging
import os
import pwd
from collections.abc import Mapping
from dataclasses import dataclass

import pam

from msghub.auth.ldap import USERNAME_FORMAT
from msghub.hub.config import EnvSetting

log = logging.getLogger(__name__)

PAM_ENV_SETTINGS: tuple[EnvSetting, ...] = (
    EnvSetting("MSGHUB_PAM_SERVICE", None,
               "PAM service (a file in /etc/pam.d) that checks host accounts, e.g. login; unset: PAM logins are off"),
    EnvSetting("MSGHUB_PAM_ADMIN_GROUP", None, "Unix group whose members get role admin"),
    EnvSetting("MSGHUB_PAM_OPERATOR_GROUP", None, "Unix group whose members get role operator"),
)


@dataclass(frozen=True)
class PamSettings:
    service: str
    admin_group: str | None
    operator_group: str | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PamSettings | None:
        """The settings, or None when MSGHUB_PAM_SERVICE is unset (PAM logins off)."""
        env = os.environ if environ is None else environ
        service = env.get("MSGHUB_PAM_SERVICE", "").strip()
        if not service:
            return None
        return cls(service=service, admin_group=env.get("MSGHUB_PAM_ADMIN_GROUP", "").strip() or None,
                   operator_group=env.get("MSGHUB_PAM_OPERATOR_GROUP", "").strip() or None)


def pam_authenticate(username: str, password: str, service: str = "login") -> bool:
    """True when PAM accepts the password and the account (expiry, ...)."""
    # pam_unix with "nullok" (Debian's default) lets an account without a
    # password in with any empty one: never ask PAM with an empty password.
    if not password or not USERNAME_FORMAT.fullmatch(username) or "\x00" in password:
        return False
    authenticator = pam.PamAuthenticator()  # one per call: instances are not thread-safe
    # resetcreds=False: this checks a password, it establishes no credentials
    ok = bool(authenticator.authenticate(username, password, service=service, resetcreds=False))
    if not ok:
        log.info("PAM (%s) refused %r: %s", service, username, authenticator.reason)
    return ok


def unix_groups(username: str) -> frozenset[str]:
    """Names of the user's Unix groups, the primary one included; empty for an unknown user."""
    try:
        primary = pwd.getpwnam(username).pw_gid
    except KeyError:
        return frozenset()
    names = set()
    for gid in os.getgrouplist(username, primary):
        try:
            names.add(grp.getgrgid(gid).gr_name)
        except KeyError:
            continue  # a gid without a name maps to nothing
    return frozenset(names)


def pam_role(settings: PamSettings, username: str) -> str:
    groups = unix_groups(username)
    if settings.admin_group and settings.admin_group in groups:
        return "admin"
    if settings.operator_group and settings.operator_group in groups:
        return "operator"
    return "user"


def host_display_name(username: str) -> str | None:
    """The full-name field of the account's GECOS entry, if any."""
    try:
        gecos = pwd.getpwnam(username).pw_gecos
    except KeyError:
        return None
    return gecos.split(",", 1)[0].strip() or None


def host_account_exists(username: str) -> bool:
    try:
        pwd.getpwnam(username)
    except KeyError:
        return False
    return True
