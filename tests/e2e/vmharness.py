"""Boot cloud-init payloads on real (software-emulated) virtual machines, with no cloud.

The harness has three parts:

* :func:`build_base_image` builds, once, a Debian 12 root with ``debootstrap`` (systemd,
  cloud-init, docker.io, OpenSSH, ifupdown) and turns it into an ext4 disk image plus the
  kernel and initrd to boot it with.  The result is cached outside the repository, keyed by a
  hash of the recipe, and only counts as built once its marker file exists.
* :class:`SegmentHub` is the shared layer-2 segment between the VMs: a small learning Ethernet
  switch that QEMU's ``-netdev stream`` backends connect to over one Unix socket.  No frame
  ever becomes IP traffic on the host, so the VMs' private addresses are reachable only from
  the VMs themselves.
* :func:`boot_vms` / :func:`vm_cluster` start one QEMU (TCG) process per :class:`VmSpec`, each
  with a qcow2 overlay on the base image, a NoCloud seed ISO (user-data, meta-data and a
  version 2 network-config) and two NICs: a user-mode (slirp) NIC for the package archive and
  loopback port forwards, and a NIC on the shared segment with a static private address.

Everything needs root (debootstrap, ``mke2fs -d`` of a root-owned tree) and the Debian packages
in :data:`HOST_PACKAGES`; :func:`missing_prerequisites` says what is absent.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ARCHIVE_TOOLS",
    "CPU_MODEL",
    "DEFAULT_CACHE_DIR",
    "GUEST_PACKAGES",
    "HOST_PACKAGES",
    "MIRROR",
    "BaseImage",
    "FloatingForward",
    "HarnessError",
    "RunningVm",
    "SegmentHub",
    "VmDisk",
    "VmSpec",
    "boot_vms",
    "build_base_image",
    "keep_artefacts",
    "missing_prerequisites",
    "vm_cluster",
]

HOST_PACKAGES = ("qemu-system-x86", "qemu-utils", "debootstrap", "cloud-image-utils", "gnupg")
"""Debian packages the host needs (``apt-get install -y ...``)."""

ARCHIVE_TOOLS = {"dpkg-deb": "dpkg", "gpg": "gnupg", "gpg-agent": "gpg-agent"}
"""Host programs that build the swarm test's signed apt archive (:mod:`tests.e2e.aptmirror`)."""

HOST_TOOLS = {
    "qemu-system-x86_64": "qemu-system-x86",
    "qemu-img": "qemu-utils",
    "debootstrap": "debootstrap",
    "cloud-localds": "cloud-image-utils",
    "mke2fs": "e2fsprogs",
    **ARCHIVE_TOOLS,
}
"""Host programs the harness runs, and the Debian package of each."""

SUITE = "bookworm"
"""The Debian release of the guest."""

MIRROR = os.environ.get("COE_E2E_MIRROR", "http://deb.debian.org/debian")
"""The archive debootstrap (and later the guest's apt) uses."""

GUEST_PACKAGES = (
    "systemd-sysv",
    "linux-image-amd64",
    "cloud-init",
    "docker.io",
    "apparmor",
    "openssh-server",
    "openssh-client",
    "ifupdown",
    "isc-dhcp-client",
    "iproute2",
    "iputils-ping",
    "netcat-openbsd",
    "ca-certificates",
    "netbase",
    "udev",
    "kmod",
    "dbus",
    "e2fsprogs",
    "procps",
    "sudo",
    "curl",
    # Without it the configure step fails on python3-cryptography (a cloud-init dependency).
    "python3-cffi-backend",
)
"""Packages debootstrap installs into the guest root (docker.io so that boots don't fetch it)."""

ARCHIVE_PACKAGES = ("docker.io", "apparmor")
"""What an image built with ``from_archive=True`` leaves out, so that the payloads fetch it
from the archive as on a stock cloud image."""

DISK_SIZE = "4G"
"""Size of the guest's root filesystem (sparse; the qcow2 overlays hold each VM's writes)."""

RECIPE_VERSION = 4
"""Bump when the customisation in :func:`_customise_root` changes, to invalidate caches."""

DEFAULT_CACHE_DIR = Path(
    os.environ.get("COE_E2E_CACHE", str(Path.home() / ".cache" / "coe-provider" / "e2e"))
)
"""Where base images are cached (``$COE_E2E_CACHE`` overrides)."""

CPU_MODEL = os.environ.get("COE_E2E_CPU", "qemu64")
"""The emulated CPU. Measured under TCG with QEMU 7.2, ``qemu64`` boots with about 12 % less
host CPU than ``max`` and 30 % less than ``Nehalem`` (guest code takes SSE4.2/AVX paths that
are slow to emulate).  Guests are baseline x86-64: images that need x86-64-v2 will not run."""

