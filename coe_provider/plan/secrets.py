"""Secret handling in recorded property values: detect Pulumi's secret wrapper, redact it."""

from __future__ import annotations

from typing import Any

SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
"""Pulumi's signature key value that marks a wrapped secret in the wire format."""

SIG_KEY = "4dabf18193072939515e22adb298388d"
"""The key under which Pulumi's wire format stores a special value's signature."""

REDACTED = "[secret]"
"""What a secret value becomes in every plan output."""

UNKNOWN = "[unknown]"
"""What a value that is unknown during preview becomes."""

UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""Pulumi's wire value for an unknown (computed) value."""


def is_secret(value: Any) -> bool:
    """True for Pulumi's wire-format secret wrapper."""
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


def contains_secret(value: Any) -> bool:
    """True when ``value`` is or holds a wire-format secret."""
    if is_secret(value):
        return True
    if isinstance(value, dict):
        return any(contains_secret(item) for item in value.values())
    if isinstance(value, list):
        return any(contains_secret(item) for item in value)
    return False


def wrap_secret(value: Any) -> Any:
    """``value`` in Pulumi's wire-format secret wrapper (unchanged if it is one already)."""
    return value if is_secret(value) else {SIG_KEY: SECRET_SIG, "value": value}


def redact(value: Any) -> Any:
    """Replace every secret with :data:`REDACTED` and every unknown with :data:`UNKNOWN`."""
    if is_secret(value):
        return REDACTED
    if value == UNKNOWN_SENTINEL:
        return UNKNOWN
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value


def reveal(value: Any) -> Any:
    """Unwrap every secret (for tests and validators that must read rendered payloads)."""
    if is_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    return value
