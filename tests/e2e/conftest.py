"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

import os

import pytest

from tests.e2e.vmharness import (
    DEFAULT_CACHE_DIR,
    HOST_PACKAGES,
    BaseImage,
    build_base_image,
    missing_prerequisites,
)


@pytest.fixture(scope="session")
def base_image() -> BaseImage:
    """The cached guest image (built on first use); skips when the host cannot run VMs, or
    fails with ``COE_E2E_REQUIRED=1`` (CI). With ``COE_E2E_FROM_ARCHIVE=1`` the image lacks
    docker.io, so payloads install it from the Debian archive."""
    problems = missing_prerequisites()
    if problems:
        message = (
            "e2e VM harness unavailable: " + "; ".join(problems)
            + f" (apt-get install -y {' '.join(HOST_PACKAGES)})"
        )
        if os.environ.get("COE_E2E_REQUIRED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return build_base_image(DEFAULT_CACHE_DIR,
                            from_archive=os.environ.get("COE_E2E_FROM_ARCHIVE") == "1")