KERNEL_ARGS = "root=/dev/vda rw console=ttyS0 net.ifnames=0 biosdevname=0"
"""Kernel command line: ext4 root on the virtio disk, console on the serial port, ethN names."""

UPLINK_MAC_PREFIX = "52:54:00:a0"
"""The slirp NICs get ``52:54:00:a0:XX:YY`` (unique per VM within one :func:`boot_vms`)."""

COMPLETE_MARKER = "COMPLETE"
"""The file written last into a cache entry; without it the entry is rebuilt."""


class HarnessError(RuntimeError):
    """A harness step failed (the message names the command and where its log is)."""


def missing_prerequisites() -> list[str]:
    """Why the harness cannot run here: missing programs (with their package) or not root."""
    problems = [
        f"{tool} (apt-get install {package})"
        for tool, package in HOST_TOOLS.items()
        if shutil.which(tool) is None
    ]
    if os.geteuid() != 0:
        problems.append("not root (debootstrap and mke2fs -d of a root-owned tree need it)")
    return problems


def _run(cmd: Sequence[str | os.PathLike[str]], log: Path, timeout: float = 1800) -> None:
    """Run ``cmd``, appending its output to ``log``; raise :class:`HarnessError` on failure."""
    with log.open("ab") as out:
        out.write(f"$ {' '.join(str(c) for c in cmd)}\n".encode())
        out.flush()
        result = subprocess.run(
            [str(c) for c in cmd],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    if result.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-20:]
        raise HarnessError(
            f"{cmd[0]} exited {result.returncode}; log {log}:\n" + "\n".join(tail)
        )


# --------------------------------------------------------------------------------------------
# Base image
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BaseImage:
    """A built, cached guest: a raw ext4 root filesystem plus the kernel and initrd to boot it."""

    directory: Path
    disk: Path
    kernel: Path
    initrd: Path
    key: str
    build_seconds: float
    """How long the build took (when this process built it, or as recorded in the cache)."""
    cached: bool
    """True when the image came from the cache rather than being built by this call."""
    packages: tuple[str, ...] = GUEST_PACKAGES
    """What debootstrap installed into it."""


def _recipe_key(packages: tuple[str, ...]) -> str:
    """A short hash of everything that shapes the image (suite, packages, size, recipe)."""
    recipe = {
        "suite": SUITE,
        "packages": sorted(packages),
        "disk": DISK_SIZE,
        "recipe": RECIPE_VERSION,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def _image_from(directory: Path, key: str, cached: bool) -> BaseImage:
    """The :class:`BaseImage` for a complete cache entry."""
    meta = json.loads((directory / COMPLETE_MARKER).read_text())
    return BaseImage(
        directory=directory,
        disk=directory / "disk.img",
        kernel=directory / "vmlinuz",
        initrd=directory / "initrd.img",
        key=key,
        build_seconds=float(meta.get("build_seconds", 0.0)),
        cached=cached,
        packages=tuple(meta.get("packages", GUEST_PACKAGES)),
    )


_GUEST_FILES: dict[str, str] = {
    "etc/fstab": "/dev/vda / ext4 defaults,errors=remount-ro 0 1\n",
    "etc/hostname": "coe-e2e\n",
    "etc/hosts": "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n",
    # Replaced by dhclient on the slirp NIC; 10.0.2.3 is slirp's DNS forwarder.
    "etc/resolv.conf": "nameserver 10.0.2.3\n",
    # cloud-init's eni renderer writes interfaces.d/50-cloud-init; nothing else configures NICs.
    "etc/network/interfaces": (
        "# Interfaces come from cloud-init (interfaces.d/50-cloud-init).\n"
        "auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n"
    ),
    "etc/cloud/cloud.cfg.d/90-coe-e2e.cfg": (
        "# coe-provider e2e harness: NoCloud seed ISO only, ifupdown networking.\n"
        "datasource_list: [ NoCloud, None ]\n"
        "disable_root: true\n"
        "ssh_pwauth: false\n"
        "manage_etc_hosts: localhost\n"
        "# Boot time under TCG: one host key type (RSA-3072 costs ~20 s), no locale module\n"
        "# (the locales package is absent), no grub (the kernel is booted directly), and the\n"
        "# image's own sources.list (bookworm main: installing preinstalled packages is a no-op).\n"
        "ssh_genkeytypes: [ ed25519 ]\n"
        "no_ssh_fingerprints: true\n"
        "ssh:\n"
        "  emit_keys_to_console: false\n"
        "cloud_config_modules: [ snap, ssh-import-id, keyboard, set-passwords, grub-dpkg,\n"
        "  apt-pipelining, apt-configure, ntp, timezone, disable-ec2-metadata, runcmd, byobu ]\n"
        "grub_dpkg:\n"
        "  enabled: false\n"
        "apt:\n"
        "  preserve_sources_list: true\n"
        "system_info:\n"
        "  network:\n"
        "    renderers: [ eni ]\n"
    ),
    "etc/coe-e2e/guard.routes": "".join(
        f"route replace unreachable {net}\n"
        for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
                    "100.64.0.0/10")
    ),
    # A small initrd (the default MODULES=most takes ~20 s to unpack and probe under TCG):
    # just what mounts an ext4 root on virtio-blk.
    "etc/initramfs-tools/conf.d/coe-e2e.conf": "MODULES=list\n",
    "etc/initramfs-tools/modules": "".join(
        f"{module}\n"
        for module in ("virtio_pci", "virtio_blk", "ext4", "crc32c_generic", "crc32c_intel")
    ),
    "etc/ssh/sshd_config.d/50-coe-e2e.conf": "PermitRootLogin no\nPasswordAuthentication no\n",
    # The guest reaches the outside only through slirp, i.e. through the host's own sockets.
    # Private and link-local ranges are made unreachable there (the cluster segment and slirp's
    # own /24 are more specific and win), so a payload that tries a cloud metadata service or a
    # stray private address fails fast instead of making the host connect to it.
    "etc/systemd/system/coe-e2e-guard.service": (
        "[Unit]\n"
        "Description=coe-provider e2e: no private or link-local traffic through slirp\n"
        "DefaultDependencies=no\n"
        "Before=network-pre.target\n"
        "Wants=network-pre.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        "RemainAfterExit=yes\n"
        "ExecStart=/sbin/ip -batch /etc/coe-e2e/guard.routes\n"
        "\n"
        "[Install]\n"
        "WantedBy=network-pre.target\n"
    ),
}
"""Files written into the guest root after debootstrap (paths relative to the root)."""


