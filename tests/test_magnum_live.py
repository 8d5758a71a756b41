"""`coe import magnum --cloud`: the same import, with the documents read from Magnum's API.

openstacksdk authenticates against the fake OpenStack on 127.0.0.1 (Keystone v3 and Magnum,
tests/fake_openstack.py and tests/fake_magnum.py) with a temporary clouds.yaml; the fake
serves the fixtures of tests/magnum/ as the API would and records every request.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import Result

from tests.fake_openstack import FakeCloud, FakeOpenStack
from tests.test_magnum_import import CLUSTER, FCOS, NODEGROUPS, UBUNTU, coe

CLOUD = "old-magnum"
"""The clouds.yaml entry the tests use."""

CLUSTER_UUID = "e2f3a4b5-c6d7-4e8f-9a0b-1c2d3e4f5a6b"
TEMPLATE_UUID = "0562d357-8641-4759-8fed-8173f02c9633"
FCOS_UUID = "a8b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"
GROUP_UUIDS = ("11111111-2222-4333-8444-555555555555", "22222222-3333-4444-8555-666666666666",
               "33333333-4444-4555-8666-777777777777")
LATEST = "container-infra latest"


def api_shaped(path: Path) -> dict[str, Any]:
    """A fixture as the API serves it: the CLI prints ``"-"`` where the API has null."""
    document: dict[str, Any] = json.loads(path.read_text())
    return {key: None if value == "-" else value for key, value in document.items()}


def magnum_cloud() -> FakeCloud:
    """A cloud whose Magnum holds the fixtures: two templates, a cluster, its node groups."""
    cloud = FakeCloud()
    cloud.magnum.templates = [api_shaped(UBUNTU), api_shaped(FCOS)]
    cloud.magnum.clusters = [api_shaped(CLUSTER)]
    cloud.magnum.nodegroups = {CLUSTER_UUID: json.loads(NODEGROUPS.read_text())["nodegroups"]}
    return cloud


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeOpenStack]:
    """The fake cloud, reachable as ``--cloud old-magnum`` (no OS_* variables set)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for key in [key for key in os.environ if key.startswith("OS_")]:
        monkeypatch.delenv(key)
    with FakeOpenStack(magnum_cloud()) as server:
        write_clouds_yaml(server, tmp_path, monkeypatch)
        yield server


def write_clouds_yaml(server: FakeOpenStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                      **changes: str) -> None:
    """A clouds.yaml for the fake (``changes`` replace auth entries), named by
    OS_CLIENT_CONFIG_FILE."""
    document = server.clouds_yaml(CLOUD)
    document["clouds"][CLOUD]["auth"].update(changes)
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(document))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def json_report(result: Result) -> dict[str, Any]:
    """The --json report, without where it was written (the paths differ)."""
    report: dict[str, Any] = json.loads(result.stdout)
    report.pop("written")
    return report


def one_error_line(result: Result) -> str:
    """The command's output, which must be one error line and no traceback."""
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return lines[0]


def test_live_cluster_writes_what_file_mode_writes(fake: FakeOpenStack, tmp_path: Path) -> None:
    from_files, from_api = tmp_path / "Pulumi.files.yaml", tmp_path / "Pulumi.api.yaml"
    files = coe("import", "magnum", "--template", UBUNTU, "--cluster", CLUSTER, "--nodegroups",
                NODEGROUPS, "--output", from_files, "--json")
    live = coe("import", "magnum", "--cloud", CLOUD, "--cluster", "prod_Cluster",
               "--output", from_api, "--json")
    assert files.exit_code == 0 and live.exit_code == 0, live.output
    live_report, files_report = json_report(live), json_report(files)
    # The written stack names the cloud it was read from, whose clouds.yaml entry gives the
    # cloud provider its Keystone URL; the files name no cloud, so there the URL is missing.
    keystone = [w for w in files_report["warnings"] if ".labels.openstack_auth_url: " in w]
    assert len(keystone) == 1 and "needs the Keystone URL" in keystone[0]
    assert live_report.pop("warnings") == [w for w in files_report.pop("warnings")
                                           if w not in keystone]
    assert live_report == files_report
    written, expected = (yaml.safe_load(p.read_text())["config"] for p in (from_api, from_files))
    assert written.pop("openstack:cloud") == CLOUD
    assert written == expected
    assert from_api.read_text().splitlines()[0] == (
        f"# Imported from Magnum cluster prod_Cluster ({CLUSTER_UUID}) on cloud {CLOUD!r} "
        "by `coe import magnum`.")
    # The cluster, its own template, the node group list, then each node group in full (the
    # list view has no labels and shows min 0 / max null whatever the group holds).
    groups = f"/magnum/v1/clusters/{CLUSTER_UUID}/nodegroups"
    paths = ["/magnum/v1/clusters/prod_Cluster", f"/magnum/v1/clustertemplates/{TEMPLATE_UUID}",
             groups, *(f"{groups}/{uuid}" for uuid in GROUP_UUIDS)]
    assert fake.cloud.requests == [("GET", path) for path in paths]
    assert fake.cloud.magnum.api_versions == [(path, LATEST) for path in paths]


