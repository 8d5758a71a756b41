"""The OpenStack provider's own settings, for code of this package that talks to OpenStack
where ``pulumi up`` or ``pulumi destroy`` runs (the cleanup on delete, the readiness gate's
look at console logs).

Operators often give the provider its credentials in the stack configuration
(``openstack:authUrl``, ``openstack:userName``, ``pulumi config set --secret
openstack:password`` ...) rather than in ``clouds.yaml`` or ``OS_*``. Code run by the engine
on behalf of a resource sees only that resource's stored inputs, so those settings travel with
it as openstacksdk's connection arguments in JSON, always a Pulumi secret.

This matches the provider itself: on ``pulumi destroy`` the engine configures the OpenStack
provider from the settings stored in the state, not from the current stack file, so the
cleanup authenticates as the provider deleting the servers does. Settings the stack leaves
out still come from ``clouds.yaml`` / ``OS_*`` where the engine runs.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from typing import Any

import pulumi

ENV_PROVIDER = "COE_CLEANUP_PROVIDER_SETTINGS"
"""Environment variable: the provider's settings as openstacksdk arguments (JSON)."""

AUTH_SETTINGS: Mapping[str, str] = {
    "authUrl": "auth_url",
    "userName": "username",
    "userId": "user_id",
    "password": "password",
    "tenantName": "project_name",
    "tenantId": "project_id",
    "userDomainName": "user_domain_name",
    "userDomainId": "user_domain_id",
    "projectDomainName": "project_domain_name",
    "projectDomainId": "project_domain_id",
    "domainName": "domain_name",
    "domainId": "domain_id",
    "defaultDomain": "default_domain",
    "applicationCredentialId": "application_credential_id",
    "applicationCredentialName": "application_credential_name",
    "applicationCredentialSecret": "application_credential_secret",
    "token": "token",
}
"""``openstack:<key>`` -> the keystoneauth argument it sets."""

CONNECTION_SETTINGS: Mapping[str, str] = {
    "endpointType": "interface",
    "cacertFile": "cacert",
    "cert": "cert",
    "key": "key",
    "insecure": "insecure",
}
"""``openstack:<key>`` -> the openstacksdk connection argument it sets (region and cloud
travel as ``OS_REGION_NAME`` / ``OS_CLOUD``, readable in the ``cloudCleanup`` output)."""

SECRET_SETTINGS = frozenset({"password", "applicationCredentialSecret", "token", "key"})
"""Settings read as secrets whether or not the stack file marks them ``secure``."""

PEM_FILE_SETTINGS = ("cacert", "cert", "key")
"""Arguments the provider accepts as a path or as PEM contents; openstacksdk needs a path."""


def provider_settings() -> pulumi.Output[str] | None:
    """The stack's provider settings as secret JSON connection arguments (None: none set)."""
    config = pulumi.Config("openstack")
    found: dict[str, pulumi.Input[str]] = {}
    for key in (*AUTH_SETTINGS, *CONNECTION_SETTINGS):
        value = config.get_secret(key) if key in SECRET_SETTINGS else config.get(key)
        if value is not None:
            found[key] = value
    if not found:
        return None

    def encode(values: dict[str, str]) -> str:
        return json.dumps(connection_arguments(values), sort_keys=True)

    return pulumi.Output.secret(pulumi.Output.all(**found).apply(encode))


def provider_settings_environment() -> dict[str, pulumi.Input[str]]:
    """``{ENV_PROVIDER: <secret JSON>}`` when the stack configures the provider, else ``{}``."""
    settings = provider_settings()
    return {ENV_PROVIDER: settings} if settings is not None else {}


def connection_arguments(settings: Mapping[str, str]) -> dict[str, Any]:
    """openstacksdk ``connect`` arguments from ``openstack:*`` settings (keys as in config).

    Application credentials and tokens need their keystoneauth plugin named, which the
    provider chooses by itself.
    """
    auth = {AUTH_SETTINGS[key]: value for key, value in settings.items() if key in AUTH_SETTINGS}
    arguments: dict[str, Any] = {CONNECTION_SETTINGS[key]: value
                                 for key, value in settings.items() if key in CONNECTION_SETTINGS}
    if auth:
        arguments["auth"] = auth
    if "application_credential_id" in auth or "application_credential_name" in auth:
        arguments["auth_type"] = "v3applicationcredential"
    elif "token" in auth and "password" not in auth:
        arguments["auth_type"] = "token"
    return arguments


def arguments_from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The stored connection arguments (``{}`` when the stack configured none)."""
    env = os.environ if environ is None else environ
    return decode_arguments(env.get(ENV_PROVIDER), ENV_PROVIDER)


def decode_arguments(text: str | None, source: str) -> dict[str, Any]:
    """Connection arguments from their JSON (``{}`` for none).

    ``insecure`` becomes ``verify``; PEM contents given where a path is expected are written to
    a private temporary file.
    """
    if not text:
        return {}
    try:
        arguments = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{source} is not JSON ({error.msg})") from None
    if not isinstance(arguments, dict):
        raise ValueError(f"{source} must hold a JSON object")
    insecure = arguments.pop("insecure", None)
    if insecure is not None:
        arguments["verify"] = str(insecure).strip().lower() not in ("true", "1", "yes")
    for name in PEM_FILE_SETTINGS:
        value = arguments.get(name)
        if isinstance(value, str) and value.lstrip().startswith("-----BEGIN"):
            arguments[name] = _private_file(name, value)
    return arguments


def connect(cloud: str | None, region: str | None, arguments: Mapping[str, Any]) -> Any:
    """An openstacksdk connection as the OpenStack provider makes one: its stack settings
    (``arguments``) over the clouds.yaml entry ``cloud`` / ``OS_*``."""
    import openstack  # the SDK takes a second to import; only code that talks to a cloud needs it

    # keystoneauth logs failed discovery as warnings; callers report the error in one line.
    logging.getLogger("keystoneauth").addHandler(logging.NullHandler())
    return openstack.connect(cloud=cloud, region_name=region, **arguments)


def _private_file(name: str, contents: str) -> str:
    """Write ``contents`` to a file only this user can read, removed when the process exits."""
    handle, path = tempfile.mkstemp(prefix=f"coe-cleanup-{name}-", suffix=".pem")
    with os.fdopen(handle, "w") as file:
        file.write(contents)
    atexit.register(os.unlink, path)
    return path
