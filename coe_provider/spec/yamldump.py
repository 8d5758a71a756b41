"""The YAML emitter every rendered document uses.

libyaml's safe emitter when PyYAML was built with it: byte for byte the output of
``yaml.safe_dump``, several times faster, which counts when every node of a large cluster
gets its own cloud-config and configuration files.
"""

from __future__ import annotations

import yaml

SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""``yaml.CSafeDumper`` if available, else ``yaml.SafeDumper``."""

__all__ = ["SafeDumper"]