_MASKED_UNITS = (
    "apt-daily.timer",
    "apt-daily-upgrade.timer",
    "dpkg-db-backup.timer",
    "e2scrub_all.timer",
    "e2scrub_reap.service",
    "fstrim.timer",
    # No display, no device mapper, loop devices, FUSE or EFI here: each is a process start.
    "getty@tty1.service",
    "modprobe@drm.service",
    "modprobe@dm_mod.service",
    "modprobe@efi_pstore.service",
    "modprobe@fuse.service",
    "modprobe@loop.service",
)
"""Units masked in the guest: jobs that cost boot time under emulation and do nothing useful."""


_DISABLED_UNITS = ("docker.service", "docker.socket", "containerd.service")
"""Units installed but not enabled in the guest (a payload enables what it needs)."""


def _customise_root(root: Path, log: Path, packages: tuple[str, ...]) -> None:
    """Make the debootstrapped tree bootable and cloud-init driven (see :data:`_GUEST_FILES`)."""
    for relative, text in _GUEST_FILES.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            target.unlink()
        target.write_text(text)
    # An empty machine-id: systemd makes a fresh one on each VM's first boot.
    (root / "etc/machine-id").write_text("")
    dbus_id = root / "var/lib/dbus/machine-id"
    if dbus_id.exists() or dbus_id.is_symlink():
        dbus_id.unlink()
    # A login prompt on the serial console (root is locked; cloud-init's users may log in).
    wants = root / "etc/systemd/system/getty.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    getty = wants / "serial-getty@ttyS0.service"
    if not getty.is_symlink():
        getty.symlink_to("/lib/systemd/system/serial-getty@.service")
    # Periodic jobs would compete for the one emulated CPU (and apt-daily for the dpkg lock).
    for unit in _MASKED_UNITS:
        masked = root / "etc/systemd/system" / unit
        if not masked.is_symlink():
            masked.symlink_to("/dev/null")
    guard = root / "etc/systemd/system/network-pre.target.wants/coe-e2e-guard.service"
    guard.parent.mkdir(parents=True, exist_ok=True)
    if not guard.is_symlink():
        guard.symlink_to("/etc/systemd/system/coe-e2e-guard.service")
    _run(["chroot", root, "passwd", "--lock", "root"], log)
    # Installed but not started at boot: a payload starts docker when it has configured it
    # (as after installing it on a cloud image), and the boot does not pay for a daemon
    # start that the payload's restart throws away.
    if "docker.io" in packages:
        _run(["chroot", root, "systemctl", "disable", *_DISABLED_UNITS], log)
    # /proc is mounted in a private mount namespace, so nothing stays mounted in the tree.
    _run(
        ["unshare", "--mount", "--fork", "chroot", root, "sh", "-c",
         "mount -t proc proc /proc && update-initramfs -u -k all"],
        log,
    )
    # Keep the image small: package caches and lists are not needed to boot.
    _run(["chroot", root, "apt-get", "clean"], log)
    for lists in (root / "var/lib/apt/lists").glob("*_*"):
        lists.unlink()


