"""The directory logins page: what the hub was started with for LDAP and
PAM (environment settings, docs/AUTH.md), read-only and without secrets, and
a test login that asks the configured sources about a name and password.

The test goes through msghub.auth.external.try_external_login: it creates no
session, no hub user, no membership and counts towards no lockout; it is
audited (auth.test, with the outcome, never the password). Admins only.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from msghub.auth.external import ExternalAuthSettings, TrialAnswer, try_external_login
from msghub.auth.ldap import USERNAME_FORMAT
from msghub.web.common import check_csrf, csrf_failed, read_form, record_audit, render, require_role, user_tx
from msghub.web.security import SessionUser

admin_only = require_role("admin")


def _ldap_rows(settings: ExternalAuthSettings) -> list[tuple[str, str]]:
    """(setting, value) as the page shows them: the bind password only as set or not."""
    s = settings.ldap
    if s is None:
        return []
    return [
        ("MSGHUB_LDAP_URL", s.url),
        ("MSGHUB_LDAP_STARTTLS", "1" if s.start_tls else "0"),
        ("MSGHUB_LDAP_CA_FILE", s.ca_file or "(the system's CAs)"),
        ("MSGHUB_LDAP_TIMEOUT_S", str(s.timeout_s)),
        ("MSGHUB_LDAP_BIND_DN", s.bind_dn or "(anonymous search)"),
        ("MSGHUB_LDAP_BIND_PASSWORD", "set (not shown)" if s.bind_password else "not set"),
        ("MSGHUB_LDAP_USER_BASE", s.user_base),
        ("MSGHUB_LDAP_USER_FILTER", s.user_filter),
        ("MSGHUB_LDAP_USERNAME_ATTRIBUTE", s.username_attribute),
        ("MSGHUB_LDAP_DISPLAY_NAME_ATTRIBUTE", s.display_name_attribute),
        ("MSGHUB_LDAP_EMAIL_ATTRIBUTE", s.email_attribute),
        ("MSGHUB_LDAP_GROUP_ATTRIBUTE", s.group_attribute),
        ("MSGHUB_LDAP_GROUP_BASE", s.group_base or "(read from the group attribute)"),
        ("MSGHUB_LDAP_GROUP_FILTER", s.group_filter),
        ("MSGHUB_LDAP_DEFAULT_ROLE", s.default_role or "(none: users in no mapped group are refused)"),
    ]


def _context(settings: ExternalAuthSettings) -> dict[str, Any]:
    pam = settings.pam
    return {
        "ldap": _ldap_rows(settings),
        "role_map": list(settings.ldap.role_map) if settings.ldap else [],
        "group_map": list(settings.ldap.group_map) if settings.ldap else [],
        "pam": [] if pam is None else [
            ("MSGHUB_PAM_SERVICE", pam.service),
            ("MSGHUB_PAM_ADMIN_GROUP", pam.admin_group or "(none)"),
            ("MSGHUB_PAM_OPERATOR_GROUP", pam.operator_group or "(none)"),
        ],
    }


def _verdict(answers: list[TrialAnswer]) -> str:
    """What a real login with these answers would do, in one sentence."""
    for a in answers:
        if a.outcome == "ok":
            return f"A login would succeed through {a.source.upper()} as {a.username} with role {a.role}."
        if a.outcome == "not allowed":
            return f"{a.source.upper()} accepts the password, but the account may not use msghub: {a.reason}."
    if any(a.outcome == "unavailable" for a in answers):
        return "A login would fail now: a source could not be asked."
    return "A login would be refused: no source accepts this name and password."


@admin_only
async def directory(request: Request, user: SessionUser) -> Response:
    settings: ExternalAuthSettings = request.app.state.auth_settings
    context = _context(settings)
    if request.method == "GET":
        return render(request, "admin/directory.html", context)
    form = await read_form(request)
    if not check_csrf(request, form):
        return csrf_failed()
    username = form.get("username", "").strip()
    context["tried"] = username
    if settings.ldap is None and settings.pam is None:
        context["error"] = "Neither LDAP nor PAM is configured: only local accounts log in."
        return render(request, "admin/directory.html", context, status_code=400)
    if not USERNAME_FORMAT.fullmatch(username) or not form.get("password"):
        context["error"] = "Give a user name (letters, digits, _ . @ -, at most 64) and a password."
        return render(request, "admin/directory.html", context, status_code=400)
    answers = await try_external_login(settings, username, form.get("password", ""))
    async with user_tx(request) as conn:
        await record_audit(conn, request, user, "auth.test", username,
                           {a.source: a.outcome for a in answers})
    context.update(answers=answers, verdict=_verdict(answers))
    return render(request, "admin/directory.html", context)


routes: list[BaseRoute] = [Route("/admin/directory", directory, methods=["GET", "POST"])]
