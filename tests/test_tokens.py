"""`streamer serve --auth token` and `streamer token`: who may watch and who may drive."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from streamer.auth import COOKIE, AuthSettings
from streamer.cli import main
from streamer.server import running
from streamer.tokens import TokenSigner
from streamer.viewer import Viewer

from .test_serve import ORANGE, config, metric, metrics, near, run, until

pytestmark = pytest.mark.usefixtures("blocking_guard")

SECRET = b"0123456789abcdef0123456789abcdef"


def test_token_prints_a_link_and_needs_a_real_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    args = ["token", "--role", "controller", "--ttl", "2h", "--url", "https://kiosk.test:8443/"]
    assert main([*args, "--secret-file", str(secret)]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith("https://kiosk.test:8443/?token=") and link.endswith("&role=controller")
    grant = TokenSigner(SECRET).check(link.split("token=")[1].split("&")[0])
    assert grant.role == "controller" and 7100 < grant.expires - time.time() <= 7201
    monkeypatch.setenv("STREAMER_SECRET", "short")
    assert main(args) == 1
    assert "use at least 32" in capsys.readouterr().err


def test_binding_beyond_loopback_needs_auth(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "--auth token" in err and "--insecure-no-auth" in err


def test_every_token_case_at_the_door() -> None:
    signer = TokenSigner(SECRET)
    viewer, controller = signer.issue("viewer", 600), signer.issue("controller", 600)
    expired = signer.issue("viewer", -1)
    foreign = TokenSigner(b"another secret of thirty-two bytes!").issue("viewer", 600)

    async def scenario() -> None:
        served = replace(config(), auth=AuthSettings(signer))
        async with running(served) as (url, server), aiohttp.ClientSession() as http:

            async def status(path: str, cookie: str | None = None) -> tuple[int, str]:
                headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
                async with http.get(url + path, headers=headers, allow_redirects=False) as response:
                    return response.status, await response.text()

            for path, cookie, code, text in [
                ("/", None, 401, "an access token is required"),
                ("/static/client.js", None, 401, "required"),
                ("/config", "not-a-token", 401, "malformed"),
                ("/", expired, 401, "expired"),
                ("/", foreign, 401, "not valid here"),
                ("/?role=controller", viewer, 403, "may watch, not drive"),
                ("/config", viewer, 200, "codec"),
                ("/?role=controller", controller, 200, "streamer"),
                ("/healthz", None, 200, "ok"),
            ]:
                got, body = await status(path, cookie)
                assert (got, text in body) == (code, True), (path, got, body)
            # The first load moves the token into an HttpOnly cookie and out of the address bar.
            async with http.get(f"{url}/?kiosk=1&token={viewer}", allow_redirects=False) as response:
                assert response.status == 302 and response.headers["Location"] == "/?kiosk=1"
                cookie = response.headers["Set-Cookie"]
                assert f"{COOKIE}={viewer}" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
            # An offer without a token starts nothing.
            async with http.post(f"{url}/offer", json={"type": "offer", "sdp": "v=0"}) as response:
                assert response.status == 401
            assert not server.sessions
            text = await metrics(url)
            assert metric(text, 'streamer_auth_refused_total{reason="missing"}') == 3
            assert metric(text, 'streamer_auth_refused_total{reason="role"}') == 1

            # A viewer's link watches; its input is refused and counted.
            async with Viewer(url, cookies={COOKIE: viewer}) as watcher:
                assert near(await watcher.wait_frames(5), ORANGE)
                assert (await watcher.wait_message("hello"))["role"] == "viewer"
                watcher.send({"type": "pointer-up", "x": 5, "y": 5})
                assert "view only" in str((await watcher.wait_message("error"))["message"])
            # One live connection per controller link.
            async with Viewer(url, cookies={COOKIE: controller}) as driver:
                await driver.wait_frames(1)
                with pytest.raises(RuntimeError, match="409"):
                    await Viewer(url, cookies={COOKIE: controller}).connect()
            await until(lambda: not server.sessions)
            async with Viewer(url, cookies={COOKIE: controller}) as again:
                await again.wait_frames(1)

    run(scenario)