def _newest(paths: list[Path], what: str) -> Path:
    """The last of ``paths`` in version order (one kernel is expected)."""
    if not paths:
        raise HarnessError(f"no {what} in the guest's /boot")
    return sorted(paths, key=lambda p: [int(n) for n in re.findall(r"\d+", p.name)])[-1]


def build_base_image(cache_dir: Path = DEFAULT_CACHE_DIR, from_archive: bool = False
                     ) -> BaseImage:
    """Build (or reuse) the Debian guest image under ``cache_dir`` and return it; with
    ``from_archive``, without :data:`ARCHIVE_PACKAGES` (a separate cache entry).

    The entry is ``cache_dir/debian-<suite>-<key>/`` with ``disk.img`` (raw ext4),
    ``vmlinuz``, ``initrd.img``, ``build.log`` and the :data:`COMPLETE_MARKER`.  Concurrent
    callers serialise on a lock file; an entry without the marker (an interrupted build) is
    deleted and built again.  A cold build takes a few minutes and needs network access to the
    Debian archive.
    """
    problems = missing_prerequisites()
    if problems:
        raise HarnessError("cannot build the base image: " + "; ".join(problems))
    cache_dir = cache_dir.expanduser()
    cache_dir.mkdir(parents=True, exist_ok=True)
    packages = tuple(package for package in GUEST_PACKAGES
                     if not (from_archive and package in ARCHIVE_PACKAGES))
    key = _recipe_key(packages)
    final = cache_dir / f"debian-{SUITE}-{key}"
    if (final / COMPLETE_MARKER).is_file():
        return _image_from(final, key, cached=True)
    with (cache_dir / f".{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (final / COMPLETE_MARKER).is_file():  # another process built it meanwhile
            return _image_from(final, key, cached=True)
        started = time.monotonic()
        work = cache_dir / f".debian-{SUITE}-{key}.building"
        for stale in (final, work):
            if stale.exists():
                shutil.rmtree(stale)
        work.mkdir()
        log = work / "build.log"
        root = work / "rootfs"
        # An interrupted build leaves its tree for inspection; the next call deletes it.
        _run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=" + ",".join(packages),
                SUITE,
                root,
                MIRROR,
            ],
            log,
        )
        _customise_root(root, log, packages)
        boot = root / "boot"
        shutil.copyfile(_newest(list(boot.glob("vmlinuz-*")), "kernel"), work / "vmlinuz")
        shutil.copyfile(_newest(list(boot.glob("initrd.img-*")), "initrd"), work / "initrd.img")
        _run(
            ["mke2fs", "-q", "-F", "-t", "ext4", "-L", "coe-root", "-d", root,
             work / "disk.img", DISK_SIZE],
            log,
        )
        shutil.rmtree(root)
        seconds = round(time.monotonic() - started, 1)
        meta = {"key": key, "packages": list(packages), "build_seconds": seconds}
        (work / COMPLETE_MARKER).write_text(json.dumps(meta, indent=2) + "\n")
        work.rename(final)
        return _image_from(final, key, cached=False)


# --------------------------------------------------------------------------------------------
# The shared segment
# --------------------------------------------------------------------------------------------


