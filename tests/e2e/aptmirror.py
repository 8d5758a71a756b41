"""A small signed Debian archive made for the swarm test's mirror step, and serving it.

:func:`build_archive` lays out, on the host, what an operator's mirror of the Debian archive
holds for one release: ``debian/`` with the release's suites (``bookworm``,
``bookworm-updates``, ``bookworm-backports``) and ``debian-security/`` with
``bookworm-security``, each with ``main``'s package and source indexes and a ``Release`` signed
inline (``InRelease``) and detached (``Release.gpg``) by a throwaway key. Those are the suites
cloud-init's Debian ``sources.list`` template names for a mirror and a security mirror (the
guest's own ``/etc/cloud/templates/sources.list.debian.tmpl``, cloud-init 22.4.2), ``deb-src``
lines included, so ``apt-get update`` succeeds only when every one of them is served. The only
package is :data:`PROBE_PACKAGE`, which no public archive has: its version and its one file
carry a nonce fresh for each archive, so a guest that installed it got it from this one.

:class:`MirrorServer` serves the archive from a VM on the cluster's segment (the test runs it
on the bastion): the files are copied over SSH, as an operator would sync a mirror host, and
Python's ``http.server`` serves them there, its access log (one line per request, with the
client's address) read back over SSH.

Host tools: ``dpkg-deb`` (dpkg) and ``gpg`` with ``gpg-agent`` (gnupg); no repository tool
(the indexes and the ``Release`` file are written here).
"""

from __future__ import annotations

import email.utils
import gzip
import hashlib
import io
import re
import secrets
import shlex
import shutil
import subprocess
import tarfile
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.remote import Connection, run, session
from tests.e2e.vmharness import ARCHIVE_TOOLS

CODENAME = "bookworm"
"""The guest's release (Debian 12)."""

ARCHIVE_SUITES = (CODENAME, f"{CODENAME}-updates", f"{CODENAME}-backports")
"""The suites cloud-init's Debian template takes from the mirror (``apt_mirror``)."""

SECURITY_SUITES = (f"{CODENAME}-security",)
"""The suite it takes from the security mirror (``apt_security_mirror``)."""

PROBE_PACKAGE = "coe-e2e-mirror-probe"
"""The one package of the archive; no public archive has it."""

PROBE_FILE = f"/usr/share/{PROBE_PACKAGE}/nonce"
"""What the probe package installs: the archive's nonce."""

@dataclass(frozen=True)
class ProbeArchive:
    """A built archive on the host."""

    root: Path
    """The directory served: ``debian/`` and ``debian-security/`` below it."""

    nonce: str
    """Fresh for this archive: in the probe's version and in its one file."""

    public_key: str
    """The signing key's public half (ASCII armour), for the guest's apt keyring."""

    @property
    def probe_version(self) -> str:
        """The probe package's version."""
        return f"1.0+{self.nonce}"

    def tarball(self) -> bytes:
        """The whole tree as a gzipped tar (to copy it to the mirror host in one go)."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            for child in sorted(self.root.iterdir()):
                tar.add(child, arcname=child.name)
        return buffer.getvalue()


def missing_tools() -> list[str]:
    """Host programs :func:`build_archive` needs that are absent (with their package)."""
    return [f"{tool} (apt-get install {package})" for tool, package in ARCHIVE_TOOLS.items()
            if shutil.which(tool) is None]


def _run(command: list[str], **kwargs: object) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False,
                            timeout=120, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} exited {result.returncode}: {result.stderr.strip()}")
    return str(result.stdout)


def _probe_deb(directory: Path, nonce: str) -> tuple[Path, str]:
    """Build the probe package; its path and its control stanza."""
    tree = directory / "probe"
    (tree / "DEBIAN").mkdir(parents=True)
    control = (
        f"Package: {PROBE_PACKAGE}\n"
        f"Version: 1.0+{nonce}\n"
        "Architecture: all\n"
        "Maintainer: coe-provider e2e <e2e@coe-provider.invalid>\n"
        "Priority: optional\n"
        "Section: misc\n"
        "Description: proof that a node installed from the test's apt mirror\n"
        " Made by coe-provider's swarm VM test; exists in no public archive.\n"
    )
    (tree / "DEBIAN/control").write_text(control)
    target = tree / PROBE_FILE.lstrip("/")
    target.parent.mkdir(parents=True)
    target.write_text(nonce + "\n")
    deb = directory / f"{PROBE_PACKAGE}_1.0+{nonce}_all.deb"
    _run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(tree), str(deb)])
    return deb, control


def _stanza(control: str, filename: str, data: bytes) -> str:
    """The ``Packages`` entry of a .deb: its control fields, where it is, and its hashes."""
    return (control + f"Filename: {filename}\nSize: {len(data)}\n"
            f"SHA256: {hashlib.sha256(data).hexdigest()}\n")


def _write_index(suite_dir: Path, relative: str, text: str) -> list[tuple[str, bytes]]:
    """An index and its gzipped copy; (path relative to the suite, bytes) of each."""
    plain = text.encode()
    packed = gzip.compress(plain, mtime=0)
    written = []
    for name, data in ((relative, plain), (relative + ".gz", packed)):
        path = suite_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append((name, data))
    return written


def _release(suite: str, files: list[tuple[str, bytes]]) -> str:
    """A suite's ``Release``: what it is and the SHA256 of each index (apt checks both)."""
    return (
        "Origin: coe-e2e\nLabel: coe-e2e\n"
        f"Suite: {suite}\nCodename: {suite}\n"
        f"Date: {email.utils.formatdate(time.time(), usegmt=True)}\n"
        "Architectures: amd64\nComponents: main\n"
        "Description: coe-provider e2e test mirror\n"
        "SHA256:\n" + "".join(
            f" {hashlib.sha256(data).hexdigest()} {len(data):>8} {name}\n"
            for name, data in files)
    )


