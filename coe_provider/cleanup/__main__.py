"""The delete step of 0.1.0: ``python3 -m coe_provider.cleanup``, configured by its environment.

Run by the ``local.Command`` of a stack made by 0.1.0 when ``pulumi destroy`` deletes it before
the stack's next ``pulumi up`` (which retires that command; see
:mod:`coe_provider.cleanup.wiring`). Keep it: such stacks exist.
It prints what it deleted and kept, so the destroy output lists retained volumes, and exits
non-zero with one clear line when it cannot finish: the engine then stops before the network.
"""

from __future__ import annotations

import os
import sys

from coe_provider.cleanup.executor import DEFAULT_TIMEOUT, CleanupError, run_cleanup
from coe_provider.cleanup.target import CleanupTarget

ENV_TIMEOUT = "COE_CLEANUP_TIMEOUT"
"""Environment variable: seconds the deletions may take (default 600)."""


def main() -> int:
    """Run the cleanup the environment describes; 0 on success, 1 with a message otherwise."""
    try:
        target = CleanupTarget.from_environment()
        timeout = float(os.environ.get(ENV_TIMEOUT) or DEFAULT_TIMEOUT)
    except ValueError as error:
        print(f"coe cleanup: {error}", file=sys.stderr)
        return 1
    try:
        report = run_cleanup(target, timeout=timeout)
    except CleanupError as error:
        print(f"coe cleanup: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # openstacksdk and keystoneauth errors: one line, no traceback
        print(f"coe cleanup: cluster {target.cluster}: {type(error).__name__}: {error}",
              file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