class _Port:
    """One QEMU connection to the hub: a stream of 4-byte-length-prefixed Ethernet frames."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.inbuf = bytearray()
        self.outbuf = bytearray()


class SegmentHub:
    """A learning Ethernet switch for QEMU ``-netdev stream`` backends on one Unix socket.

    QEMU's stream netdev sends each frame as a 4-byte big-endian length followed by the frame.
    The hub floods broadcast, multicast and unknown-destination frames to every other port and
    sends the rest to the port the destination MAC was last seen on.  A port that stops reading
    has at most :attr:`MAX_BACKLOG` bytes queued; further frames for it are dropped, like a
    switch would.  Frames stay in this process: nothing reaches the host's IP stack.

    Use as a context manager, or call :meth:`start` and :meth:`close`.
    """

    MAX_BACKLOG = 4 * 1024 * 1024
    MAX_FRAME = 65536 + 64

    def __init__(self, directory: Path | None = None) -> None:
        # AF_UNIX paths are limited to 108 bytes: keep the socket in a short private directory.
        self._dir = Path(tempfile.mkdtemp(prefix="coe-seg-", dir=directory))
        self.path = self._dir / "hub.sock"
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(str(self.path))
        self._listener.listen(64)
        self._listener.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._ports: list[_Port] = []
        self._macs: dict[bytes, _Port] = {}
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="coe-segment-hub", daemon=True)
        self._lock = threading.Lock()
        self._owned_users: int | None = None
        self._closed = False
        self.frames = 0
        """Frames forwarded so far (for diagnostics)."""
        self.dropped = 0
        """Frames dropped because a port's backlog was full."""

    def netdev(self, netdev_id: str) -> str:
        """The ``-netdev`` argument that connects a QEMU NIC backend to this hub."""
        return f"stream,id={netdev_id},server=off,addr.type=unix,addr.path={self.path}"

    def close_after(self, users: int) -> None:
        """Close the hub by itself once :meth:`release` has been called ``users`` times."""
        with self._lock:
            self._owned_users = users

    def release(self, count: int = 1) -> None:
        """A user of a hub set up with :meth:`close_after` is done with it."""
        with self._lock:
            if self._owned_users is None:
                return
            self._owned_users -= count
            close = self._owned_users <= 0
        if close:
            self.close()

    def start(self) -> SegmentHub:
        """Start forwarding in a daemon thread."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop forwarding, close every socket and remove the socket directory (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        for port in list(self._ports):
            port.sock.close()
        for sock in (self._listener, self._wake_r, self._wake_w):
            sock.close()
        self._selector.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> SegmentHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _loop(self) -> None:
        while not self._stopping:
            for key, events in self._selector.select(timeout=1.0):
                if key.data == "wake":
                    return
                if key.data is None:
                    self._accept()
                    continue
                port: _Port = key.data
                if port not in self._ports:
                    continue  # dropped while an earlier event of this batch was handled
                if events & selectors.EVENT_READ:
                    self._read(port)
                if events & selectors.EVENT_WRITE and port in self._ports:
                    self._flush(port)

    def _accept(self) -> None:
        with contextlib.suppress(BlockingIOError):
            sock, _ = self._listener.accept()
            sock.setblocking(False)
            port = _Port(sock)
            self._ports.append(port)
            self._selector.register(sock, selectors.EVENT_READ, port)

    def _drop(self, port: _Port) -> None:
        self._ports.remove(port)
        self._selector.unregister(port.sock)
        port.sock.close()
        for mac in [m for m, p in self._macs.items() if p is port]:
            del self._macs[mac]

    def _read(self, port: _Port) -> None:
        try:
            data = port.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop(port)
            return
        buf = port.inbuf
        buf += data
        while len(buf) >= 4:
            size = int.from_bytes(buf[:4], "big")
            if size > self.MAX_FRAME:  # out of sync: not a QEMU stream; disconnect it
                self._drop(port)
                return
            if len(buf) < 4 + size:
                break
            frame = bytes(buf[: 4 + size])
            del buf[: 4 + size]
            self._forward(port, frame)

    def _forward(self, source: _Port, record: bytes) -> None:
        """Forward one length-prefixed frame from ``source``."""
        if len(record) < 4 + 14:
            return
        destination, sender = record[4:10], record[10:16]
        if not sender[0] & 1:
            self._macs[sender] = source
        target = None if destination[0] & 1 else self._macs.get(destination)
        targets = [target] if target is not None else self._ports
        for port in targets:
            if port is source or port not in self._ports:
                continue
            if len(port.outbuf) + len(record) > self.MAX_BACKLOG:
                self.dropped += 1
                continue
            was_empty = not port.outbuf
            port.outbuf += record
            self.frames += 1
            if was_empty:
                self._flush(port)

    def _flush(self, port: _Port) -> None:
        try:
            sent = port.sock.send(port.outbuf)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._drop(port)
            return
        del port.outbuf[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if port.outbuf else 0)
        self._selector.modify(port.sock, events, port)


# --------------------------------------------------------------------------------------------
# Virtual machines
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VmDisk:
    """An extra, blank virtio disk: what Nova attaches for a Cinder volume."""

    size_gib: int
    """Its size; the guest sees exactly ``size_gib`` GiB."""

    serial: str = ""
    """The virtio serial (Nova passes a volume's ID, cut to 20 characters, so the guest finds
    it as ``/dev/disk/by-id/virtio-<serial>``); empty for none."""


@dataclass(frozen=True)
class VmSpec:
    """One VM to boot.

    ``private_address`` is the static IPv4 address of the NIC on the shared segment (a /24 by
    default; keep it out of 10.0.2.0/24, which is slirp's), ``mac`` that NIC's MAC address.
    ``forward_ports`` are guest TCP ports to reach from the host on 127.0.0.1 (each gets a free
    host port; see :attr:`RunningVm.forwards`).
    """

    name: str
    user_data: str
    private_address: str
    mac: str
    memory_mb: int = 1024
    cpus: int = 1
    forward_ports: tuple[int, ...] = ()
    prefix_length: int = 24
    disks: tuple[VmDisk, ...] = ()
    """Blank disks attached after the root disk and the seed, in order."""
    floating: tuple[FloatingForward, ...] = ()
    """Loopback addresses that stand in for floating IPs pointing at this VM."""


@dataclass(frozen=True)
class FloatingForward:
    """A floating IP played by a loopback address: ``address:port`` on the host reaches the
    same port in the guest, as a floating IP (or a load balancer's) would on a cloud."""

    address: str
    """A 127.0.0.0/8 address other than 127.0.0.1 (the host has the whole range)."""

    port: int
    """The TCP port, the same on both sides."""


@dataclass
class RunningVm:
    """A QEMU process booting or running one :class:`VmSpec`."""

    spec: VmSpec
    process: subprocess.Popen[bytes]
    workdir: Path
    console_path: Path
    started: float
    """``time.monotonic()`` when QEMU was started."""
    forwards: dict[int, int] = field(default_factory=dict)
    """Guest TCP port -> host port on 127.0.0.1."""
    segment: SegmentHub | None = None
    """The hub the VM's second NIC is on."""
    command: list[str] = field(default_factory=list)
    """The QEMU command line (to start the same machine again, disks and all)."""
    boots: int = 1
    """How many times QEMU was started for this VM."""
    _released: bool = field(default=False, repr=False)

    @property
    def name(self) -> str:
        """The VM's name (its hostname)."""
        return self.spec.name

    def console_log(self) -> str:
        """Everything the guest wrote to its serial console so far."""
        try:
            return self.console_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def running(self) -> bool:
        """Whether the QEMU process is still alive."""
        return self.process.poll() is None

    def wait_for_console(self, pattern: str, timeout: float) -> tuple[re.Match[str], float]:
        """Wait for the regular expression ``pattern`` on the console.

        Returns the match and the seconds since QEMU started when it was first seen.  Raises
        :class:`TimeoutError` (with the console's tail) after ``timeout`` seconds, or
        :class:`HarnessError` at once if QEMU exits.
        """
        regex = re.compile(pattern, re.MULTILINE)
        deadline = time.monotonic() + timeout
        while True:
            match = regex.search(self.console_log())
            if match:
                return match, time.monotonic() - self.started
            if not self.running():
                raise HarnessError(
                    f"{self.name}: qemu exited {self.process.returncode} before /{pattern}/; "
                    f"stderr: {self._stderr_tail()}\nconsole tail:\n{self._console_tail()}"
                )
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"{self.name}: no /{pattern}/ on the console within {timeout:.0f}s; "
                    f"tail:\n{self._console_tail()}"
                )
            time.sleep(0.5)

    def host_port(self, guest_port: int) -> int:
        """The loopback port forwarded to ``guest_port`` (listed in ``spec.forward_ports``)."""
        try:
            return self.forwards[guest_port]
        except KeyError:
            raise KeyError(f"{self.name}: guest port {guest_port} is not forwarded") from None

    def read_banner(self, guest_port: int, timeout: float) -> bytes:
        """Connect to a forwarded port until the guest's server sends something; return it.

        Slirp accepts the host-side connection even when nothing listens in the guest (and
        then closes it), so only received bytes prove that the guest's server is up: use this
        for servers that speak first, such as SSH.
        """
        port = self.host_port(guest_port)
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError), socket.create_connection(
                ("127.0.0.1", port), timeout=5
            ) as sock:
                data = sock.recv(256)
                if data:
                    return data
            if not self.running():
                raise HarnessError(f"{self.name}: qemu exited {self.process.returncode}")
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{self.name}: nothing from guest port {guest_port}")
            time.sleep(2)

    def kill(self) -> None:
        """Pull the plug: SIGKILL, no shutdown of any kind (the disks keep what was written)."""
        if self.running():
            self.process.kill()
            self.process.wait()

    def pause(self) -> None:
        """Freeze the VM (SIGSTOP to QEMU), as a host that hangs: it answers nothing, though
        the host's kernel still accepts TCP connections to its forwarded ports."""
        if self.running():
            os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Let a frozen VM run on (SIGCONT)."""
        if self.running():
            os.kill(self.process.pid, signal.SIGCONT)

    def start_again(self) -> None:
        """Power the stopped VM on again with the same disks and seed (a cold boot, not a
        new machine); its console continues in ``console.log``, earlier boots kept in
        ``console-<n>.log``."""
        if self.running():
            raise HarnessError(f"{self.name} is still running")
        self.console_path.rename(self.workdir / f"console-{self.boots}.log")
        self.boots += 1
        with (self.workdir / "qemu.stderr").open("ab") as stderr:
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=stderr,
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent)
        self.started = time.monotonic()

    def stop(self, timeout: float = 10) -> None:
        """Stop QEMU: SIGTERM (QEMU exits at once), SIGKILL after ``timeout`` seconds."""
        if self.running():
            self.resume()  # a frozen QEMU would act on SIGTERM only once continued
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.segment is not None and not self._released:
            self._released = True
            self.segment.release()

    def _console_tail(self, lines: int = 40) -> str:
        return "\n".join(self.console_log().splitlines()[-lines:])

    def _stderr_tail(self) -> str:
        path = self.workdir / "qemu.stderr"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""


def _die_with_parent() -> None:
    """In the QEMU child: get SIGKILL when the process that started it dies (Linux only)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _network_config(uplink_mac: str, spec: VmSpec) -> str:
    """The NoCloud network-config (version 2): DHCP on slirp, a static address on the segment."""
    return (
        "version: 2\n"
        "ethernets:\n"
        "  eth0:\n"
        f"    match: {{macaddress: '{uplink_mac}'}}\n"
        "    set-name: eth0\n"
        "    dhcp4: true\n"
        "  eth1:\n"
        f"    match: {{macaddress: '{spec.mac.lower()}'}}\n"
        "    set-name: eth1\n"
        f"    addresses: [{spec.private_address}/{spec.prefix_length}]\n"
    )


