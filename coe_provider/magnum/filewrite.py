"""Writing the import into files the operator may already have: only what the import owns
changes.

A stack file (``Pulumi.<stack>.yaml``) holds more than one cluster: the stack's
``encryptionsalt``, the provider's settings, other applications' settings, other clusters and
the operator's comments. The import adds (or, with ``--force``, replaces) its one cluster under
``coe:clusters`` and keeps every other byte it can: ruamel.yaml's round-trip mode keeps
comments, key order and quoting. A template file is the import's own, so an existing one is
only replaced with ``--force``. Files are written whole through a temporary file, so an
interrupted write leaves the old file.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

CLUSTERS_KEY = "coe:clusters"
"""Where a stack file holds its clusters."""

PRIVATE_MODE = 0o600
"""Mode of a file that holds credentials in clear."""

_SEQUENCE_ITEM = re.compile(r"^(?P<indent> *)- ")
_KEY_LINE = re.compile(r"^(?P<indent> *)[^\s#-][^:]*:\s*(#.*)?$")


class WriteRefused(ValueError):
    """The file cannot take the import as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Written:
    """What a write did."""

    path: Path
    """The file written."""

    what: str
    """``cluster NAME added``, ``cluster NAME replaced``, ``template added`` ..."""

    private: bool
    """True when the file was written with mode 0600 (it holds credentials)."""

    def __str__(self) -> str:
        return f"wrote {self.path} ({self.what})"


def _yaml(text: str = "") -> YAML:
    """A round-trip YAML that indents block sequences as ``text`` already does."""
    yaml = YAML()
    yaml.width = 4096  # never fold long lines the operator wrote on one line
    offset = _sequence_offset(text)
    yaml.indent(mapping=2, sequence=offset + 2, offset=offset)
    return yaml


def _sequence_offset(text: str) -> int:
    """How far the file indents ``- item`` under its key (0 or 2; 0 when it has none)."""
    previous: re.Match[str] | None = None
    for line in text.splitlines():
        item = _SEQUENCE_ITEM.match(line)
        if item and previous is not None:
            return max(0, len(item["indent"]) - len(previous["indent"]))
        previous = _KEY_LINE.match(line) or (previous if not line.strip() else None)
    return 0


def _load(path: Path) -> tuple[Any, str]:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise WriteRefused(f"{path}: not a text file (not UTF-8); nothing written") from None
    except OSError as exc:
        raise WriteRefused(f"cannot read {path}: {exc.strerror}") from None
    try:
        return _yaml(text).load(text), text
    except YAMLError as exc:
        raise WriteRefused(f"{path}: not valid YAML, so it cannot be merged into "
                           f"({str(exc).splitlines()[0]}); nothing written") from None


def _dump(document: Any, text: str, header: str) -> str:
    stream = io.StringIO()
    _yaml(text).dump(document, stream)
    return header + stream.getvalue()


def _plain(value: Any) -> Any:
    """Plain Python data as ruamel's round-trip types (so comments can attach)."""
    if isinstance(value, Mapping):
        mapped = CommentedMap()
        for key, item in value.items():
            mapped[key] = _plain(item)
        return mapped
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _write(path: Path, text: str, private: bool) -> None:
    """Write ``text`` through a temporary file; keep the old mode unless ``private``."""
    mode = PRIVATE_MODE
    if not private and path.exists():
        mode = path.stat().st_mode & 0o777
    elif not private:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Pending:
    """A file's new content, checked and ready to be written."""

    path: Path
    """Where it goes."""

    text: str
    """The whole new content."""

    written: Written
    """What writing it does."""

    def write(self) -> Written:
        """Write the file."""
        _write(self.path, self.text, self.written.private)
        return self.written


def write_stack_cluster(path: Path, name: str, cluster: Mapping[str, Any], header: str,
                        cloud: str | None, force: bool, private: bool) -> Written:
    """Add (or with ``force`` replace) cluster ``name`` under ``coe:clusters`` of the stack
    file at ``path``, keeping everything else; a new file gets ``header`` first."""
    return stack_cluster_change(path, name, cluster, header, cloud, force, private).write()


