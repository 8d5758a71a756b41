"""The swarm test's apt archive, checked with the host's own apt (no VMs; default suite).

apt reads the archive from a ``file:`` copy with its own state directories, every suite the
guest's sources name (``deb`` and ``deb-src``), trusting only the archive's key: the indexes,
signatures and the probe package must be what apt accepts, or the VM step would fail late.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.aptmirror import (
    ARCHIVE_SUITES,
    PROBE_FILE,
    PROBE_PACKAGE,
    SECURITY_SUITES,
    ProbeArchive,
    build_archive,
    missing_tools,
    parse_access_log,
)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> ProbeArchive:
    missing = missing_tools() + ([] if shutil.which("apt-get") else ["apt-get (apt)"])
    if missing:
        pytest.skip("cannot build or read the test archive: " + "; ".join(missing))
    return build_archive(tmp_path_factory.mktemp("archive"))


def apt(archive: Path, state: Path, key: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The host's apt-get on the archive only, with private state, trusting only ``key``."""
    sources = state / "sources.list"
    sources.write_text("".join(
        f"{kind} [signed-by={key}] file:{archive / tree} {suite} main\n"
        for tree, suites in (("debian", ARCHIVE_SUITES), ("debian-security", SECURITY_SUITES))
        for suite in suites for kind in ("deb", "deb-src")))
    options = {
        "Dir::Etc::SourceList": sources, "Dir::Etc::SourceParts": state / "none",
        "Dir::State": state, "Dir::State::Status": state / "status", "Dir::Cache": state,
        "Dir::Etc::Preferences": state / "none", "Dir::Etc::PreferencesParts": state / "none",
        "APT::Architecture": "amd64", "APT::Architectures": "amd64",
        "Debug::NoLocking": "1", "APT::Sandbox::User": "root",
    }
    (state / "status").touch()
    (state / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (state / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    flags = [f"-o{name}={value}" for name, value in options.items()]
    return subprocess.run(["apt-get", *flags, *arguments], capture_output=True, text=True,
                          timeout=120, check=False, cwd=state)


def test_apt_reads_every_suite_and_fetches_the_probe(archive: ProbeArchive,
                                                     tmp_path: Path) -> None:
    key = tmp_path / "mirror.asc"
    key.write_text(archive.public_key)
    updated = apt(archive.root, tmp_path, key, "update")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "W:" not in updated.stderr and "E:" not in updated.stderr, updated.stderr
    fetched = apt(archive.root, tmp_path, key, "download", PROBE_PACKAGE)
    assert fetched.returncode == 0, fetched.stderr
    [deb] = tmp_path.glob(f"{PROBE_PACKAGE}_*.deb")
    assert deb.name == f"{PROBE_PACKAGE}_{archive.probe_version}_all.deb"
    contents = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True,
                              check=True).stdout
    assert archive.nonce.encode() in contents and f".{PROBE_FILE}".encode() in contents


def test_another_key_is_refused(archive: ProbeArchive, tmp_path: Path) -> None:
    other = build_archive(tmp_path / "other")
    key = tmp_path / "other.asc"
    key.write_text(other.public_key)
    refused = apt(archive.root, tmp_path, key, "update")
    assert refused.returncode != 0
    assert f"The repository 'file:{archive.root}/debian {ARCHIVE_SUITES[0]} InRelease' is " \
        "not signed" in refused.stderr, refused.stderr


def test_the_access_log_names_each_request_as_served(archive: ProbeArchive,
                                                     tmp_path: Path) -> None:
    """The server the mirror host runs, here on loopback: its log read as the step reads it."""
    log = tmp_path / "mirror.log"
    deb = f"/debian/pool/main/c/{PROBE_PACKAGE}/{PROBE_PACKAGE}_{archive.probe_version}_all.deb"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory",
             str(archive.root)], stdout=subprocess.PIPE, stderr=out, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline().split(" port ")[1].split()[0])
        base = f"http://127.0.0.1:{port}"
        # As apt asks for it: the version's "+" quoted.
        with urllib.request.urlopen(base + urllib.parse.quote(deb), timeout=10) as answer:
            assert answer.read() == (archive.root / deb.lstrip("/")).read_bytes()
        try:
            urllib.request.urlopen(base + "/debian/dists/sid/InRelease", timeout=10)
        except urllib.error.HTTPError as error:
            assert error.code == 404
    finally:
        server.terminate()
        server.wait(10)
    requests = parse_access_log(log.read_text())
    assert [(r.client, r.method, r.path, r.status) for r in requests] == [
        ("127.0.0.1", "GET", deb, 200), ("127.0.0.1", "GET", "/debian/dists/sid/InRelease", 404)]