def _make_seed(spec: VmSpec, uplink_mac: str, vmdir: Path, log: Path) -> Path:
    """Write user-data, meta-data and network-config and pack them with ``cloud-localds``."""
    (vmdir / "user-data").write_text(spec.user_data)
    (vmdir / "meta-data").write_text(
        f"instance-id: {spec.name}-{os.urandom(4).hex()}\nlocal-hostname: {spec.name}\n"
    )
    (vmdir / "network-config").write_text(_network_config(uplink_mac, spec))
    seed = vmdir / "seed.iso"
    _run(
        ["cloud-localds", "--network-config", vmdir / "network-config", seed,
         vmdir / "user-data", vmdir / "meta-data"],
        log,
    )
    return seed


def _disk_path(vmdir: Path, index: int) -> Path:
    """Where the ``index``-th extra disk of a VM lives (a sparse qcow2)."""
    return vmdir / f"disk-{index}.qcow2"


def _disk_arguments(spec: VmSpec, vmdir: Path) -> list[str]:
    """``-drive``/``-device`` pairs for the VM's extra disks, each with its serial if any."""
    arguments: list[str] = []
    for index, disk in enumerate(spec.disks):
        drive = f"x{index}"
        device = f"virtio-blk-pci,drive={drive}" + (f",serial={disk.serial}" if disk.serial else "")
        arguments += [
            "-drive", f"file={_disk_path(vmdir, index)},format=qcow2,if=none,id={drive},"
                      "cache=unsafe",
            "-device", device,
        ]
    return arguments


