"""Directory accounts (LDAP, Active Directory) for login, through ldap3.

The flow: bind as the service account (or anonymously) to search for the
user's entry, bind again as that entry's DN with the given password, then
read the entry's groups and map them to a hub role and hub groups. Settings
come from MSGHUB_LDAP_* environment variables (docs/AUTH.md). Everything here
blocks on the network: async callers run it in a thread.
"""

from __future__ import annotations

import logging
import os
import re
import ssl
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from msghub.errors import ConfigError
from msghub.hub.config import EnvSetting
from msghub.services.users import ROLES

with warnings.catch_warnings():
    # ldap3 2.9.1 (its latest release) imports pyasn1 names that pyasn1 0.6.1
    # deprecated; the warning fires once, at import, and says nothing to users
    warnings.filterwarnings("ignore", r"(tagMap|typeMap) is deprecated", DeprecationWarning)
    import ldap3
    from ldap3 import NONE, SIMPLE, SUBTREE, Connection, Server, Tls
    from ldap3.core.exceptions import LDAPException
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import parse_dn

__all__ = ["LDAP_ENV_SETTINGS", "USERNAME_FORMAT", "DirectoryLogin", "LdapAuthenticator", "LdapSettings",
           "Outcome", "ldap3", "ldap_authenticate", "map_groups", "map_role", "normalize_dn", "user_filter"]

log = logging.getLogger(__name__)

LDAP_ENV_SETTINGS: tuple[EnvSetting, ...] = (
    EnvSetting("MSGHUB_LDAP_URL", None,
               "ldap://host[:port] or ldaps://host[:port] of the directory; unset: directory logins are off"),
    EnvSetting("MSGHUB_LDAP_STARTTLS", "0", "1: upgrade an ldap:// connection with StartTLS before any bind"),
    EnvSetting("MSGHUB_LDAP_CA_FILE", None,
               "PEM file of the CA certificates to verify the server with; unset: the system's CAs"),
    EnvSetting("MSGHUB_LDAP_TIMEOUT_S", "10", "connect and response timeout, in whole seconds"),
    EnvSetting("MSGHUB_LDAP_BIND_DN", None, "DN of a service account to search with; unset: search anonymously"),
    EnvSetting("MSGHUB_LDAP_BIND_PASSWORD", None, "password of MSGHUB_LDAP_BIND_DN"),
    EnvSetting("MSGHUB_LDAP_USER_BASE", None, "where users are searched (subtree); required with MSGHUB_LDAP_URL"),
    EnvSetting("MSGHUB_LDAP_USER_FILTER", "(uid={username})",
               "filter that finds one user; {username} is replaced by the escaped login name. "
               "Active Directory: (sAMAccountName={username})"),
    EnvSetting("MSGHUB_LDAP_USERNAME_ATTRIBUTE", "uid",
               "attribute whose value becomes the hub user name (AD: sAMAccountName); "
               "missing on the entry: the name as typed"),
    EnvSetting("MSGHUB_LDAP_DISPLAY_NAME_ATTRIBUTE", "cn", "attribute copied to the display name (AD: displayName)"),
    EnvSetting("MSGHUB_LDAP_EMAIL_ATTRIBUTE", "mail", "attribute copied to the e-mail address"),
    EnvSetting("MSGHUB_LDAP_GROUP_ATTRIBUTE", "memberOf",
               "attribute of the user entry that lists the DNs of its groups"),
    EnvSetting("MSGHUB_LDAP_GROUP_BASE", None,
               "set: find groups by a subtree search here with MSGHUB_LDAP_GROUP_FILTER "
               "instead of reading MSGHUB_LDAP_GROUP_ATTRIBUTE"),
    EnvSetting("MSGHUB_LDAP_GROUP_FILTER", "(|(member={dn})(uniqueMember={dn}))",
               "group search filter; {dn} is the user's escaped DN, {username} the escaped hub user name"),
    EnvSetting("MSGHUB_LDAP_ROLE_MAP", None,
               "group DN=role pairs separated by ';' (roles: admin, operator, user, integrator); "
               "the highest role wins"),
    EnvSetting("MSGHUB_LDAP_DEFAULT_ROLE", None,
               "role of a directory user in no group of MSGHUB_LDAP_ROLE_MAP; unset: such users are refused"),
    EnvSetting("MSGHUB_LDAP_GROUP_MAP", None,
               "group DN=hub group name pairs separated by ';'; memberships of these hub groups follow the directory"),
)

# hub.users.username's CHECK constraint, checked before any directory traffic
USERNAME_FORMAT = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
# ';' separates map entries; a DN that contains one escapes it as '\;'
_ENTRY_SEPARATOR = re.compile(r"(?<!\\);")


