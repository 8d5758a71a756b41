"""The command line's help: -h as well as --help, an example in every command's help, and no
line break in mid-sentence (typer keeps every line break of a help text)."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from coe_provider.cli import app


def command_paths() -> list[tuple[str, ...]]:
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        paths.append(path)
        if hasattr(command, "commands"):  # a group (typer's own click)
            for name, child in command.commands.items():
                walk(child, (*path, name))

    walk(root, ())
    return paths


def command_at(path: tuple[str, ...]) -> Any:
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return command


PATHS = command_paths()


def test_every_command_is_covered() -> None:
    assert {" ".join(p) for p in PATHS} >= {
        "", "drivers", "validate", "schema", "plan", "diff", "audit", "status", "cleanup",
        "import", "import magnum"}


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) or "coe" for p in PATHS])
def test_dash_h_prints_the_same_help_as_dash_dash_help(path: tuple[str, ...]) -> None:
    runner = CliRunner()
    short = runner.invoke(app, [*path, "-h"], env={"COLUMNS": "100"})
    long = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100"})
    assert short.exit_code == 0, short.output
    assert short.stdout == long.stdout
    assert "Usage: coe" in short.stdout


@pytest.mark.parametrize("path", [p for p in PATHS if p],
                         ids=[" ".join(p) for p in PATHS if p])
def test_every_command_has_an_example_and_no_hard_line_break(path: tuple[str, ...]) -> None:
    help_text = command_at(path).help or ""
    *prose, examples = help_text.split("\n\n")
    assert examples.startswith("Examples:\n  "), help_text
    assert all(line.startswith("  coe ") or " | coe " in line
               for line in examples.splitlines()[1:]), examples
    for paragraph in prose:
        assert "\n" not in paragraph, paragraph
    shown = CliRunner().invoke(app, [*path, "-h"], env={"COLUMNS": "200"}).stdout
    assert prose[0] in shown
    # The command list shows the one-line summary whole.
    if len(path) == 1:
        listing = CliRunner().invoke(app, ["-h"], env={"COLUMNS": "200"}).stdout
        assert prose[0] in listing