def _qemu_command(
    image: BaseImage, spec: VmSpec, vmdir: Path, seed: Path, uplink_mac: str, hub: SegmentHub,
    forwards: dict[int, int],
) -> list[str]:
    """The QEMU command line for one VM."""
    user = "user,id=n0" + "".join(
        f",hostfwd=tcp:127.0.0.1:{host}-:{guest}" for guest, host in forwards.items()
    ) + "".join(
        f",hostfwd=tcp:{fip.address}:{fip.port}-:{fip.port}" for fip in spec.floating
    )
    return [
        "qemu-system-x86_64",
        "-name", spec.name,
        "-accel", "tcg,thread=multi",
        "-cpu", CPU_MODEL,
        "-m", str(spec.memory_mb),
        "-smp", str(spec.cpus),
        "-nodefaults",
        "-display", "none",
        "-kernel", str(image.kernel),
        "-initrd", str(image.initrd),
        "-append", KERNEL_ARGS,
        # Explicit devices, so that PCI slots (and so vda, vdb, ...) follow this order: the
        # root disk is vda, as the kernel command line and the image's fstab expect.
        "-drive", f"file={vmdir / 'disk.qcow2'},format=qcow2,if=none,id=root,cache=unsafe",
        "-device", "virtio-blk-pci,drive=root",
        "-drive", f"file={seed},format=raw,if=none,id=seed,readonly=on",
        "-device", "virtio-blk-pci,drive=seed",
        *_disk_arguments(spec, vmdir),
        "-netdev", user,
        "-device", f"virtio-net-pci,netdev=n0,mac={uplink_mac}",
        "-netdev", hub.netdev("n1"),
        "-device", f"virtio-net-pci,netdev=n1,mac={spec.mac.lower()}",
        "-device", "virtio-rng-pci",
        "-serial", f"file:{vmdir / 'console.log'}",
        "-monitor", "none",
    ]


