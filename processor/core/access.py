"""Who may read what over HTTP: bearer tokens for the read model, and for health and metrics.

Framework-free: the web server hands over the request's `Authorization` header and the route's
scope, and gets a yes or no. Tokens are compared in constant time, every configured one each
time (so neither a token's prefix nor its place in the list shows in the timing), and are never
logged or echoed. A token travels as `Authorization: Bearer <token>`, or as the password of HTTP
Basic (any user name) so a browser can ask for it on the collector's page.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

MIN_TOKEN_LENGTH = 24


class Scope(Enum):
    """What a route gives away: customer data, or the worker's own health and metrics."""

    DATA = "data"
    OPS = "ops"
    PUBLIC = "public"  # the API's description: nothing of any customer or of the worker


def token_list(raw: str) -> tuple[str, ...]:
    """Tokens from a comma-separated setting (two during a rotation).

    ValueError says which one is wrong by its place in the list, never by its text.
    """
    tokens = tuple(part.strip() for part in raw.split(","))
    for position, token in enumerate(tokens, start=1):
        if len(token) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"token {position} is {len(token)} characters; each needs at least"
                f" {MIN_TOKEN_LENGTH} (for example: python -c 'import secrets;"
                " print(secrets.token_urlsafe(32))')"
            )
        if not token.isascii() or not token.isprintable() or " " in token:
            raise ValueError(f"token {position} must be printable ASCII without spaces")
    return tokens


@dataclass(frozen=True)
class Access:
    """The tokens that open each scope; a scope with none is open (the worker is loopback-only)."""

    data_tokens: tuple[str, ...] = field(default=(), repr=False)
    ops_tokens: tuple[str, ...] = field(default=(), repr=False)

    def guarded(self, scope: Scope) -> bool:
        """Whether a request in `scope` needs a token at all."""
        return bool(self._tokens(scope))

    def allows(self, scope: Scope, authorization: str | None) -> bool:
        """Whether a request with this `Authorization` header may read a route in `scope`."""
        tokens = self._tokens(scope)
        if not tokens:
            return True
        presented = presented_token(authorization)
        if presented is None or not presented.isascii():  # no token is anything but ASCII
            return False
        offered = presented.encode()
        matched = False
        for token in tokens:
            matched |= hmac.compare_digest(offered, token.encode())
        return matched

    def describe(self) -> str:
        """What is protected, for the start-up log (counts of tokens, never their text)."""
        data = (
            f"customer data needs one of {len(self.data_tokens)} API token(s)"
            if self.data_tokens
            else "customer data is open (no API token set), so it listens on loopback only"
        )
        ops = (
            f"/healthz and /metrics need one of {len(self.ops_tokens)} ops token(s)"
            if self.ops_tokens
            else "/healthz and /metrics are open"
        )
        return f"{data}; {ops}"

    def _tokens(self, scope: Scope) -> Sequence[str]:
        if scope is Scope.DATA:
            return self.data_tokens
        if scope is Scope.OPS:
            return self.ops_tokens
        return ()


def presented_token(authorization: str | None) -> str | None:
    """The token in a `Bearer` or `Basic` header, or None for anything else."""
    if not authorization:
        return None
    kind, _, credentials = authorization.strip().partition(" ")
    credentials = credentials.strip()
    if kind.lower() == "bearer" and credentials:
        return credentials
    if kind.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, ValueError):  # not base64 (or not ASCII), or not UTF-8 inside
            return None
        _, colon, password = decoded.partition(":")
        return password if colon and password else None
    return None
