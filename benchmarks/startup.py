"""Start-up time of the commands and provider processes that build nothing.

Usage::

    python3 benchmarks/startup.py [--repeat 7] [--source DIR]

Each entry point runs in a fresh interpreter (``python -c``, outside any checkout),
``--repeat`` times; the median CPU time of its imports and the number of modules it loaded
are printed, with, for reference, a bare ``import pulumi`` (what every entry point that reads
Pulumi's errors pays). ``--source`` puts another checkout first on the
path (for example one of the previous release: ``git worktree add /tmp/old main``), so both
layouts are measured in the same run. Prints ONE JSON line: entry point -> figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

GATE_PROVIDER = (
    "gASVNQAAAAAAAACMGGNvZV9wcm92aWRlci5oZWFsdGguZ2F0ZZSMEVJlYWRpbmVzc1Byb3ZpZGVylJOUKYGULg==")
"""The readiness gate's pickled provider, as a state stores it (see tests/test_layout.py)."""

ENTRY_POINTS = {
    "coe --help": ("import sys\nfrom coe_provider.cli import main\nsys.argv = ['coe', '--help']"
                   "\ntry:\n    main()\nexcept SystemExit:\n    pass"),
    "coe status": "import coe_provider.cli, coe_provider.health.status",
    "coe cleanup": "import coe_provider.cli, coe_provider.cleanup.operator",
    "cleanup step": "import coe_provider.cleanup.__main__",
    "gate provider": f"import base64, dill\ndill.loads(base64.b64decode({GATE_PROVIDER!r}))",
    "import pulumi": "import pulumi",
}
"""Name -> the code that loads what the entry point loads before doing its work."""

TIMED = ("import sys, time\nstarted = time.process_time()\n{code}\n"
         "print(time.process_time() - started, len(sys.modules), file=sys.stderr)")


def measure(code: str, source: Path | None) -> tuple[float, int]:
    """CPU seconds of ``code``'s imports in a fresh interpreter, and the modules it loaded.

    CPU time rather than wall time: on a shared machine the wall time swings with the
    neighbours' load; the module count does not swing at all."""
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
    # Not from a checkout: ``python -c`` puts the working directory first on the path.
    done = subprocess.run([sys.executable, "-c", TIMED.format(code=code)], env=env,
                          cwd=tempfile.gettempdir(), capture_output=True, text=True, check=True)
    cpu, modules = done.stderr.strip().splitlines()[-1].split()
    return float(cpu), int(modules)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one JSON line on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs of each (median)")
    parser.add_argument("--source", type=Path, help="a checkout to measure instead")
    args = parser.parse_args(argv)
    figures = {}
    for name, code in ENTRY_POINTS.items():
        runs = [measure(code, args.source) for _ in range(max(args.repeat, 1))]
        figures[name] = {"cpu_seconds": round(statistics.median(cpu for cpu, _ in runs), 3),
                         "modules": runs[0][1]}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
