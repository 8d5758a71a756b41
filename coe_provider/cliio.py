"""What every ``coe`` command shares: its exit codes, its consoles, and how it reads its
input files and reports failures (one line on stderr, never a traceback).

Exit codes: 0 success; 1 invalid input (one ``path: rule`` line per broken rule); 2 the
program failed, or a file is not what the command expects; 3 ``coe diff --fail-on`` found a
change of a kind it was told to fail on; 4 ``coe audit --strict`` found a violation of a
mandatory policy; ``coe status`` exits 5 (unhealthy) or 6 (unreachable):
coe_provider.health.report.EXIT_CODES.
"""

from __future__ import annotations

import json
import os
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from coe_provider.spec.errors import SpecError

EXIT_INVALID = 1
"""The input breaks a rule (or cannot be read)."""

EXIT_FAILED = 2
"""The program failed, or a file is not what the command expects."""

EXIT_CHANGES = 3
"""``coe diff --fail-on`` found a change of a kind it was told to fail on."""

EXIT_AUDIT = 4
"""``coe audit --strict`` found a violation of a mandatory policy (coe_provider.policy)."""

PLAIN_WIDTH = 200
"""Line width when output does not go to a terminal (CI logs), unless COLUMNS says otherwise."""


def make_console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr): colour and live display only on a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    width = None if tty else int(os.environ.get("COLUMNS") or PLAIN_WIDTH)
    return Console(file=stream, no_color=not tty, highlight=False, markup=False, emoji=False,
                   width=width, soft_wrap=True)


def fail(code: int, *lines: str) -> NoReturn:
    """Print ``lines`` on stderr and exit with ``code``."""
    sys.stdout.flush()
    for line in lines:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()
    raise typer.Exit(code)


def spec_lines(error: SpecError) -> list[str]:
    """One ``path: rule`` line per broken rule."""
    return [str(issue) for issue in error.issues] or [str(error)]


def write_output(target: Path, text: str, what: str) -> None:
    """Write ``text`` to a file, or to stdout when ``target`` is ``-``."""
    if str(target) == "-":
        sys.stdout.write(text)
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    except OSError as exc:
        fail(EXIT_FAILED, f"error: cannot write {what} to {target}: {exc.strerror}")
    make_console(stderr=True).print(f"wrote {what} to {target}")


def to_stdout(*targets: Path | None) -> bool:
    """True when one of the outputs goes to stdout (the human view is then left out)."""
    return any(target is not None and str(target) == "-" for target in targets)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file; exits with :data:`EXIT_FAILED` when it is not one."""
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        fail(EXIT_FAILED, f"error: cannot read {path}: {exc.strerror}")
    except ValueError as exc:
        fail(EXIT_FAILED, f"error: {path}: not JSON ({exc})")
    if not isinstance(document, dict):
        fail(EXIT_FAILED, f"error: {path}: not a JSON object")
    return document


def read_outputs(source: str) -> dict[str, Any]:
    """Stack outputs JSON from a file, or from standard input for ``-``."""
    if source == "-":
        try:
            document = json.loads(sys.stdin.read())
        except ValueError as exc:
            fail(EXIT_FAILED, f"error: standard input: not JSON ({exc})")
        if not isinstance(document, dict):
            fail(EXIT_FAILED, "error: standard input: not a JSON object")
        return document
    return read_json(Path(source))


def running(console: Console, message: str) -> Any:
    """A spinner with ``message`` on a terminal; nothing otherwise."""
    return console.status(message) if console.is_terminal else nullcontext()


def program_failure(error: BaseException) -> str:
    """The one line that reports a failed program: the error's type and first line."""
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    if len(first) > 300:
        first = first[:300] + "..."
    return f"error: the program failed: {type(error).__name__}: {first}".rstrip(": ")
