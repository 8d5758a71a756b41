"""`coe import magnum` into files the operator already has: only this cluster changes,
secrets are never printed, and the import's input gaps are refused."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner, Result

from coe_provider.cli import app
from coe_provider.magnum.redact import SECRET, scrub, shown

FIXTURES = Path(__file__).resolve().parent / "magnum"
UBUNTU = FIXTURES / "template-k8s-ubuntu.json"
CLUSTER = FIXTURES / "cluster-k8s.json"
NODEGROUPS = FIXTURES / "nodegroups.json"
NAME = "prod-cluster"
"""The name the fixture cluster (``prod_Cluster``) is imported under."""

EXISTING = """\
# The production stack: do not edit by hand.
encryptionsalt: v1:Zm9vYmFy:v1:c2FsdA==:bGVmdA==
config:
  openstack:cloud: mycloud   # our cloud
  other-app:setting: keep-me
  coe:clusters:
    # the first cluster
    old:
      driver: swarm_ubuntu
      template:
        image: debian-12
        flavor: m1.small
        externalNetwork: public
      waitForReady: false
      nodeGroups:
      - name: workers
        count: 1
"""

runner = CliRunner()


def coe(*args: str | Path) -> Result:
    return runner.invoke(app, [str(arg) for arg in args])


def import_cluster(out: Path, *more: str | Path) -> Result:
    return coe("import", "magnum", "--template", UBUNTU, "--cluster", CLUSTER,
               "--nodegroups", NODEGROUPS, "--output", out, *more)


@pytest.fixture(autouse=True)
def keystone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_AUTH_URL", "https://keystone.example.com:5000/v3")


def test_import_into_an_existing_stack_file_keeps_everything_else(tmp_path: Path) -> None:
    out = tmp_path / "Pulumi.prod.yaml"
    out.write_text(EXISTING)
    result = import_cluster(out)
    assert result.exit_code == 0, result.output
    assert f"wrote {out} (cluster {NAME} added)" in result.stderr
    text = out.read_text()
    # Everything the import does not own is still there, byte for byte, comments included.
    assert text.startswith(EXISTING.split("    old:")[0])
    assert EXISTING.split("# the first cluster\n")[1] in text
    document = yaml.safe_load(text)
    assert document["encryptionsalt"] == "v1:Zm9vYmFy:v1:c2FsdA==:bGVmdA=="
    assert document["config"]["openstack:cloud"] == "mycloud"
    assert document["config"]["other-app:setting"] == "keep-me"
    assert set(document["config"]["coe:clusters"]) == {"old", NAME}
    assert document["config"]["coe:clusters"][NAME]["masterCount"] == 3
    assert "# Imported from Magnum" in text


def test_same_name_needs_force_and_then_only_that_cluster_changes(tmp_path: Path) -> None:
    out = tmp_path / "Pulumi.prod.yaml"
    out.write_text(EXISTING)
    assert import_cluster(out).exit_code == 0
    before = out.read_text()
    again = import_cluster(out)
    assert again.exit_code == 2
    assert again.stderr.strip().splitlines()[-1] == (
        f"error: {out}: already holds cluster {NAME}; give --force to replace it, or --name to "
        "import under another name; nothing written")
    assert out.read_text() == before
    # An edit the operator made to the imported cluster is replaced only with --force.
    edited = before.replace("masterCount: 3", "masterCount: 5")
    out.write_text(edited)
    forced = import_cluster(out, "--force")
    assert forced.exit_code == 0, forced.output
    assert f"wrote {out} (cluster {NAME} replaced)" in forced.stderr
    after = yaml.safe_load(out.read_text())
    assert after["config"]["coe:clusters"][NAME]["masterCount"] == 3
    assert after["config"]["other-app:setting"] == "keep-me"
    assert out.read_text().split("  coe:clusters:")[0] == EXISTING.split("  coe:clusters:")[0]


def test_a_new_stack_file_says_added(tmp_path: Path) -> None:
    out = tmp_path / "Pulumi.new.yaml"
    result = import_cluster(out)
    assert result.exit_code == 0, result.output
    assert f"wrote {out} (cluster {NAME} added)" in result.stderr
    check = coe("validate", out)
    assert check.exit_code == 0, check.output


def test_template_file_is_replaced_only_with_force(tmp_path: Path) -> None:
    out = tmp_path / "k8s-template.yaml"
    first = coe("import", "magnum", "--template", UBUNTU, "--output", out)
    assert first.exit_code == 0, first.output
    assert f"wrote {out} (template added)" in first.stderr
    out.write_text("# my notes about this template\n" + out.read_text())
    before = out.read_text()
    second = coe("import", "magnum", "--template", UBUNTU, "--output", out)
    assert second.exit_code == 2
    assert f"error: {out}: exists; give --force to replace the template in it" in second.stderr
    assert out.read_text() == before
    forced = coe("import", "magnum", "--template", UBUNTU, "--output", out, "--force")
    assert forced.exit_code == 0, forced.output
    assert f"wrote {out} (template replaced)" in forced.stderr
    assert out.read_text().startswith("# my notes about this template\n")


def test_a_template_is_never_written_into_a_stack_file(tmp_path: Path) -> None:
    out = tmp_path / "Pulumi.prod.yaml"
    out.write_text(EXISTING)
    result = coe("import", "magnum", "--template", UBUNTU, "--output", out, "--force")
    assert result.exit_code == 2
    assert "a stack file; a template-only import writes a template file" in result.stderr
    assert out.read_text() == EXISTING


def test_an_unreadable_stack_file_is_not_touched(tmp_path: Path) -> None:
    out = tmp_path / "Pulumi.prod.yaml"
    out.write_text("config: [unclosed\n")
    result = import_cluster(out)
    assert result.exit_code == 2
    assert f"error: {out}: not valid YAML, so it cannot be merged into" in result.stderr
    assert out.read_text() == "config: [unclosed\n"


def _with(path: Path, tmp_path: Path, **changes: Any) -> Path:
    document = json.loads(path.read_text())
    labels = changes.pop("labels", None)
    document.update(changes)
    if labels:
        document["labels"] = {**document["labels"], **labels}
    target = tmp_path / path.name
    target.write_text(json.dumps(document))
    return target


def test_secret_labels_are_never_printed(tmp_path: Path) -> None:
    template = _with(UBUNTU, tmp_path, labels={
        "grafana_admin_passwd": "hunter2-grafana", "cluster_basic_auth_secret": "s3cr3t-auth",
        "some_api_token": "tok-123"})
    for extra in ((), ("--json",)):
        result = coe("import", "magnum", "--template", template, "--allow-drop",
                     "--output", tmp_path / "t.yaml", "--force", *extra)
        for value in ("hunter2-grafana", "s3cr3t-auth", "tok-123"):
            assert value not in result.output
        assert SECRET in result.output
    report = json.loads(coe("import", "magnum", "--template", template, "--json").stdout)
    by_field = {row["field"]: row for row in report["rows"]}
    assert by_field["labels.grafana_admin_passwd"]["value"] == SECRET


def test_proxy_credentials_are_not_printed_and_the_file_is_private(tmp_path: Path) -> None:
    template = _with(UBUNTU, tmp_path, http_proxy="http://ops:pr0xy-pass@proxy.example:3128",
                     https_proxy="http://ops:pr0xy-pass@proxy.example:3128")
    to_stdout = coe("import", "magnum", "--template", template, "--cluster", CLUSTER)
    assert "pr0xy-pass" not in to_stdout.output
    assert to_stdout.exit_code == 1
    assert to_stdout.stderr.strip().splitlines()[-1] == (
        "error: template.httpProxy, template.httpsProxy carry credentials (user:password@), "
        "which are never printed: give --output FILE, written with mode 0600; nothing written")
    out = tmp_path / "Pulumi.prod.yaml"
    out.write_text(EXISTING)
    out.chmod(0o644)
    written = coe("import", "magnum", "--template", template, "--cluster", CLUSTER,
                  "--output", out)
    assert written.exit_code == 0, written.output
    assert "pr0xy-pass" not in written.output
    assert "http://[secret]@proxy.example:3128" in written.stdout
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert (f"warning: {out} holds the proxy credentials of template.httpProxy, "
            "template.httpsProxy in clear, so it was written with mode 0600") in written.stderr
    # The stack stays usable: the file holds the real URL and validates.
    cluster = yaml.safe_load(out.read_text())["config"]["coe:clusters"][NAME]
    assert cluster["template"]["httpProxy"] == "http://ops:pr0xy-pass@proxy.example:3128"
    check = coe("validate", out)
    assert check.exit_code == 0, check.output


def test_a_file_without_credentials_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "Pulumi.prod.yaml"
    out.write_text(EXISTING)
    out.chmod(0o640)
    assert import_cluster(out).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640


@pytest.mark.parametrize(("name", "value", "printed"), [
    ("grafana_admin_passwd", "x", SECRET), ("db_password", "x", SECRET),
    ("labels.cluster_basic_auth_secret", "x", SECRET), ("trust_token", "x", SECRET),
    ("http_proxy", "http://u:p@h:1", "http://[secret]@h:1"), ("kube_tag", "v1", "v1"),
    ("grafana_admin_passwd", "", "")])
def test_shown(name: str, value: str, printed: str) -> None:
    assert shown(name, value) == printed


def test_scrub_keeps_urls_without_credentials() -> None:
    assert scrub("see http://proxy:3128 and https://a:b@c/d") == \
        "see http://proxy:3128 and https://[secret]@c/d"


def test_template_only_import_says_where_the_zone_went(tmp_path: Path) -> None:
    result = coe("import", "magnum", "--template", UBUNTU, "--json",
                 "--output", tmp_path / "t.yaml")
    report = json.loads(result.stdout)
    row = next(r for r in report["rows"] if r["field"] == "labels.availability_zone")
    assert row["target"] == "template.masterAvailabilityZone"
    assert "set availabilityZone on each node group" in row["note"]


def test_nodegroups_without_cluster_is_an_error(tmp_path: Path) -> None:
    result = coe("import", "magnum", "--template", UBUNTU, "--nodegroups", NODEGROUPS)
    assert result.exit_code == 2
    assert result.stderr == ("error: --nodegroups needs --cluster CLUSTER.json: node groups "
                             "belong to a cluster (a template alone has none)\n")


def test_cluster_of_another_template_is_refused(tmp_path: Path) -> None:
    cluster = _with(CLUSTER, tmp_path, cluster_template_id="11111111-2222-3333-4444-555555555555")
    result = coe("import", "magnum", "--template", UBUNTU, "--cluster", cluster)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: cluster {cluster}: was built from cluster template "
        "11111111-2222-3333-4444-555555555555, but template "
        f"{UBUNTU} is 0562d357-8641-4759-8fed-8173f02c9633; give the cluster's own template "
        "(openstack coe cluster template show 11111111-2222-3333-4444-555555555555 -f json)\n")


def test_duplicate_json_keys_are_refused(tmp_path: Path) -> None:
    text = UBUNTU.read_text().replace('{', '{"flavor_id": "m1.tiny",', 1)
    template = tmp_path / "dup.json"
    template.write_text(text)
    result = coe("import", "magnum", "--template", template)
    assert result.exit_code == 2
    assert result.stderr == (f"error: template {template}: duplicate key 'flavor_id'; which "
                             "one is meant is unclear\n")


def test_template_output_writes_the_template_beside_the_stack_file(tmp_path: Path) -> None:
    out = tmp_path / "Pulumi.prod.yaml"
    out.write_text(EXISTING)
    template = tmp_path / "templates" / "k8s.yaml"
    result = import_cluster(out, "--template-output", template)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-2:] == [f"wrote {template} (template added)",
                                               f"wrote {out} (cluster {NAME} added)"]
    cluster = yaml.safe_load(out.read_text())["config"]["coe:clusters"][NAME]
    assert cluster["templateFile"] == "templates/k8s.yaml" and "template" not in cluster
    assert yaml.safe_load(template.read_text())["masterFlavor"] == "m1.xlarge"
    assert out.read_text().startswith(EXISTING.split("    old:")[0])
    check = coe("validate", out)
    assert check.exit_code == 0, check.output


def test_template_output_is_checked_before_anything_is_written(tmp_path: Path) -> None:
    out = tmp_path / "Pulumi.prod.yaml"
    out.write_text(EXISTING)
    template = tmp_path / "k8s.yaml"
    template.write_text("# mine\nimage: keep\n")
    refused = import_cluster(out, "--template-output", template)
    assert refused.exit_code == 2
    assert f"error: {template}: exists; give --force" in refused.stderr
    assert (out.read_text(), template.read_text()) == (EXISTING, "# mine\nimage: keep\n")
    # The stack file refuses (same cluster twice): the template file is not written either.
    assert import_cluster(out).exit_code == 0
    before = out.read_text()
    other = tmp_path / "other.yaml"
    again = import_cluster(out, "--template-output", other)
    assert again.exit_code == 2 and not other.exists() and out.read_text() == before


def test_template_output_needs_a_cluster_and_an_output(tmp_path: Path) -> None:
    result = coe("import", "magnum", "--template", UBUNTU, "--template-output",
                 tmp_path / "t.yaml", "--output", tmp_path / "x.yaml")
    assert (result.exit_code, result.stderr) == (
        2, "error: --template-output writes a cluster's template beside the stack file: give "
           "--cluster and --output too\n")
    assert not (tmp_path / "x.yaml").exists()


def test_template_output_with_proxy_credentials_makes_only_the_template_private(
        tmp_path: Path) -> None:
    template_json = _with(UBUNTU, tmp_path, http_proxy="http://ops:pr0xy-pass@proxy.example:3128")
    out, template = tmp_path / "Pulumi.prod.yaml", tmp_path / "k8s.yaml"
    result = coe("import", "magnum", "--template", template_json, "--cluster", CLUSTER,
                 "--output", out, "--template-output", template)
    assert result.exit_code == 0, result.output
    assert "pr0xy-pass" not in result.output
    assert stat.S_IMODE(template.stat().st_mode) == 0o600
    assert stat.S_IMODE(out.stat().st_mode) != 0o600
    assert f"warning: {template} holds the proxy credentials of template.httpProxy" in \
        result.stderr
    assert f"warning: {out} " not in result.stderr
