"""Where nodes get the Keystone URL and region: label, stack config, OS_*, clouds.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest

from coe_provider.openstack.auth import keystone_url, missing_url_rule, region_name

CLOUDS = """\
clouds:
  prod:
    auth:
      auth_url: https://keystone.prod.example:5000/v3
      username: operator
    region_name: RegionTwo
"""

SECURE = """\
clouds:
  prod:
    auth:
      password: not-read-here
"""


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No OS_* variable and no stack config; a clouds.yaml at a path only OS_CLIENT_CONFIG_FILE
    names (not in any directory openstacksdk searches by default)."""
    for variable in ("OS_AUTH_URL", "OS_REGION_NAME", "OS_CLOUD", "OS_CLIENT_CONFIG_FILE",
                     "OS_CLIENT_SECURE_FILE"):
        monkeypatch.delenv(variable, raising=False)
    clouds = tmp_path / "elsewhere" / "my-clouds.yaml"
    clouds.parent.mkdir()
    clouds.write_text(CLOUDS)
    (tmp_path / "elsewhere" / "my-secure.yaml").write_text(SECURE)
    pulumi.runtime.set_all_config({}, [])
    yield clouds
    pulumi.runtime.set_all_config({}, [])


def test_nothing_named_means_no_url_and_the_default_region(clean_environment: Path) -> None:
    assert keystone_url(None) is None
    assert region_name(None) == "RegionOne"


def test_the_client_config_file_variable_is_honoured(
        clean_environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clean_environment))
    monkeypatch.setenv("OS_CLOUD", "prod")
    assert keystone_url(None) == "https://keystone.prod.example:5000/v3"
    assert region_name(None) == "RegionTwo"


def test_the_stack_cloud_setting_selects_the_entry(
        clean_environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clean_environment))
    pulumi.runtime.set_all_config({"openstack:cloud": "prod"}, [])
    assert keystone_url(None) == "https://keystone.prod.example:5000/v3"


def test_an_unknown_cloud_names_nothing(
        clean_environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clean_environment))
    monkeypatch.setenv("OS_CLOUD", "staging")
    assert keystone_url(None) is None
    assert region_name(None) == "RegionOne"
    assert "(cloud 'staging': Cloud staging was not found; clouds.yaml is read from " in \
        missing_url_rule("cloud_provider_enabled")


def test_a_clouds_yaml_of_the_wrong_shape_is_named_not_raised(
        clean_environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment.write_text("clouds: 5\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clean_environment))
    monkeypatch.setenv("OS_CLOUD", "prod")
    assert keystone_url(None) is None
    rule = missing_url_rule("cloud_provider_enabled")
    assert rule.startswith("cloud_provider_enabled needs the Keystone URL: ")
    assert "(cloud 'prod': clouds.yaml could not be read (TypeError: " in rule


def test_order_label_then_stack_config_then_environment(
        clean_environment: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clean_environment))
    monkeypatch.setenv("OS_CLOUD", "prod")
    monkeypatch.setenv("OS_AUTH_URL", "https://from-env:5000/v3")
    monkeypatch.setenv("OS_REGION_NAME", "EnvRegion")
    assert keystone_url(None) == "https://from-env:5000/v3"
    assert region_name(None) == "EnvRegion"
    pulumi.runtime.set_all_config(
        {"openstack:authUrl": "https://from-stack:5000/v3", "openstack:region": "StackRegion"}, [])
    assert keystone_url(None) == "https://from-stack:5000/v3"
    assert region_name(None) == "StackRegion"
    assert keystone_url("https://label:5000/v3") == "https://label:5000/v3"
    assert region_name("LabelRegion") == "LabelRegion"
