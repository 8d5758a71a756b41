"""containerd's registry hosts: one ``hosts.toml`` per registry under ``config_path``.

containerd reads ``<config_path>/<registry>/hosts.toml`` when it resolves an image of that
registry (containerd ``docs/hosts.md``): the ``[host."<url>"]`` tables are tried in order, then
the registry itself (no ``server`` line: containerd knows where each registry's API is, Docker
Hub's included). ``_default`` holds what applies to every registry without a directory of its
own.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from coe_provider.spec.mirrors import MirrorLabels

CERTS_DIR = "/etc/containerd/certs.d"
"""containerd's ``config_path``: the bootstrap writes it into the CRI plugin's registry table."""

def _toml_string(value: str) -> str:
    """A TOML basic string (JSON's escapes are a subset of TOML's)."""
    return json.dumps(value)


def _host_table(url: str, capabilities: list[str], skip_verify: bool) -> list[str]:
    lines = ["", f"[host.{_toml_string(url)}]",
             f"  capabilities = [{', '.join(_toml_string(c) for c in capabilities)}]"]
    if skip_verify:
        lines.append("  skip_verify = true")
    if urlsplit(url).path.strip("/"):
        # A mirror URL with a path names the registry API's root itself (Harbor's proxy
        # projects): containerd must not add /v2 to it.
        lines.append("  override_path = true")
    return lines


def _insecure(url_or_host: str, insecure: set[str]) -> bool:
    netloc = urlsplit(url_or_host).netloc if "://" in url_or_host else url_or_host
    return netloc in insecure or netloc.split(":")[0] in insecure


def hosts_files(labels: MirrorLabels) -> dict[str, str]:
    """``{path: hosts.toml}`` for every registry with a mirror or marked insecure; empty when
    neither label is set (containerd then pulls from where each image names)."""
    insecure = set(labels.insecure_registry)
    registries = list(dict.fromkeys([*labels.registry_mirrors, *labels.insecure_registry]))
    files: dict[str, str] = {}
    for registry in registries:
        lines: list[str] = []
        mirror = labels.registry_mirrors.get(registry)
        if mirror:
            lines += _host_table(mirror, ["pull", "resolve"], _insecure(mirror, insecure))
        if registry in insecure:
            # Magnum's insecure_registry: TLS without verification, else plain HTTP (as
            # Docker's insecure-registries tries them).
            lines += _host_table(f"https://{registry}", ["pull", "resolve", "push"], True)
            lines += _host_table(f"http://{registry}", ["pull", "resolve", "push"], False)
        files[f"{CERTS_DIR}/{registry}/hosts.toml"] = "\n".join(lines).lstrip("\n") + "\n"
    return files


__all__ = ["CERTS_DIR", "hosts_files"]