def build_archive(directory: Path) -> ProbeArchive:
    """Build the archive under ``directory`` (see the module's docstring)."""
    nonce = secrets.token_hex(6)
    root = directory / "mirror"
    deb, control = _probe_deb(directory, nonce)
    pool = f"pool/main/c/{PROBE_PACKAGE}/{deb.name}"
    (root / "debian" / pool).parent.mkdir(parents=True)
    data = deb.read_bytes()
    (root / "debian" / pool).write_bytes(data)
    # A short home: gpg-agent's socket path must fit in a Unix socket address.
    with tempfile.TemporaryDirectory(prefix="coe-gpg-") as home:
        gpg = ["gpg", "--homedir", home, "--batch", "--quiet", "--pinentry-mode", "loopback",
               "--passphrase", ""]
        try:
            # ed25519 (gpgv in Debian 12 verifies it); expires in a day: a throwaway key.
            _run([*gpg, "--quick-generate-key",
                  "coe-provider e2e mirror <mirror@coe-provider.invalid>", "ed25519", "sign",
                  "1d"])
            public_key = _run([*gpg, "--armor", "--export"])
            for tree, suites in (("debian", ARCHIVE_SUITES), ("debian-security",
                                                               SECURITY_SUITES)):
                for suite in suites:
                    suite_dir = root / tree / "dists" / suite
                    packages = _stanza(control, pool, data) if suite == CODENAME else ""
                    files = (_write_index(suite_dir, "main/binary-amd64/Packages", packages)
                             + _write_index(suite_dir, "main/source/Sources", ""))
                    release = suite_dir / "Release"
                    release.write_text(_release(suite, files))
                    _run([*gpg, "--clearsign", "--output", str(suite_dir / "InRelease"),
                          str(release)])
                    _run([*gpg, "--armor", "--detach-sign", "--output",
                          str(suite_dir / "Release.gpg"), str(release)])
        finally:
            subprocess.run(["gpgconf", "--homedir", home, "--kill", "gpg-agent"],
                           capture_output=True, check=False)
    return ProbeArchive(root, nonce, public_key)


MIRROR_PORT = 8080
"""The port the mirror host serves the archive on."""

ACCESS_LINE = re.compile(r'^(?P<client>\S+) - - \[[^]]+\] "(?P<method>[A-Z]+) (?P<path>\S+) '
                         r'HTTP/[0-9.]+" (?P<status>\d{3})', re.MULTILINE)
"""One request in ``http.server``'s log: client address, method, path, status."""


@dataclass(frozen=True)
class Request:
    """One request the mirror host answered."""

    client: str
    """The client's address."""

    method: str
    """The HTTP method."""

    path: str
    """As requested, unquoted (apt quotes a version's ``+`` as ``%2b``)."""

    status: int
    """The answer's status code."""


def parse_access_log(log: str) -> list[Request]:
    """The requests in ``http.server``'s log, in order."""
    return [Request(m["client"], m["method"], urllib.parse.unquote(m["path"]), int(m["status"]))
            for m in ACCESS_LINE.finditer(log)]


@dataclass(frozen=True)
class MirrorServer:
    """The archive served by a host on the segment, over plain HTTP as most mirrors are."""

    connection: Connection
    """SSH to the mirror host (its user serves the archive from its home)."""

    address: str
    """The mirror host's address on the segment."""

    port: int = MIRROR_PORT

    @property
    def archive_url(self) -> str:
        """What ``apt_mirror`` names: the Debian archive's tree."""
        return f"http://{self.address}:{self.port}/debian"

    @property
    def security_url(self) -> str:
        """What ``apt_security_mirror`` names: the security archive's tree."""
        return f"http://{self.address}:{self.port}/debian-security"

    def start(self, archive: ProbeArchive) -> None:
        """Copy the archive over and start serving it; return once it answers."""
        with session(self.connection) as client:
            sftp = client.open_sftp()
            try:
                with sftp.open("mirror.tar.gz", "wb") as remote:
                    remote.write(archive.tarball())
            finally:
                sftp.close()
        release = f"{self.archive_url}/dists/{CODENAME}/InRelease"
        command = (
            "set -e; rm -rf mirror; mkdir mirror; tar -xzf mirror.tar.gz -C mirror; "
            # Detached from the SSH session, so it serves on after the command returns.
            f"setsid nohup python3 -m http.server {self.port} --bind {self.address} "
            "--directory mirror >mirror.log 2>&1 </dev/null & "
            f"for i in $(seq 60); do curl -sf -o /dev/null {shlex.quote(release)} && exit 0; "
            "sleep 1; done; cat mirror.log; exit 1")
        result = run(self.connection, command, timeout=120)
        if result.status != 0:
            raise RuntimeError(f"the mirror on {self.address} did not answer: "
                               f"{result.stdout}{result.stderr}")

    def requests(self) -> list[Request]:
        """Every request answered so far, in order."""
        return parse_access_log(run(self.connection, "cat mirror.log", timeout=60).stdout)


__all__ = [
    "ARCHIVE_SUITES",
    "CODENAME",
    "MIRROR_PORT",
    "PROBE_FILE",
    "PROBE_PACKAGE",
    "SECURITY_SUITES",
    "MirrorServer",
    "ProbeArchive",
    "Request",
    "build_archive",
    "missing_tools",
    "parse_access_log",
]
