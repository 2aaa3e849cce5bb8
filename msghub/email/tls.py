"""TLS for the mail connectors: certificates checked unless turned off."""

from __future__ import annotations

import ssl

TLS_MODES = ("implicit", "starttls", "opportunistic", "off")


def client_context(verify: bool, ca_file: str = "") -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
