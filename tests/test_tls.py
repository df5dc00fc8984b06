"""`streamer serve --certfile/--keyfile`: the page and signalling over HTTPS, with a throwaway
certificate made here."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from streamer.cli import main
from streamer.server import running
from streamer.viewer import Viewer

from .test_serve import ORANGE, config, near, run

pytestmark = pytest.mark.usefixtures("blocking_guard")


def throwaway_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    certfile.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return certfile, keyfile


def test_the_page_and_signalling_over_https(tmp_path: Path) -> None:
    certfile, keyfile = throwaway_certificate(tmp_path)
    trust = ssl.create_default_context(cafile=str(certfile))

    async def scenario() -> None:
        served = replace(config(), certfile=certfile, keyfile=keyfile)
        async with running(served) as (url, _server):
            assert url.startswith("https://127.0.0.1:")
            async with aiohttp.ClientSession() as http:
                async with http.get(f"{url}/", ssl=trust) as page:
                    assert page.status == 200 and "streamer" in await page.text()
                with pytest.raises(aiohttp.ClientConnectorCertificateError):
                    await http.get(f"{url}/healthz")  # a client that does not trust it is refused
                with pytest.raises(aiohttp.ClientError):
                    await http.get(url.replace("https", "http") + "/healthz")  # no plain HTTP
            async with Viewer(url, ssl=trust) as viewer:
                assert near(await viewer.wait_frames(10), ORANGE)

    run(scenario)


def test_a_bad_certificate_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cert.pem").write_text("not a certificate")
    assert main(["serve", "--certfile", str(tmp_path / "cert.pem"), "--port", "0"]) == 1
    assert "cannot use --certfile" in capsys.readouterr().err