def stack_cluster_change(path: Path, name: str, cluster: Mapping[str, Any], header: str,
                         cloud: str | None, force: bool, private: bool) -> Pending:
    """What :func:`write_stack_cluster` would write; :class:`WriteRefused` when it may not."""
    if not path.exists():
        config: dict[str, Any] = {}
        if cloud:
            config["openstack:cloud"] = cloud
        config[CLUSTERS_KEY] = {name: cluster}
        return Pending(path, _dump(_plain({"config": config}), "", header),
                       Written(path, f"cluster {name} added", private))
    document, text = _load(path)
    if document is None:
        document = CommentedMap()
    if not isinstance(document, CommentedMap):
        raise WriteRefused(f"{path}: not a stack file (it holds a YAML "
                           f"{type(document).__name__}, not a mapping); nothing written")
    if "config" not in document and ({"clusters", "cluster", "image", "flavor"} & set(document)):
        raise WriteRefused(f"{path}: a cluster or template file, not a stack file "
                           "(Pulumi.<stack>.yaml, with config:); nothing written")
    config_block = document.setdefault("config", CommentedMap())
    if config_block is None:
        config_block = document["config"] = CommentedMap()
    if not isinstance(config_block, CommentedMap):
        raise WriteRefused(f"{path}: config must be a mapping; nothing written")
    if "coe:cluster" in config_block:
        raise WriteRefused(f"{path}: holds coe:cluster (the one-cluster shorthand); move that "
                           "cluster under coe:clusters first; nothing written")
    clusters = config_block.setdefault(CLUSTERS_KEY, CommentedMap())
    if not isinstance(clusters, CommentedMap):
        raise WriteRefused(f"{path}: {CLUSTERS_KEY} must be a mapping of name -> cluster "
                           "(a secure value cannot be merged into); nothing written")
    replaced = name in clusters
    if replaced and not force:
        raise WriteRefused(f"{path}: already holds cluster {name}; give --force to replace "
                           "it, or --name to import under another name; nothing written")
    if cloud and "openstack:cloud" not in config_block:
        config_block.insert(0, "openstack:cloud", cloud)
    clusters[name] = _plain(cluster)
    if not replaced:
        clusters.yaml_set_comment_before_after_key(
            name, before=header.strip().removeprefix("# "), indent=_indent_of(text, 4))
    return Pending(path, _dump(document, text, ""),
                   Written(path, f"cluster {name} {'replaced' if replaced else 'added'}", private))


def _indent_of(text: str, default: int) -> int:
    """The indentation of the names under ``coe:clusters`` in ``text``."""
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.strip().startswith(f"{CLUSTERS_KEY}:"):
            for following in lines[number + 1:]:
                if following.strip() and not following.strip().startswith("#"):
                    return len(following) - len(following.lstrip())
    return default


def write_template(path: Path, template: Mapping[str, Any], header: str, force: bool,
                   private: bool) -> Written:
    """Write a template file; an existing one is only replaced with ``force``, keeping its
    leading comments and the comments on the fields the import writes again."""
    return template_change(path, template, header, force, private).write()


def template_change(path: Path, template: Mapping[str, Any], header: str, force: bool,
                    private: bool) -> Pending:
    """What :func:`write_template` would write; :class:`WriteRefused` when it may not."""
    if not path.exists():
        return Pending(path, _dump(_plain(template), "", header),
                       Written(path, "template added", private))
    document, text = _load(path)
    if isinstance(document, CommentedMap) and "config" in document:
        raise WriteRefused(f"{path}: a stack file; a template-only import writes a template "
                           "file (templateFile:); nothing written")
    if not force:
        raise WriteRefused(f"{path}: exists; give --force to replace the template in it; "
                           "nothing written")
    replaced = Written(path, "template replaced", private)
    if not isinstance(document, CommentedMap):
        return Pending(path, _dump(_plain(template), "", header), replaced)
    for key in [key for key in document if key not in template]:
        del document[key]
    for key, value in template.items():
        document[key] = _plain(value)
    return Pending(path, _dump(document, text, ""), replaced)


__all__ = ["Pending", "WriteRefused", "Written", "stack_cluster_change", "template_change",
           "write_stack_cluster", "write_template"]
