"""A small OpenStack on 127.0.0.1 for openstacksdk: Keystone v3, Octavia, Neutron, Cinder, Nova's
console output and servers, and Magnum (:mod:`tests.fake_magnum`).

It serves the JSON shapes of the real APIs for the calls the cleanup makes (version discovery,
token with catalog, list/get/delete of balancers, floating IPs, ports and volumes, the volume
detach action) and the GETs of ``coe import magnum``, and records every request, so tests
assert the exact deletes. Octavia's own behaviour is modelled where the cleanup depends on it:
a deleted balancer answers 404 at the next poll and takes its VIP port with it, unless it is
listed as stuck (then it stays in PENDING_DELETE) or its port is listed as left behind.
Keystone accepts only :data:`PASSWORD`.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fake_magnum import MagnumStore, answer, v1_document, versions_document

PROJECT = "0123456789abcdef0123456789abcdef"
"""The project every object belongs to."""

PASSWORD = "not-a-secret"
"""The only password Keystone accepts (any other answers 401)."""

SERVICES = {"load-balancer": "lb", "network": "network", "block-storage": "volume",
            "container-infra": "magnum", "compute": "compute"}
"""Catalog service type -> path prefix on the fake."""

VERSION_PATHS = {"lb": "v2.0", "network": "v2.0", "volume": f"v3/{PROJECT}", "magnum": "v1",
                 "compute": "v2.1"}
"""Versioned API root per service prefix."""

CATALOG_PATHS = {"volume": f"/v3/{PROJECT}", "magnum": "/v1"}
"""What the catalog's URL adds to the prefix (as real clouds register Cinder and Magnum)."""


