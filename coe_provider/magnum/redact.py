"""What ``coe import magnum`` never prints: secret labels and fields, and proxy credentials."""

from __future__ import annotations

import re
from typing import Any

SECRET = "[secret]"
"""Printed in place of a secret value."""

SECRET_NAME = re.compile(r"passw(or)?d|secret|token", re.IGNORECASE)
"""A label or field whose name says it holds a secret (``grafana_admin_passwd``,
``cluster_basic_auth_secret``, ``..._token``)."""

URL_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/@\s:]*)"
                             r"(?::[^/@\s]*)?@")
"""``scheme://user:password@``: the credentials part of a URL."""


def is_secret_name(name: str) -> bool:
    """True when a label or field named ``name`` holds a secret."""
    return bool(SECRET_NAME.search(name.rsplit(".", 1)[-1]))


def has_credentials(value: Any) -> bool:
    """True when ``value`` is text holding a URL with ``user:password@``."""
    return isinstance(value, str) and URL_CREDENTIALS.search(value) is not None


def scrub(text: str) -> str:
    """``text`` with every URL's credentials replaced by :data:`SECRET`."""
    return URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{SECRET}@", text)


def shown(name: str, value: Any) -> Any:
    """``value`` as it may be printed for the field or label ``name``."""
    if value is None or value == "":
        return value
    if is_secret_name(name):
        return SECRET
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list | tuple):
        return [shown(name, item) for item in value]
    if isinstance(value, dict):
        return {key: shown(str(key), item) for key, item in value.items()}
    return value


__all__ = ["SECRET", "has_credentials", "is_secret_name", "scrub", "shown"]
