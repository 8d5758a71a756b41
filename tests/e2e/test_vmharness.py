"""End-to-end check of the VM harness: two VMs boot a cloud-config and reach each other.

Run with ``python3 -m pytest -m e2e tests/e2e -q`` (as root, with the packages in
``vmharness.HOST_PACKAGES``).  The first run builds the base image (a few minutes).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.vmharness import (
    MIRROR,
    BaseImage,
    VmSpec,
    vm_cluster,
)

pytestmark = pytest.mark.e2e

BOOT_TIMEOUT = 600
"""Seconds a VM may take from QEMU start to the end of its runcmd (TCG, 2 VMs on 2 cores)."""

USER_DATA = """\
#cloud-config
runcmd:
  - [sh, -c, 'echo "COE-MARKER-$(hostname) uptime=$(cut -d" " -f1 /proc/uptime)" > /dev/ttyS0']
  - - sh
    - -c
    - |
      result=FAIL
      for i in $(seq 1 120); do
        if ping -c 1 -W 1 {peer} >/dev/null 2>&1; then result=OK; break; fi
        sleep 1
      done
      echo "COE-PING-$(hostname)-{peer}-$result after=$i" > /dev/ttyS0
      systemctl start docker || true
      state=inactive
      for i in $(seq 1 120); do
        state=$(systemctl is-active docker); [ "$state" = active ] && break
        sleep 1
      done
      echo "COE-DOCKER-$(hostname)-$state uptime=$(cut -d" " -f1 /proc/uptime)" > /dev/ttyS0
      result=FAIL
      curl -fsS -o /dev/null --max-time 60 {mirror}/dists/bookworm/Release && result=OK
      echo "COE-ARCHIVE-$(hostname)-$result" > /dev/ttyS0
"""
"""Writes a marker, pings the peer on the private segment, waits for docker, fetches the
archive's Release file through slirp; all reported on ttyS0."""


def test_two_vms_boot_and_share_a_segment(base_image: BaseImage, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Both VMs run their runcmd, ping each other's private address and start docker; the
    first VM's SSH server answers on a loopback port forward."""
    addresses = {"e2e-a": "10.77.0.11", "e2e-b": "10.77.0.12"}
    macs = {"e2e-a": "52:54:00:77:00:11", "e2e-b": "52:54:00:77:00:12"}
    peers = {"e2e-a": "e2e-b", "e2e-b": "e2e-a"}
    specs = [
        VmSpec(
            name=name,
            user_data=USER_DATA.format(peer=addresses[peers[name]], mirror=MIRROR),
            private_address=address,
            mac=macs[name],
            forward_ports=(22,) if name == "e2e-a" else (),
        )
        for name, address in addresses.items()
    ]
    with vm_cluster(base_image, specs, tmp_path / "vms") as vms:
        assert set(vms[0].forwards) == {22}
        timings: list[str] = []
        for vm in vms:
            # The host time is when the harness first looked (VMs are checked in turn); the
            # guest's uptime at the marker is exact.
            mark, marker = vm.wait_for_console(
                rf"COE-MARKER-{vm.name} uptime=(\S+)", BOOT_TIMEOUT
            )
            ping, pinged = vm.wait_for_console(rf"COE-PING-{vm.name}-\S+-(OK|FAIL)", 180)
            docker, dockered = vm.wait_for_console(rf"COE-DOCKER-{vm.name}-(\S+)", 180)
            archive, _ = vm.wait_for_console(rf"COE-ARCHIVE-{vm.name}-(OK|FAIL)", 120)
            timings.append(
                f"{vm.name}: marker {marker:.0f}s (guest uptime {mark.group(1)}s), "
                f"peer ping {pinged:.0f}s, "
                f"docker {docker.group(1)} {dockered:.0f}s after qemu start"
            )
            assert ping.group(1) == "OK", f"{vm.name} could not ping its peer:\n{ping.group(0)}"
            assert docker.group(1) == "active", f"{vm.name}: docker is {docker.group(1)}"
            assert archive.group(1) == "OK", f"{vm.name} cannot reach {MIRROR} through slirp"
        banner = vms[0].read_banner(22, 60)
        assert banner.startswith(b"SSH-2.0-"), banner
        log = vms[0].console_log()
        assert not re.search(r"Failed to start .*cloud", log), "a cloud-init unit failed"
        with capsys.disabled():
            cache = "cached" if base_image.cached else "built"
            print(f"\nbase image {cache} ({base_image.build_seconds:.0f}s to build)")
            for line in timings:
                print(line)
