"""The bad-input corpus: every case is refused with a message naming the field, no traceback,
and, run as the root program under the mocks runtime, registers no resource at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from coe_provider.plan.runner import config_from_stack_file, run_program_directory
from coe_provider.spec.config import coe_settings_from_file, load_clusters
from coe_provider.spec.errors import SpecError
from coe_provider.spec.yamlload import YamlLoadError, load_yaml_file
from tests.conftest import REPO

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.yaml"))


def expected(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} has no '# expect:' line"
    return first.removeprefix("# expect: ")


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_validation_names_the_field(path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load_clusters(coe_settings_from_file(path), path.parent)
    messages = [str(issue) for issue in caught.value.issues]
    assert any(expected(path) in message for message in messages), messages


def stack_document(path: Path) -> dict[str, object] | None:
    """The file as a stack file, or None where the Pulumi CLI would refuse it before any
    program runs (not YAML, not a mapping, no config block)."""
    try:
        document = load_yaml_file(path)
    except YamlLoadError:
        return None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        return None
    return document


STACK_CASES = [p for p in CORPUS if stack_document(p) is not None]


def test_most_cases_reach_the_program() -> None:
    assert len(STACK_CASES) >= len(CORPUS) - 3


@pytest.mark.parametrize("path", STACK_CASES, ids=[p.stem for p in STACK_CASES])
def test_root_program_registers_nothing(path: Path) -> None:
    document = stack_document(path)
    assert document is not None
    config, secret_keys = config_from_stack_file(document)
    from pulumi.runtime import settings as runtime_settings

    from coe_provider.plan.recorder import RecordingMonitor

    with pytest.raises(SpecError):
        run_program_directory(REPO, "corpus", config, secret_keys)
    monitor = runtime_settings.SETTINGS.monitor
    assert isinstance(monitor, RecordingMonitor)
    assert monitor.recorded == {}, f"{path.name} registered {sorted(monitor.recorded)}"


def test_validate_command_exits_1_without_traceback() -> None:
    """Every corpus file through the real `coe validate` command, in one process each."""
    for path in CORPUS:
        result = subprocess.run([sys.executable, "-m", "coe_provider.cli", "validate", str(path)],
                                capture_output=True, text=True, timeout=120, check=False)
        output = result.stdout + result.stderr
        assert result.returncode == 1, f"{path.name}: exit {result.returncode}\n{output}"
        assert "Traceback" not in output, f"{path.name}:\n{output}"
        assert expected(path) in output, f"{path.name}:\n{output}"
