"""Who may read what: tokens parsed, compared, scoped; the settings that turn them on."""

from __future__ import annotations

import base64

import pytest

from processor.core.access import MIN_TOKEN_LENGTH, Access, Scope, presented_token, token_list
from processor.core.settings import is_loopback, load_settings
from processor.errors import ConfigError

A, B, OPS = "a" * 32, "b" * 24, "o" * 40


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("header", "token"),
    [
        (f"Bearer {A}", A),
        (f"bearer   {A} ", A),
        (basic("collector", A), A),
        (basic("", A), A),
        (basic("x", "p:with:colons"), "p:with:colons"),
        (None, None),
        ("", None),
        ("Bearer", None),
        ("Bearer ", None),
        (f"Token {A}", None),
        (A, None),
        ("Basic !!!not-base64", None),
        ("Basic " + base64.b64encode(b"no-colon").decode(), None),
        (basic("user", ""), None),
        ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), None),
        ("Basic \u00e9t\u00e9", None),  # not base64 at all (aiohttp passes such bytes on)
    ],
)
def test_the_token_is_read_from_bearer_or_basic_and_nothing_else(
    header: str | None, token: str | None
) -> None:
    assert presented_token(header) == token


def test_each_scope_opens_with_its_own_tokens_only() -> None:
    access = Access(data_tokens=(A, B), ops_tokens=(OPS,))
    assert access.allows(Scope.DATA, f"Bearer {A}") and access.allows(Scope.DATA, f"Bearer {B}")
    assert not access.allows(Scope.DATA, f"Bearer {OPS}")
    assert access.allows(Scope.OPS, f"Bearer {OPS}") and not access.allows(Scope.OPS, f"Bearer {A}")
    assert not access.allows(Scope.DATA, None) and not access.allows(Scope.DATA, f"Bearer {A}x")
    assert not access.allows(Scope.DATA, f"Bearer {A[:-1]}")
    assert access.allows(Scope.PUBLIC, None)


def test_a_token_that_is_not_ascii_is_refused_not_an_error() -> None:
    access = Access(data_tokens=(A,))
    assert not access.allows(Scope.DATA, "Bearer \udcff" + A[1:])  # surrogate-escaped bytes
    assert not access.allows(Scope.DATA, "Bearer " + "\u00e9" * 32)


def test_a_scope_without_tokens_is_open() -> None:
    access = Access(data_tokens=(A,))
    assert access.guarded(Scope.DATA) and not access.guarded(Scope.OPS)
    assert access.allows(Scope.OPS, None) and access.allows(Scope.OPS, "Bearer anything")


def test_tokens_never_show_in_a_repr_or_the_description() -> None:
    access = Access(data_tokens=(A, B), ops_tokens=(OPS,))
    for text in (repr(access), str(access), access.describe()):
        assert A not in text and B not in text and OPS not in text
    assert "2 API token(s)" in access.describe() and "1 ops token(s)" in access.describe()


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("short", "token 1 is 5 characters"),
        (f"{A},", "token 2 is 0 characters"),
        (f"{A},{'c' * (MIN_TOKEN_LENGTH - 1)}", f"token 2 is {MIN_TOKEN_LENGTH - 1} characters"),
        ("é" * 30, "token 1 must be printable ASCII"),
        ("a\tb" * 10, "token 1 must be printable ASCII"),
    ],
)
def test_a_weak_or_malformed_token_is_refused_by_its_place_not_its_text(
    raw: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem) as raised:
        token_list(raw)
    assert raw not in str(raised.value) or raw == ""


def test_two_tokens_separated_by_a_comma_are_a_rotation() -> None:
    assert token_list(f" {A} , {B}") == (A, B)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.8.7", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("worker.internal", False),
    ],
)
def test_only_this_machine_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_network_address_without_api_tokens_stops_start_up_naming_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARPULSE_WEB_HOST", "0.0.0.0")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "ARPULSE_WEB_HOST" in str(raised.value) and "ARPULSE_API_TOKENS" in str(raised.value)
    monkeypatch.setenv("ARPULSE_API_TOKENS", f"{A},{B}")
    settings = load_settings()
    assert settings.access.guarded(Scope.DATA) and not settings.access.guarded(Scope.OPS)


def test_a_weak_token_setting_is_named_and_its_value_not_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARPULSE_OPS_TOKENS", "hunter2hunter2")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "ARPULSE_OPS_TOKENS" in str(raised.value) and "hunter2" not in str(raised.value)


def test_an_empty_token_setting_is_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARPULSE_API_TOKENS", "")
    assert load_settings().api_tokens is None
