"""Deterministic output ids: the same decision always gets the same id, so consumers can dedupe."""

import hashlib


def stable_id(kind: str, *parts: str) -> str:
    """A short id derived from what the output is about, never from when it was made."""
    digest = hashlib.sha256("\x1f".join((kind, *parts)).encode("utf-8")).hexdigest()
    return f"{kind}-{digest[:32]}"
