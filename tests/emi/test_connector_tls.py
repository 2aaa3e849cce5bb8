"""The EMI connector over TLS: a TLS front (the Tap, serving a certificate
made for the test) before the SMSC simulator."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import pytest

from msghub.connectors.emi.connector import EmiConnector, EmiError
from msghub.connectors.settings import validate_config
from tests.emi.test_connector_support import USER, HubRecorder, Tap, connected, run, settings, simulator, sms


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "smsc.pem", folder / "smsc.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def test_tls_link_checked_against_the_given_ca(certificate):
    async def main():
        async with simulator() as sim, Tap(sim.port, tls=_server_context(certificate)) as front:
            async with connected(front.port, tls=True, tls_ca_file=str(certificate[0])) as connector:
                result = await connector.send(sms("over TLS"))
            assert sim.logins == [(USER, True)]
            assert [s.text for s in sim.submits] == ["over TLS"]
            assert result.operator_ref.startswith("00447700900123:")
            assert front.frames("up", "O", "51")  # the front decrypted it: it went over TLS

    run(main())


def test_tls_with_an_unknown_certificate_is_refused(certificate):
    async def main():
        async with simulator() as sim, Tap(sim.port, tls=_server_context(certificate)) as front:
            connector = EmiConnector("emi-tls", settings(front.port, tls=True), HubRecorder())
            with pytest.raises(EmiError, match="CERTIFICATE_VERIFY_FAILED"):
                await connector.open()
            await connector.close()
            assert sim.logins == []

    run(main())


def test_tls_without_verification_accepts_any_certificate(certificate):
    async def main():
        async with simulator() as sim, Tap(sim.port, tls=_server_context(certificate)) as front:
            async with connected(front.port, tls=True, tls_verify=False) as connector:
                await connector.send(sms("unchecked"))
            assert [s.text for s in sim.submits] == ["unchecked"]

    run(main())


def test_missing_ca_file_is_named(tmp_path):
    async def main():
        missing = tmp_path / "nowhere.pem"
        connector = EmiConnector("emi-tls", settings(1, tls=True, tls_ca_file=str(missing)), HubRecorder())
        with pytest.raises(EmiError, match=r"cannot use tls_ca_file .*nowhere\.pem"):
            await connector.open()
        await connector.close()

    run(main())


def test_plain_settings_need_no_tls_file():
    config = validate_config(EmiConnector.settings, {"host": "smsc", "port": "1", "tls": "true"})
    assert config["tls_ca_file"] == "" and config["tls_verify"] is True