@dataclass
class FakeCloud:
    """The objects the fake serves, by collection, and what it has seen."""

    balancers: dict[str, dict[str, Any]] = field(default_factory=dict)
    floating_ips: dict[str, dict[str, Any]] = field(default_factory=dict)
    ports: dict[str, dict[str, Any]] = field(default_factory=dict)
    volumes: dict[str, dict[str, Any]] = field(default_factory=dict)
    stuck_balancers: set[str] = field(default_factory=set)
    """Balancers that stay PENDING_DELETE after a delete."""
    leftover_ports: set[str] = field(default_factory=set)
    """VIP ports the balancer's delete leaves behind."""
    requests: list[tuple[str, str]] = field(default_factory=list)
    """(method, path with query) of every API request after authentication."""
    bodies: list[tuple[str, Any]] = field(default_factory=list)
    """(path, JSON body) of every POST to an API."""
    magnum: MagnumStore = field(default_factory=MagnumStore)
    """What Magnum serves."""
    uncatalogued: set[str] = field(default_factory=set)
    """Service types left out of the token's catalog."""
    consoles: dict[str, str] = field(default_factory=dict)
    """Server ID -> its console log (Nova's ``os-getConsoleOutput``; others answer 404)."""
    servers: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Servers Nova knows (``GET /servers/<id>``; others answer 404)."""

    @property
    def changes(self) -> list[tuple[str, str]]:
        """The requests that change something (DELETE and POST actions), in order."""
        return [r for r in self.requests if r[0] in ("DELETE", "POST")]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        del format, args

    def _send(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else None

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path, query = url.path.rstrip("/"), parse_qs(url.query)
        base = f"http://{self.headers['Host']}"
        if path.startswith("/identity"):
            return self._identity(method, path, base)
        prefix, _, rest = path.lstrip("/").partition("/")
        if prefix not in VERSION_PATHS:
            return self._send(404, {"error": f"no service at {path}"})
        root = VERSION_PATHS[prefix]
        if rest in ("", root.split("/")[0], root):
            return self._send(200, _versions(base, prefix, rest))
        if not rest.startswith(root + "/"):
            return self._send(404, {"error": f"unknown version in {path}"})
        cloud = self.server.cloud
        with self.server.lock:
            cloud.requests.append((method, self.path))
            body = self._body() if method == "POST" else None
            if body is not None:
                cloud.bodies.append((url.path, body))
            if prefix == "magnum":
                header = self.headers.get("OpenStack-API-Version")
                cloud.magnum.api_versions.append((url.path, header))
                status, reply = (answer(cloud.magnum, rest[len(root) + 1:], header)
                                 if method == "GET" else (405, None))
            else:
                status, reply = _api(cloud, prefix, method, rest[len(root) + 1:], query, body)
        self._send(status, reply)

    def _identity(self, method: str, path: str, base: str) -> None:
        if method == "GET":
            return self._send(200, {"version": {
                "id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
                "links": [{"rel": "self", "href": f"{base}/identity/v3/"}],
                "media-types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.identity-v3+json"}]}})
        if path.endswith("/auth/tokens") and method == "POST":
            identity = (self._body() or {}).get("auth", {}).get("identity", {})
            if identity.get("password", {}).get("user", {}).get("password") != PASSWORD:
                return self._send(401, {"error": {
                    "code": 401, "title": "Unauthorized",
                    "message": "The request you have made requires authentication."}})
            return self._send(201, _token(base, self.server.cloud),
                              {"X-Subject-Token": "fake-token"})
        return self._send(404, {"error": path})


def _versions(base: str, prefix: str, rest: str) -> dict[str, Any]:
    if prefix == "magnum":
        return v1_document(base) if rest else versions_document(base)
    if prefix == "compute":
        version = {"id": "v2.1", "status": "CURRENT", "version": "2.96", "min_version": "2.1",
                   "updated": "2013-07-23T11:33:21Z",
                   "links": [{"rel": "self", "href": f"{base}/compute/v2.1/"}]}
        return {"version": version} if rest else {"versions": [version]}
    if prefix == "volume":
        return {"versions": [{"id": "v3.0", "status": "CURRENT", "version": "3.70",
                              "min_version": "3.0", "updated": "2023-01-01T00:00:00Z",
                              "links": [{"rel": "self", "href": f"{base}/volume/v3/"}]}]}
    return {"versions": [{"id": "v2.0", "status": "CURRENT", "updated": "2023-01-01T00:00:00Z",
                          "links": [{"rel": "self", "href": f"{base}/{prefix}/v2.0/"}]}]}


def _token(base: str, cloud: FakeCloud) -> dict[str, Any]:
    catalog = [
        {"type": kind, "name": prefix, "id": f"svc-{prefix}", "endpoints": [
            {"id": f"ep-{prefix}", "interface": "public", "region": "RegionOne",
             "region_id": "RegionOne",
             "url": f"{base}/{prefix}" + CATALOG_PATHS.get(prefix, "")}]}
        for kind, prefix in SERVICES.items() if kind not in cloud.uncatalogued
    ]
    return {"token": {
        "methods": ["password"], "expires_at": "2099-01-01T00:00:00.000000Z",
        "issued_at": "2026-01-01T00:00:00.000000Z", "audit_ids": ["fake"],
        "user": {"id": "u1", "name": "operator", "domain": {"id": "default", "name": "Default"}},
        "project": {"id": PROJECT, "name": "demo",
                    "domain": {"id": "default", "name": "Default"}},
        "roles": [{"id": "r1", "name": "member"}], "catalog": catalog}}


_COLLECTIONS = {
    ("lb", "lbaas/loadbalancers"): ("balancers", "loadbalancer", "loadbalancers"),
    ("network", "floatingips"): ("floating_ips", "floatingip", "floatingips"),
    ("network", "ports"): ("ports", "port", "ports"),
    ("volume", "volumes"): ("volumes", "volume", "volumes"),
}


def _console(cloud: FakeCloud, rest: str, body: Any) -> tuple[int, Any]:
    """Nova's console output action: the last ``length`` lines of a known server's log."""
    match = re.match(r"^servers/([^/]+)/action$", rest)
    request = (body or {}).get("os-getConsoleOutput")
    if not match or request is None:
        return 404, {"itemNotFound": {"message": f"unknown path {rest}"}}
    if match.group(1) not in cloud.consoles:
        return 404, {"itemNotFound": {"message": f"Instance {match.group(1)} could not be found."}}
    lines = cloud.consoles[match.group(1)].splitlines(keepends=True)
    length = request.get("length")
    return 200, {"output": "".join(lines[-int(length):] if length else lines)}


def _api(cloud: FakeCloud, prefix: str, method: str, rest: str, query: dict[str, list[str]],
         body: Any) -> tuple[int, Any]:
    if prefix == "compute":
        if method == "POST":
            return _console(cloud, rest, body)
        server = re.match(r"^servers/([^/]+)$", rest)
        if method == "GET" and server:
            found = cloud.servers.get(server.group(1))
            return (200, {"server": found}) if found else (
                404, {"itemNotFound": {"message": f"Instance {server.group(1)} not found."}})
        return 405, None
    match = re.match(r"^(lbaas/loadbalancers|floatingips|ports|volumes)(/detail)?"
                     r"(?:/([^/]+))?(/action)?$", rest)
    if not match or (prefix, match.group(1)) not in _COLLECTIONS:
        return 404, {"error": f"unknown path {rest}"}
    attribute, one, many = _COLLECTIONS[(prefix, match.group(1))]
    store: dict[str, dict[str, Any]] = getattr(cloud, attribute)
    object_id = match.group(3)
    if object_id is None and method == "GET":
        items = [item for item in store.values()
                 if all(str(item.get(k)) == v[0] for k, v in query.items() if k in item)]
        return 200, {many: items}
    if object_id not in store:
        return 404, {"itemNotFound": {"message": f"{one} {object_id} could not be found"}}
    item = store[object_id]
    if method == "GET":
        if attribute == "balancers" and item["provisioning_status"] == "PENDING_DELETE" \
                and object_id not in cloud.stuck_balancers:
            del store[object_id]
            return 404, {"faultstring": f"Load Balancer {object_id} not found."}
        return 200, {one: item}
    if method == "POST" and match.group(4) and attribute == "volumes":
        detach = (body or {}).get("os-detach", {})
        item["attachments"] = [a for a in item["attachments"]
                               if a.get("attachment_id") != detach.get("attachment_id")]
        item["status"] = "available" if not item["attachments"] else item["status"]
        return 202, None
    if method == "DELETE":
        if attribute == "balancers":
            item["provisioning_status"] = "PENDING_DELETE"
            port = item.get("vip_port_id")
            if port and port not in cloud.leftover_ports:
                cloud.ports.pop(port, None)
        else:
            del store[object_id]
        return 204, None
    return 405, {"error": f"{method} {rest}"}


class _Server(ThreadingHTTPServer):
    cloud: FakeCloud
    lock: threading.Lock


class FakeOpenStack:
    """The fake, serving ``cloud`` on 127.0.0.1 while used as a context manager."""

    def __init__(self, cloud: FakeCloud) -> None:
        self.cloud = cloud
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.cloud = cloud
        self._server.lock = threading.Lock()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def auth_url(self) -> str:
        """Keystone's v3 URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/identity/v3"

    def environment(self) -> dict[str, str]:
        """``OS_*`` variables that authenticate against the fake."""
        return {"OS_AUTH_URL": self.auth_url, "OS_USERNAME": "operator",
                "OS_PASSWORD": PASSWORD, "OS_PROJECT_NAME": "demo",
                "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
                "OS_REGION_NAME": "RegionOne", "OS_IDENTITY_API_VERSION": "3",
                "OS_INTERFACE": "public"}

    def clouds_yaml(self, name: str, password: str = PASSWORD) -> dict[str, Any]:
        """A clouds.yaml document whose entry ``name`` authenticates against the fake."""
        return {"clouds": {name: {
            "auth": {"auth_url": self.auth_url, "username": "operator", "password": password,
                     "project_name": "demo", "user_domain_name": "Default",
                     "project_domain_name": "Default"},
            "region_name": "RegionOne", "interface": "public", "identity_api_version": 3}}}

    def __enter__(self) -> FakeOpenStack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
