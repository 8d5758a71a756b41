"""The provider's ``openstack:*`` settings become arguments keystoneauth and openstacksdk take.

Every case builds the real auth plugin from the mapped arguments, through keystoneauth's loader
(as openstacksdk does), so an option a plugin does not take fails here with its ``TypeError``.
The option lists are keystoneauth's own (``loading.get_plugin_loader(name).get_options()``); the
setting list is pulumi-openstack's (``pulumi_openstack.config.vars``).
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any

import pytest
from keystoneauth1 import loading

from coe_provider.openstack.settings import (
    AUTH_SETTINGS,
    CONNECTION_SETTINGS,
    IGNORED_SETTINGS,
    connect,
    connection_arguments,
    decode_arguments,
)
from tests.fake_openstack import PASSWORD, FakeCloud, FakeOpenStack

URL = "https://keystone.example.com:5000/v3"


def _plugin(arguments: dict[str, Any]) -> Any:
    """The plugin keystoneauth's loader builds from the arguments (openstacksdk's path)."""
    loader: Any = loading.get_plugin_loader(arguments.get("auth_type", "password"))
    return loader.load_from_options(**arguments["auth"])


def test_every_setting_pulumi_openstack_accepts_is_mapped_or_ignored_with_a_reason() -> None:
    from pulumi_openstack.config import vars as config_vars

    vars_module = inspect.getsource(config_vars)
    accepted = set(__import__("re").findall(r"__config__\.get(?:_bool|_int)?\('(\w+)'\)",
                                            vars_module))
    assert {"defaultDomain", "tenantName", "applicationCredentialName"} <= accepted
    known = set(AUTH_SETTINGS) | set(CONNECTION_SETTINGS) | set(IGNORED_SETTINGS)
    assert accepted <= known, sorted(accepted - known)


CASES: dict[str, tuple[dict[str, str], str, dict[str, Any]]] = {
    "password": ({"authUrl": URL, "userName": "op", "password": "pw", "tenantName": "demo",
                  "userDomainName": "Default", "projectDomainName": "Default"},
                 "password", {"_username": "op", "_user_domain_name": "Default"}),
    "password-ids": ({"authUrl": URL, "userId": "u1", "password": "pw", "tenantId": "p1"},
                     "password", {"_user_id": "u1", "_project_id": "p1"}),
    "password-defaultDomain": ({"authUrl": URL, "userName": "op", "password": "pw",
                                "tenantName": "demo", "defaultDomain": "dom1"},
                               "password", {"_default_domain_id": "dom1"}),
    "password-domainName": ({"authUrl": URL, "userName": "op", "password": "pw",
                             "tenantName": "demo", "domainName": "Default"},
                            "password", {"_project_domain_name": "Default",
                                         "_user_domain_name": "Default", "_domain_name": None}),
    "password-domain-scope": ({"authUrl": URL, "userName": "op", "password": "pw",
                               "userDomainId": "d", "domainId": "d"},
                              "password", {"_domain_id": "d"}),
    "password-system": ({"authUrl": URL, "userName": "op", "password": "pw",
                         "userDomainName": "Default", "systemScope": "true"},
                        "password", {"_system_scope": "all"}),
    "token": ({"authUrl": URL, "token": "tok", "tenantName": "demo",
               "projectDomainId": "default"}, "token", {"_token": "tok"}),
    "token-defaultDomain": ({"authUrl": URL, "token": "tok", "tenantName": "demo",
                             "defaultDomain": "dom1"}, "token", {"_default_domain_id": "dom1"}),
    "appcred-id": ({"authUrl": URL, "applicationCredentialId": "ac1",
                    "applicationCredentialSecret": "s"}, "v3applicationcredential", {}),
    "appcred-id-tenantName": ({"authUrl": URL, "applicationCredentialId": "ac1",
                               "applicationCredentialSecret": "s", "tenantName": "demo",
                               "defaultDomain": "dom1"}, "v3applicationcredential", {}),
    "appcred-name-user": ({"authUrl": URL, "applicationCredentialName": "ci",
                           "applicationCredentialSecret": "s", "userName": "op",
                           "userDomainName": "Default"}, "v3applicationcredential", {}),
    "appcred-name-user-defaultDomain": ({"authUrl": URL, "applicationCredentialName": "ci",
                                         "applicationCredentialSecret": "s", "userName": "op",
                                         "tenantName": "demo", "defaultDomain": "dom1"},
                                        "v3applicationcredential", {}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_real_plugin_is_built_from_the_mapped_arguments(case: str) -> None:
    settings, auth_type, attributes = CASES[case]
    arguments = connection_arguments(settings)
    assert arguments.get("auth_type", "password") == auth_type
    plugin = _plugin(arguments)
    for name, value in attributes.items():
        assert getattr(plugin, name) == value, name
    if auth_type == "v3applicationcredential":
        # Bound to its project: no scope (Keystone refuses a scoped application credential).
        assert plugin.project_name is None and plugin.project_id is None
        [method] = plugin.auth_methods
        if "applicationCredentialName" in settings:
            assert method.username == "op"
            assert (method.user_domain_id, method.user_domain_name) in (
                ("dom1", None), (None, "Default"))
    # openstacksdk reaches the same plugin through its own config loader.
    from openstack import config

    region = config.get_cloud_region(load_yaml_config=False, load_envvars=False, **arguments)
    assert type(region.get_auth()).__name__ == type(plugin).__name__


def test_settings_stored_by_0_1_0_are_read_as_today() -> None:
    # 0.1.0 stored ``default_domain`` (refused by the password plugin) and scoped app creds.
    stored = {"auth": {"auth_url": URL, "username": "op", "password": "pw",
                       "project_name": "demo", "default_domain": "dom1"}}
    arguments = decode_arguments(json.dumps(stored), "stored")
    assert _plugin(arguments)._default_domain_id == "dom1"
    stored = {"auth_type": "v3applicationcredential", "auth": {  # type: ignore[dict-item]
        "auth_url": URL, "application_credential_id": "ac1",
        "application_credential_secret": "s", "project_name": "demo"}}
    arguments = decode_arguments(json.dumps(stored), "stored")
    assert "project_name" not in arguments["auth"]
    assert _plugin(arguments).auth_methods[0].application_credential_id == "ac1"


def test_endpoint_overrides_become_openstacksdk_overrides() -> None:
    arguments = connection_arguments({"endpointOverrides": json.dumps(
        {"volumev3": "https://cinder/v3", "network": "https://neutron/",
         "load-balancer": "https://octavia/"})})
    assert arguments == {"block_storage_endpoint_override": "https://cinder/v3",
                         "network_endpoint_override": "https://neutron/",
                         "load_balancer_endpoint_override": "https://octavia/"}


def test_default_domain_authenticates_against_keystone(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    for key in [k for k in os.environ if k.startswith("OS_")]:
        monkeypatch.delenv(key)
    with FakeOpenStack(FakeCloud()) as fake:
        arguments = connection_arguments({"authUrl": fake.auth_url, "userName": "operator",
                                          "password": PASSWORD, "tenantName": "demo",
                                          "defaultDomain": "default"})
        conn = connect(None, "RegionOne", arguments)
        assert list(conn.network.ips()) == []
        assert fake.cloud.requests == [("GET", "/network/v2.0/floatingips")]


def test_pem_contents_stay_off_disk(tmp_path: Path) -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    arguments = decode_arguments(json.dumps({"cacert": pem, "key": pem}), "stored")
    for name in ("cacert", "key"):
        path = arguments[name]
        assert path.startswith("/proc/self/fd/"), path
        assert Path(path).read_text() == pem
        assert Path(path).resolve().name.startswith(f"memfd:coe-{name}")