def normalize_dn(dn: str) -> str:
    """Compares DNs as directories do for the usual attributes: case and the
    spaces around separators don't matter."""
    try:
        parts = parse_dn(dn, escape=False, strip=True)
    except LDAPException:
        return dn.strip().lower()
    return "".join(f"{attr.lower()}={value.lower()}{sep}" for attr, value, sep in parts)


def _parse_map(name: str, raw: str | None, *, roles: bool) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for entry in _ENTRY_SEPARATOR.split(raw or ""):
        entry = entry.strip()
        if not entry:
            continue
        # the DN itself holds '=' signs: the value is what follows the last one
        dn, sep, value = entry.rpartition("=")
        dn, value = dn.strip(), value.strip()
        if not sep or not dn or "=" not in dn or not value:
            raise ConfigError(f"{name}: {entry!r} is not 'group DN=value'")
        if roles and value not in ROLES:
            raise ConfigError(f"{name}: unknown role {value!r} for {dn!r}: use one of {', '.join(ROLES)}")
        pairs.append((normalize_dn(dn), value))
    return tuple(pairs)


def _filter_template(name: str, raw: str, placeholders: tuple[str, ...]) -> str:
    if not (raw.startswith("(") and raw.endswith(")")):
        raise ConfigError(f"{name}={raw!r}: an LDAP filter is written in parentheses, e.g. (uid={{username}})")
    if not any(p in raw for p in placeholders):
        raise ConfigError(f"{name}={raw!r} must contain {' or '.join(placeholders)}")
    return raw


