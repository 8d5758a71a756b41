"""Labels every driver shares for clouds whose nodes fetch from the operator's own mirrors.

A driver's label model inherits :class:`MirrorLabels`; the base component turns the APT
mirrors into cloud-init's ``apt`` configuration, and each driver writes the registry mirrors
into its container runtime's configuration (containerd's ``hosts.toml``, Docker's
``daemon.json``).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from coe_provider.spec.models import rule

_HTTP_URL = re.compile(r"^https?://[^\s/@]+(:\d{1,5})?(/\S*)?$")
_REGISTRY_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"(?::\d{1,5})?$")

DEFAULT_REGISTRY_KEY = "_default"
"""A ``registry_mirrors`` key for every registry without an entry of its own (containerd's
``certs.d/_default``)."""


def check_http_url(value: str, example: str) -> str:
    """An ``http(s)://`` URL without spaces or credentials (``example`` shows one)."""
    if not _HTTP_URL.match(value):
        raise rule(f"must be an http(s) URL without credentials, such as {example} "
                   f"(got {value!r})")
    return value


def check_registry_host(value: str) -> str:
    """A registry as images name it: ``host`` or ``host:port``, no scheme, no path."""
    if not _REGISTRY_HOST.match(value):
        raise rule(f"must be a registry host such as registry.example.com or "
                   f"registry.example.com:5000, without scheme or path (got {value!r})")
    return value


def url_host(url: str) -> str:
    """The host (without port) of an http(s) URL."""
    return urlsplit(url).hostname or ""


def _pairs(value: str) -> dict[str, str]:
    """``host=url,host=url``: the one-string form a Magnum label takes."""
    mapping: dict[str, str] = {}
    for item in value.split(","):
        host, separator, url = item.strip().partition("=")
        if not separator:
            raise rule(f"must map registry hosts to mirror URLs, as a mapping or as "
                       f"'docker.io=https://mirror.example.com' pairs separated by commas "
                       f"(got {value!r})")
        mapping[host.strip()] = url.strip()
    return mapping


class MirrorLabels(BaseModel):
    """Where nodes fetch packages and images when the cloud has its own mirrors.

    Validator names start with the label they check: a subclass's validator of the same name
    would replace the one here."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    apt_mirror: str | None = None
    """The distribution's archive mirror (``http://mirror.example.com/ubuntu``), in place of
    archive.ubuntu.com or deb.debian.org: cloud-init writes it into the node's APT sources
    before the bootstrap installs anything."""

    apt_security_mirror: str | None = None
    """The security archive's mirror; ``apt_mirror`` when unset, which suits Ubuntu (one tree
    holds the ``-security`` suites). Debian keeps them in a separate tree
    (``debian-security``): set both."""

    registry_mirrors: dict[str, str] = Field(default_factory=dict)
    """Registry host to mirror URL (``{docker.io: https://mirror.example.com}``); the key
    ``_default`` stands for every other registry where the runtime allows it. Also the
    Magnum-style string ``docker.io=https://mirror.example.com,quay.io=https://...``."""

    insecure_registry: list[str] = Field(default_factory=list)
    """Registries (``host[:port]``) reached without verifying TLS, or over plain HTTP:
    Magnum's label (one host; a list or a comma-separated string here)."""

    mirrors_bypass_proxy: bool = False
    """Add every mirror's host to ``no_proxy``, for mirrors inside the cloud that the proxy
    cannot or should not reach."""

    @field_validator("apt_mirror", "apt_security_mirror")
    @classmethod
    def _apt_mirror_url(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(
            value, "http://mirror.example.com/ubuntu")

    @field_validator("registry_mirrors", mode="before",
                     json_schema_input_type=str | dict[str, str])
    @classmethod
    def _registry_pairs(cls, value: Any) -> Any:
        return _pairs(value) if isinstance(value, str) else value

    @field_validator("registry_mirrors")
    @classmethod
    def _registry_mirrors(cls, value: dict[str, str]) -> dict[str, str]:
        for host, url in value.items():
            if host != DEFAULT_REGISTRY_KEY:
                try:
                    check_registry_host(host)
                except Exception as exc:  # PydanticCustomError carries the rule text
                    raise rule(f"key {host!r}: {exc}") from None
            try:
                check_http_url(url, "https://mirror.example.com")
            except Exception as exc:
                raise rule(f"[{host}]: {exc}") from None
        return value

    @field_validator("insecure_registry", mode="before",
                     json_schema_input_type=str | list[str])
    @classmethod
    def _insecure_one_or_many(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("insecure_registry")
    @classmethod
    def _insecure_hosts(cls, value: list[str]) -> list[str]:
        for index, item in enumerate(value):
            try:
                check_registry_host(item)
            except Exception as exc:
                raise rule(f"item [{index}] {exc}") from None
        return value

    @property
    def resolved_apt_security_mirror(self) -> str | None:
        """The security mirror: its own label, else ``apt_mirror``."""
        return self.apt_security_mirror or self.apt_mirror

    def mirror_hosts(self) -> list[str]:
        """Every mirror's host, once each, in label order: what ``mirrors_bypass_proxy``
        adds to ``no_proxy``."""
        urls = [self.apt_mirror, self.apt_security_mirror, *self.registry_mirrors.values()]
        hosts = [url_host(url) for url in urls if url]
        hosts += [item.rsplit(":", 1)[0] if item.count(":") == 1 else item
                  for item in self.insecure_registry]
        return list(dict.fromkeys(host for host in hosts if host))

    def apt_cloud_config(self) -> dict[str, Any] | None:
        """cloud-init's ``apt`` module configuration for the mirrors, or None when unset."""
        if not self.apt_mirror and not self.apt_security_mirror:
            return None
        # Debian's packaged cloud.cfg sets preserve_sources_list: true, and a datasource's
        # config only adds to the image's: without this the mirrors are ignored there and the
        # image's sources stay (seen on a Debian 12 guest, cloud-init 22.4.2; the swarm VM test
        # checks it). Ubuntu's default is already false.
        config: dict[str, Any] = {"preserve_sources_list": False}
        if self.apt_mirror:
            config["primary"] = [{"arches": ["default"], "uri": self.apt_mirror}]
        security = self.resolved_apt_security_mirror
        if security:
            config["security"] = [{"arches": ["default"], "uri": security}]
        return config


__all__ = [
    "DEFAULT_REGISTRY_KEY",
    "MirrorLabels",
    "check_http_url",
    "check_registry_host",
    "url_host",
]
