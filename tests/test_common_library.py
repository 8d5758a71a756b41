"""Behaviour of the shared shell library (common.sh) run by bash, with dpkg-query faked."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from coe_provider.bootstrap.cloudconfig import common_library

FAKE_DPKG_QUERY = """#!/bin/sh
# Answers like dpkg-query -W -f='${db:Status-Status} ${Version}' NAME for a fixed package set.
case "$3" in
  docker.io) echo "installed 20.10.24+dfsg1-1+b3" ;;
  kubelet) echo "installed 1.36.4-1.1" ;;
  removed) echo "config-files 1.0" ;;
  *) echo "dpkg-query: no packages found matching $3" >&2; exit 1 ;;
esac
"""


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """common.sh next to a ``bin`` directory holding the fake dpkg-query."""
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "dpkg-query"
    fake.write_text(FAKE_DPKG_QUERY)
    fake.chmod(0o755)
    path = tmp_path / "common.sh"
    path.write_text(common_library())
    return path


def installed(library: Path, *packages: str) -> bool:
    """Whether ``_coe_apt_installed PACKAGES`` succeeds."""
    bin_dir = library.parent / "bin"
    script = f'PATH="{bin_dir}:$PATH"; source "{library}"; _coe_apt_installed "$@"'
    result = subprocess.run(["bash", "-c", script, "test", *packages], check=False,
                            capture_output=True, text=True, timeout=30)
    assert result.stderr == "", result.stderr
    return result.returncode == 0


@pytest.mark.parametrize(("packages", "expected"), [
    (("docker.io",), True),
    (("docker.io=20.10.24+dfsg1-1+b3",), True),
    (("kubelet=1.36.4-*", "docker.io"), True),
    (("docker.io=24.0.7-0ubuntu4",), False),
    (("kubelet=1.30.*",), False),
    (("docker.io", "openssh-server"), False),
    (("removed",), False),
])
def test_preinstalled_packages_skip_the_archive(library: Path, packages: tuple[str, ...],
                                                expected: bool) -> None:
    """Only when every package is installed at the wanted version (or pattern) is apt
    skipped; a package left as config files only does not count."""
    assert installed(library, *packages) is expected
