"""Access tokens for `streamer serve --auth token`: who may watch, and who may drive.

A token names a role (`viewer` or `controller`) and an expiry, signed with the server's secret by
itsdangerous (HMAC-SHA256); nothing here is cryptography of our own. `streamer token` prints a URL
carrying one; the page's first load moves it into an HttpOnly cookie (streamer/auth.py).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from itsdangerous import BadSignature, URLSafeSerializer

__all__ = ["MIN_SECRET_BYTES", "ROLES", "Grant", "Role", "TokenError", "TokenSigner", "load_secret"]

Role = Literal["viewer", "controller"]
ROLES: tuple[Role, ...] = ("viewer", "controller")
MIN_SECRET_BYTES = 32
SALT = "streamer access token"


class TokenError(Exception):
    """A token that admits nobody; `kind` is missing, malformed, expired or signature."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Grant:
    """What a valid token allows: its role, until when, and an id that names the token (not the
    token itself) for per-token limits and logs."""

    role: Role
    expires: float  # time.time()
    id: str


def load_secret(secret_file: Path | None) -> bytes:
    """The signing secret, from `--secret-file` or STREAMER_SECRET; ValueError saying what to do
    when there is none or it is too short to be safe."""
    if secret_file is not None:
        try:
            secret = secret_file.read_bytes().strip()
        except OSError as exc:
            raise ValueError(f"cannot read the secret file {secret_file}: {exc.strerror or exc}") from None
    else:
        secret = os.environ.get("STREAMER_SECRET", "").strip().encode()
    if not secret:
        raise ValueError(
            "no secret: give --secret-file FILE or set STREAMER_SECRET (e.g. `openssl rand -hex 32`)"
        )
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(
            f"the secret is {len(secret)} bytes; use at least {MIN_SECRET_BYTES} (`openssl rand -hex 32`)"
        )
    return secret


class TokenSigner:
    def __init__(self, secret: bytes) -> None:
        self._serializer = URLSafeSerializer(secret, salt=SALT)

    def issue(self, role: Role, ttl: float) -> str:
        return self._serializer.dumps({"role": role, "exp": round(time.time() + ttl)})

    def check(self, token: str | None) -> Grant:
        """The grant of a valid token; TokenError (one line) for any other."""
        if not token:
            raise TokenError("missing", "an access token is required: open the URL `streamer token` printed")
        if len(token) > 512:
            raise TokenError("malformed", "the access token is malformed")
        try:
            payload = self._serializer.loads(token)
        except BadSignature as exc:
            kind = "signature" if exc.payload is not None else "malformed"
            raise TokenError(
                kind, f"the access token is {'not valid here' if kind == 'signature' else 'malformed'}"
            ) from None
        role, expires = (
            (payload.get("role"), payload.get("exp")) if isinstance(payload, dict) else (None, None)
        )
        if role not in ROLES or type(expires) is not int:
            raise TokenError("malformed", "the access token is malformed")
        if expires <= time.time():
            raise TokenError("expired", "the access token has expired: ask for a new link")
        return Grant(role, float(expires), hashlib.sha256(token.encode()).hexdigest()[:12])