def boot_vms(
    image: BaseImage,
    specs: Sequence[VmSpec],
    workdir: Path,
    hub: SegmentHub | None = None,
) -> list[RunningVm]:
    """Start one QEMU per spec (all at once) and return without waiting for them to boot.

    Each VM gets ``workdir/<name>/`` with its qcow2 overlay, seed ISO, ``console.log`` and
    ``qemu.stderr``.  Every VM's second NIC is on ``hub``; without one, a new hub is started
    and closed when the last of these VMs is stopped.  On failure the VMs already started are
    stopped.  Prefer :func:`vm_cluster`, which also cleans up.
    """
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise ValueError(f"VM names must be unique: {names}")
    if hub is None:
        hub = SegmentHub().start()
        hub.close_after(len(specs))
    started: list[RunningVm] = []
    try:
        for index, spec in enumerate(specs):
            vmdir = workdir / spec.name
            vmdir.mkdir(parents=True, exist_ok=True)
            log = vmdir / "prepare.log"
            uplink_mac = f"{UPLINK_MAC_PREFIX}:{index // 256:02x}:{index % 256:02x}"
            overlay = vmdir / "disk.qcow2"
            overlay.unlink(missing_ok=True)
            _run(
                ["qemu-img", "create", "-q", "-f", "qcow2", "-b", image.disk, "-F", "raw",
                 overlay],
                log,
            )
            for number, disk in enumerate(spec.disks):
                _disk_path(vmdir, number).unlink(missing_ok=True)
                _run(["qemu-img", "create", "-q", "-f", "qcow2", _disk_path(vmdir, number),
                      f"{disk.size_gib}G"], log)
            seed = _make_seed(spec, uplink_mac, vmdir, log)
            forwards = {guest: _free_port() for guest in spec.forward_ports}
            cmd = _qemu_command(image, spec, vmdir, seed, uplink_mac, hub, forwards)
            (vmdir / "qemu.cmd").write_text(" ".join(cmd) + "\n")
            console = vmdir / "console.log"
            console.unlink(missing_ok=True)
            with (vmdir / "qemu.stderr").open("wb") as stderr:
                process = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=stderr, stderr=subprocess.STDOUT,
                    start_new_session=True,
                    # A killed test run must not leave VMs behind.  (The signal follows the
                    # starting *thread*: call boot_vms from a thread that outlives the VMs.)
                    preexec_fn=_die_with_parent,
                )
            started.append(
                RunningVm(spec, process, vmdir, console, time.monotonic(), forwards, hub, cmd)
            )
    except BaseException:
        for vm in started:
            vm.stop()
        hub.release(len(specs) - len(started))
        raise
    return started


def keep_artefacts(workdir: Path, destination: Path) -> None:
    """Copy each VM's logs and seed inputs (not its disks) to ``destination``."""
    keep = ("console.log", "qemu.stderr", "qemu.cmd", "prepare.log", "user-data", "meta-data",
            "network-config")
    for vmdir in sorted(p for p in workdir.iterdir() if p.is_dir()):
        target = destination / vmdir.name
        target.mkdir(parents=True, exist_ok=True)
        for name in (*keep, *(p.name for p in vmdir.glob("console-*.log"))):
            if (vmdir / name).exists():
                shutil.copy2(vmdir / name, target / name)


@contextlib.contextmanager
def vm_cluster(
    image: BaseImage,
    specs: Sequence[VmSpec],
    workdir: Path,
    artefacts: Path | None = None,
) -> Iterator[list[RunningVm]]:
    """Boot ``specs`` on a fresh shared segment; always stop every QEMU on exit.

    The overlays are deleted on exit; consoles and seed inputs stay in ``workdir``.  When the
    body raises, the consoles and seed inputs are copied to ``artefacts`` (default
    ``$COE_E2E_ARTIFACTS`` if set, else they stay in ``workdir``) before the error propagates.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    env_artefacts = os.environ.get("COE_E2E_ARTIFACTS")
    if artefacts is None and env_artefacts:
        artefacts = Path(env_artefacts)
    vms: list[RunningVm] = []
    with SegmentHub() as hub:
        try:
            vms = boot_vms(image, specs, workdir, hub)
            yield vms
        except BaseException:
            for vm in vms:
                vm.stop()
            if artefacts is not None:
                label = f"{time.strftime('%Y%m%d-%H%M%S')}-{workdir.parent.name}-{workdir.name}"
                keep_artefacts(workdir, artefacts / label)
            raise
        finally:
            for vm in vms:
                vm.stop()
                # The overlays hold hundreds of MB each; the logs stay for inspection.
                for disk in (vm.workdir / "disk.qcow2", *vm.workdir.glob("disk-*.qcow2")):
                    disk.unlink(missing_ok=True)
