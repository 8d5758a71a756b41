"""Strict YAML loading: duplicate keys are errors, and failures name the file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class YamlLoadError(ValueError):
    """The file is missing, unreadable or not valid YAML."""


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys instead of silently keeping the last one."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML text; ``source`` names it in errors."""
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.reader.ReaderError as exc:  # control characters: a binary file, most often
        raise YamlLoadError(f"{source}: not a YAML text file (character {exc.character:#04x} "
                            f"at offset {exc.position} is not allowed in YAML)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlLoadError(f"{where}: invalid YAML: {problem}") from None


def load_yaml_file(path: Path) -> Any:
    """Read and parse one YAML file."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise YamlLoadError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise YamlLoadError(f"{path}: not a YAML text file (byte {exc.object[exc.start]:#04x} "
                            f"at offset {exc.start} is not UTF-8)") from None
    return load_yaml_text(text, str(path))