@dataclass(frozen=True)
class LdapSettings:
    url: str
    start_tls: bool
    ca_file: str | None
    timeout_s: int  # whole seconds: ldap3 packs the receive timeout into SO_RCVTIMEO as an integer
    bind_dn: str | None
    bind_password: str | None
    user_base: str
    user_filter: str
    username_attribute: str
    display_name_attribute: str
    email_attribute: str
    group_attribute: str
    group_base: str | None
    group_filter: str
    # (normalized group DN, role) and (normalized group DN, hub group name)
    role_map: tuple[tuple[str, str], ...]
    default_role: str | None
    group_map: tuple[tuple[str, str], ...]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LdapSettings | None:
        """The settings, or None when MSGHUB_LDAP_URL is unset (directory logins off)."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            if value:
                return value
            return next(s.default for s in LDAP_ENV_SETTINGS if s.name == name)

        url = get("MSGHUB_LDAP_URL")
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
            raise ConfigError(f"MSGHUB_LDAP_URL={url!r}: use ldap://host[:port] or ldaps://host[:port]")
        start_tls = get("MSGHUB_LDAP_STARTTLS") == "1"
        if start_tls and parts.scheme == "ldaps":
            raise ConfigError("MSGHUB_LDAP_STARTTLS=1 is for ldap:// URLs; ldaps:// is encrypted already")
        if get("MSGHUB_LDAP_STARTTLS") not in ("0", "1"):
            raise ConfigError("MSGHUB_LDAP_STARTTLS: use 0 or 1")
        try:
            timeout = int(get("MSGHUB_LDAP_TIMEOUT_S") or "")
        except ValueError:
            raise ConfigError(f"MSGHUB_LDAP_TIMEOUT_S={get('MSGHUB_LDAP_TIMEOUT_S')!r} is not a whole number") from None
        if not 1 <= timeout <= 300:
            raise ConfigError(f"MSGHUB_LDAP_TIMEOUT_S={timeout} must be between 1 and 300")
        user_base = get("MSGHUB_LDAP_USER_BASE")
        if user_base is None:
            raise ConfigError("MSGHUB_LDAP_USER_BASE is required with MSGHUB_LDAP_URL")
        bind_dn, bind_password = get("MSGHUB_LDAP_BIND_DN"), get("MSGHUB_LDAP_BIND_PASSWORD")
        if bind_dn and not bind_password:
            raise ConfigError("MSGHUB_LDAP_BIND_DN needs MSGHUB_LDAP_BIND_PASSWORD")
        default_role = get("MSGHUB_LDAP_DEFAULT_ROLE")
        if default_role is not None and default_role not in ROLES:
            raise ConfigError(f"MSGHUB_LDAP_DEFAULT_ROLE={default_role!r}: use one of {', '.join(ROLES)}")
        return cls(
            url=url, start_tls=start_tls, ca_file=get("MSGHUB_LDAP_CA_FILE"), timeout_s=timeout,
            bind_dn=bind_dn, bind_password=bind_password, user_base=user_base,
            user_filter=_filter_template("MSGHUB_LDAP_USER_FILTER", get("MSGHUB_LDAP_USER_FILTER") or "",
                                         ("{username}",)),
            username_attribute=get("MSGHUB_LDAP_USERNAME_ATTRIBUTE") or "uid",
            display_name_attribute=get("MSGHUB_LDAP_DISPLAY_NAME_ATTRIBUTE") or "cn",
            email_attribute=get("MSGHUB_LDAP_EMAIL_ATTRIBUTE") or "mail",
            group_attribute=get("MSGHUB_LDAP_GROUP_ATTRIBUTE") or "memberOf",
            group_base=get("MSGHUB_LDAP_GROUP_BASE"),
            group_filter=_filter_template("MSGHUB_LDAP_GROUP_FILTER", get("MSGHUB_LDAP_GROUP_FILTER") or "",
                                          ("{dn}", "{username}")),
            role_map=_parse_map("MSGHUB_LDAP_ROLE_MAP", get("MSGHUB_LDAP_ROLE_MAP"), roles=True),
            default_role=default_role,
            group_map=_parse_map("MSGHUB_LDAP_GROUP_MAP", get("MSGHUB_LDAP_GROUP_MAP"), roles=False),
        )

    @property
    def managed_groups(self) -> frozenset[str]:
        """The hub groups whose memberships the directory decides."""
        return frozenset(name for _, name in self.group_map)


class Outcome(Enum):
    OK = "ok"
    BAD_CREDENTIALS = "bad credentials"  # unknown user, wrong or empty password
    NOT_ALLOWED = "not allowed"  # the password was right, but no role maps
    UNAVAILABLE = "unavailable"  # the directory could not be asked


@dataclass(frozen=True)
class DirectoryLogin:
    outcome: Outcome
    reason: str
    # set once the user's entry was found (also when the password was wrong)
    username: str | None = None
    dn: str | None = None
    role: str | None = None
    groups: frozenset[str] = frozenset()  # hub group names
    display_name: str | None = None
    email: str | None = None


def map_role(settings: LdapSettings, group_dns: frozenset[str]) -> str | None:
    """The highest role any of the groups maps to (ROLES is in descending order)."""
    mapped = {role for dn, role in settings.role_map if dn in group_dns}
    for role in ROLES:
        if role in mapped:
            return role
    return settings.default_role


def map_groups(settings: LdapSettings, group_dns: frozenset[str]) -> frozenset[str]:
    return frozenset(name for dn, name in settings.group_map if dn in group_dns)


def user_filter(settings: LdapSettings, username: str) -> str:
    """The search filter for a login name; the name's filter metacharacters
    (* ( ) \\ NUL) are escaped (RFC 4515), so it can only match literally."""
    return settings.user_filter.replace("{username}", escape_filter_chars(username))


def _first(attributes: Mapping[str, Any], name: str) -> str | None:
    value = attributes.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    if value is None or isinstance(value, bytes):
        return None
    text = str(value).strip()
    return text or None


def _all(attributes: Mapping[str, Any], name: str) -> list[str]:
    value = attributes.get(name)
    if value is None:
        return []
    values = value if isinstance(value, list | tuple) else [value]
    return [str(v) for v in values if not isinstance(v, bytes)]


# success, and sizeLimitExceeded (what an ambiguous user filter gives with size_limit=2)
_SEARCH_OK = (0, 4)


def _entries(conn: Connection, what: str) -> list[dict[str, Any]]:
    """The entries a search found. A failed search (a wrong base, no access)
    raises instead of passing for "no entries": that would refuse every user,
    or strip every group membership, without a word."""
    code = (conn.result or {}).get("result")
    if code not in _SEARCH_OK:
        raise LDAPException(f"{what} search failed: {(conn.result or {}).get('description')} "
                            f"{(conn.result or {}).get('message') or ''}".strip())
    # searchResRef (referrals) are not followed: they would send credentials elsewhere
    return [r for r in (conn.response or []) if r.get("type") == "searchResEntry"]


class _VerifiedTls(Tls):  # type: ignore[misc, unused-ignore]  # ldap3 ships no type hints
    """TLS for ldaps:// and StartTLS with the standard library's default
    context: certificate and host name always verified. ldap3's own host name
    check calls ssl.match_hostname, deprecated and gone in Python 3.12."""

    def __init__(self, host: str, ca_file: str | None) -> None:
        super().__init__(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file)
        self._host = host
        self._context = ssl.create_default_context(cafile=ca_file)

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        connection.socket = self._context.wrap_socket(connection.socket, server_side=False,
                                                      do_handshake_on_connect=do_handshake,
                                                      server_hostname=self._host)


class LdapAuthenticator:
    def __init__(self, settings: LdapSettings) -> None:
        self.settings = settings
        tls = _VerifiedTls(urlsplit(settings.url).hostname or "", settings.ca_file)
        self._server = Server(settings.url, get_info=NONE, connect_timeout=settings.timeout_s, tls=tls)

    def _connect(self, user: str | None, password: str | None) -> Connection:
        """An open, bound connection; raises LDAPException when the bind fails."""
        conn = Connection(self._server, user=user, password=password, authentication=SIMPLE if user else None,
                          receive_timeout=self.settings.timeout_s, read_only=True, auto_referrals=False,
                          raise_exceptions=False)
        try:
            conn.open()
            # StartTLS before any bind, so no password crosses in clear
            if self.settings.start_tls and not conn.start_tls():
                raise LDAPException(f"StartTLS failed: {conn.result}")
            if not conn.bind():
                raise _BindRefused(str((conn.result or {}).get("description") or conn.result))
        except BaseException:
            _close(conn)
            raise
        return conn

    def authenticate(self, username: str, password: str) -> DirectoryLogin:
        s = self.settings
        # An empty password is an "unauthenticated bind" (RFC 4513 5.1.2), which
        # some servers (AD among them) accept for any DN: refuse before any bind.
        if not password:
            return DirectoryLogin(Outcome.BAD_CREDENTIALS, "empty password")
        if "\x00" in password or not USERNAME_FORMAT.fullmatch(username):
            return DirectoryLogin(Outcome.BAD_CREDENTIALS, "user name not in the accepted format")
        search_filter = user_filter(s, username)
        attributes = [s.username_attribute, s.display_name_attribute, s.email_attribute]
        if s.group_base is None:
            attributes.append(s.group_attribute)
        try:
            service = self._connect(s.bind_dn, s.bind_password)
        except _BindRefused as e:
            log.error("LDAP service bind as %r refused: %s", s.bind_dn, e)
            return DirectoryLogin(Outcome.UNAVAILABLE, f"service account bind refused: {e}")
        except LDAPException as e:
            log.error("LDAP directory %s: cannot connect: %s", s.url, e)
            return DirectoryLogin(Outcome.UNAVAILABLE, f"cannot connect to the directory: {e}")
        try:
            return self._authenticate(service, username, password, search_filter, attributes)
        except LDAPException as e:
            log.error("LDAP error for %r: %s", username, e)
            return DirectoryLogin(Outcome.UNAVAILABLE, f"directory error: {e}")
        finally:
            _close(service)

    def _authenticate(self, service: Connection, username: str, password: str, search_filter: str,
                      attributes: list[str]) -> DirectoryLogin:
        s = self.settings
        # size_limit 2: enough to see that a filter is ambiguous
        service.search(s.user_base, search_filter, SUBTREE, attributes=attributes, size_limit=2)
        entries = _entries(service, "user")
        if len(entries) != 1:
            if len(entries) > 1:
                log.warning("LDAP filter %s matches more than one entry: refusing", search_filter)
            return DirectoryLogin(Outcome.BAD_CREDENTIALS, f"{len(entries)} directory entries match")
        dn = str(entries[0]["dn"])
        found: Mapping[str, Any] = entries[0].get("attributes") or {}
        hub_name = _first(found, s.username_attribute) or username
        if not USERNAME_FORMAT.fullmatch(hub_name):
            return DirectoryLogin(Outcome.NOT_ALLOWED, f"directory name {hub_name!r} is not a valid hub user name")
        try:
            _close(self._connect(dn, password))
        except _BindRefused as e:
            return DirectoryLogin(Outcome.BAD_CREDENTIALS, f"bind refused: {e}", username=hub_name, dn=dn)
        # Only trust what was read once the password is proven.
        if s.group_base is None:
            group_dns = _all(found, s.group_attribute)
        else:
            group_filter = (s.group_filter.replace("{dn}", escape_filter_chars(dn))
                            .replace("{username}", escape_filter_chars(hub_name)))
            service.search(s.group_base, group_filter, SUBTREE, attributes=[])
            group_dns = [str(e["dn"]) for e in _entries(service, "group")]
        normalized = frozenset(normalize_dn(g) for g in group_dns)
        role = map_role(s, normalized)
        outcome, reason = (Outcome.OK, "ok") if role is not None else (
            Outcome.NOT_ALLOWED, "the directory account is in no group that may use msghub")
        return DirectoryLogin(outcome, reason, username=hub_name, dn=dn, role=role,
                              groups=map_groups(s, normalized) if role is not None else frozenset(),
                              display_name=_first(found, s.display_name_attribute),
                              email=_first(found, s.email_attribute))


def _close(conn: Connection) -> None:
    try:
        conn.unbind()
    except (LDAPException, OSError):
        pass  # the connection broke already (a failed TLS handshake, a server gone)
    finally:
        # unbind skips connections that never finished opening: close the socket anyway
        if getattr(conn, "socket", None) is not None:
            conn.socket.close()


class _BindRefused(Exception):
    """The server answered the bind with an error (wrong password, ...)."""


def ldap_authenticate(settings: LdapSettings, username: str, password: str) -> DirectoryLogin:
    return LdapAuthenticator(settings).authenticate(username, password)
