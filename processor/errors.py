"""The shell's root exception (the domain has its own: `processor.domain.errors.DomainError`).

`ConfigError` is what stops start-up or a command with a message that names the bad field;
`validation_problems` is the one place a pydantic error becomes that message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import ValidationError


class ArpulseError(Exception):
    """Root of every error the shell raises on purpose."""


class ConfigError(ArpulseError):
    """A setting, the policy file or a command's argument is invalid; this message says which."""


def validation_problems(
    exc: ValidationError, *, field_name: Callable[[Sequence[int | str]], str]
) -> str:
    """Every problem of a pydantic error as `field: what is wrong`, joined by semicolons."""
    return "; ".join(
        f"{field_name(err['loc'])}: {err['msg'].removeprefix('Value error, ')}"
        for err in exc.errors(include_url=False)
    )