def test_live_template_by_name_through_os_cloud(fake: FakeOpenStack, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_CLOUD", CLOUD)
    from_files, from_api = tmp_path / "files.yaml", tmp_path / "api.yaml"
    files = coe("import", "magnum", "--template", UBUNTU, "--output", from_files, "--json")
    live = coe("import", "magnum", "--cluster-template", "k8s-ubuntu", "--output", from_api,
               "--json")
    assert live.exit_code == 0, live.output
    assert json_report(live) == json_report(files)
    header, *body = from_api.read_text().splitlines()
    assert header == (f"# Imported from Magnum cluster template k8s-ubuntu ({TEMPLATE_UUID}) on "
                      f"cloud {CLOUD!r} by `coe import magnum`.")
    assert body[1:] == from_files.read_text().splitlines()[2:]
    assert fake.cloud.requests == [("GET", "/magnum/v1/clustertemplates/k8s-ubuntu")]


def test_a_missing_cluster_template_is_one_line_and_exit_2(fake: FakeOpenStack,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "t.yaml"
    line = one_error_line(coe("import", "magnum", "--cloud", CLOUD, "--cluster-template",
                              "k8s-gone", "--output", out))
    assert line == (f"error: cluster template 'k8s-gone' on cloud {CLOUD!r}: not found (404 "
                    "from the Magnum API: Cluster template k8s-gone could not be found.)")
    assert not out.exists()


def test_an_ambiguous_name_asks_for_the_uuid(fake: FakeOpenStack) -> None:
    fake.cloud.magnum.templates.append(dict(api_shaped(UBUNTU), uuid="another-uuid"))
    line = one_error_line(coe("import", "magnum", "--cloud", CLOUD, "--cluster-template",
                              "k8s-ubuntu"))
    assert line.startswith(f"error: cluster template 'k8s-ubuntu' on cloud {CLOUD!r}: the name "
                           "is held by more than one; give the UUID (409 from the Magnum API")


def test_a_cloud_without_magnum_says_so(fake: FakeOpenStack) -> None:
    fake.cloud.uncatalogued.add("container-infra")
    line = one_error_line(coe("import", "magnum", "--cloud", CLOUD, "--cluster", "prod"))
    assert line.startswith(f"error: cluster 'prod' on cloud {CLOUD!r}: the service catalog has "
                           "no container-infra (Magnum) endpoint (")
    assert fake.cloud.requests == []


def test_a_cluster_made_from_another_template_is_refused(fake: FakeOpenStack) -> None:
    line = one_error_line(coe("import", "magnum", "--cloud", CLOUD, "--cluster", CLUSTER_UUID,
                              "--cluster-template", FCOS_UUID))
    assert f"was made from cluster template {TEMPLATE_UUID}, not {FCOS_UUID!r}" in line


@pytest.mark.parametrize(("setup", "said"), [
    ("wrong password", f"cluster 'prod' on cloud {CLOUD!r}: authentication failed ("),
    ("unknown cloud", "cluster 'prod' on cloud 'elsewhere': Cloud elsewhere was not found."),
    ("no credentials", "cluster 'prod' on the cloud of the OS_* variables: no credentials: "
                       "give --cloud NAME"),
    ("keystone down", f"cluster 'prod' on cloud {CLOUD!r}: cannot reach the cloud ("),
    ("clouds.yaml of the wrong shape", f"cluster 'prod' on cloud {CLOUD!r}: cannot load the "
                                       "cloud configuration (TypeError: "),
])
def test_credential_and_network_failures_are_one_line(
        fake: FakeOpenStack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: str,
        said: str) -> None:
    cloud: str | None = CLOUD
    if setup == "wrong password":
        write_clouds_yaml(fake, tmp_path, monkeypatch, password="wrong")
    elif setup == "unknown cloud":
        cloud = "elsewhere"
    elif setup == "no credentials":
        monkeypatch.delenv("OS_CLIENT_CONFIG_FILE")
        cloud = None
    elif setup == "keystone down":
        write_clouds_yaml(fake, tmp_path, monkeypatch,
                          auth_url=f"http://127.0.0.1:{closed_port()}/identity/v3")
    else:
        (tmp_path / "clouds.yaml").write_text(yaml.safe_dump({"clouds": {CLOUD: {"auth": 5}}}))
    args = ["--cloud", cloud] if cloud else ["--cluster-template", "any"]
    result = coe("import", "magnum", *args, "--cluster", "prod")
    assert one_error_line(result).startswith(f"error: {said}")
    assert fake.cloud.requests == []


def test_files_and_the_api_do_not_mix(fake: FakeOpenStack) -> None:
    line = one_error_line(coe("import", "magnum", "--cloud", CLOUD, "--template", UBUNTU))
    assert "give one or the other" in line
