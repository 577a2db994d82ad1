"""Load and validate a policy file (TOML); a broken file stops start-up naming the field."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from processor.domain.policy import Policy
from processor.errors import ConfigError, validation_problems

DEFAULT_POLICY = "default.toml"


def default_policy_text() -> str:
    """The committed default policy shipped inside the package."""
    return (resources.files("processor") / "policies" / DEFAULT_POLICY).read_text(encoding="utf-8")


def parse_policy(text: str, *, source: str) -> Policy:
    """Validate policy text; ConfigError names the file, the field and the problem."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"policy {source}: not valid TOML: {exc}") from None
    try:
        return Policy.model_validate(document)
    except ValidationError as exc:
        problems = validation_problems(exc, field_name=_field)
        raise ConfigError(f"policy {source}: {problems}") from None


def load_policy(path: Path | None) -> Policy:
    """The policy at `path`, or the packaged default when `path` is None."""
    if path is None:
        return parse_policy(default_policy_text(), source=f"(default {DEFAULT_POLICY})")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"policy {path}: cannot be read ({exc.strerror})") from None
    return parse_policy(text, source=str(path))


def _field(loc: Sequence[int | str]) -> str:
    """The policy field an error is about, dotted."""
    return ".".join(str(p) for p in loc) or "(top level)"
