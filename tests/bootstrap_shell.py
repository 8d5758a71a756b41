"""Run functions of a rendered bootstrap script with bash, the system commands they call faked.

The script, the shared library and the env files come from a rendered cloud-config, as the
node gets them. Only the paths that tie them to a node change: the library is sourced from the
scratch directory, the env files are read from there (``COE_ENV_DIR``), ``main`` is not run,
and each faked command is a script on ``PATH`` that appends its command line to a log.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from coe_provider.bootstrap.cloudconfig import BOOTSTRAP_PATH, COMMON_LIBRARY_PATH
from tests.validators import files_in

LOGGING_FAKE = """#!/bin/bash
printf '%s\\n' "${0##*/} $*" >>"${FAKE_LOG}"
"""
"""A command that only records how it was called."""


@dataclass(frozen=True)
class ShellRun:
    """What one run printed and which faked commands it called, in order."""

    returncode: int
    """bash's exit status."""

    output: str
    """stdout and stderr."""

    calls: list[str]
    """Every faked command's ``name args...``, in call order."""


class BootstrapShell:
    """A scratch copy of one node's bootstrap whose functions a test can call."""

    def __init__(self, root: Path, user_data: str, fakes: dict[str, str],
                 replacements: dict[str, str] | None = None) -> None:
        self.root = root
        """The scratch directory."""
        files = files_in(user_data)
        (root / "bin").mkdir(parents=True, exist_ok=True)
        (root / "env").mkdir(exist_ok=True)
        (root / "common.sh").write_text(files[COMMON_LIBRARY_PATH])
        for name in ("node.env", "driver.env"):
            (root / "env" / name).write_text(files[f"/etc/coe/{name}"])
        script = files[BOOTSTRAP_PATH].replace(
            f"source {COMMON_LIBRARY_PATH}", f"source {root / 'common.sh'}")
        assert script.rstrip().endswith('main "$@"')
        script = script.rstrip().removesuffix('main "$@"')
        for old, new in (replacements or {}).items():
            assert old in script, old
            script = script.replace(old, new)
        (root / "bootstrap.sh").write_text(script)
        for name, text in fakes.items():
            path = root / "bin" / name
            path.write_text(text)
            path.chmod(0o755)

    def fake(self, name: str) -> str:
        """The path of a faked command."""
        return str(self.root / "bin" / name)

    def run(self, commands: str, env: dict[str, str] | None = None) -> ShellRun:
        """Source the script, then run ``commands`` (bash) in the same shell. apt's real
        locks on this machine are never waited for: the run looks at a scratch file."""
        log = self.root / "calls.log"
        log.write_text("")
        program = (f'source "{self.root / "bootstrap.sh"}"\n'
                   f'COE_APT_LOCKS=("{self.root / "no-lock"}")\n{commands}\n')
        result = subprocess.run(
            ["bash", "-c", program], capture_output=True, text=True, check=False, timeout=120,
            env={"PATH": f"{self.root / 'bin'}:/usr/bin:/bin", "FAKE_LOG": str(log),
                 "FAKE_STATE": str(self.root), "COE_ENV_DIR": str(self.root / "env"),
                 "COE_LOG_FILE": str(self.root / "bootstrap.log"), **(env or {})})
        return ShellRun(result.returncode, result.stdout + result.stderr,
                        log.read_text().splitlines())
