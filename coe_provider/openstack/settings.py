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
import contextlib
import json
import logging
import os
import signal
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

ENV_PROVIDER = "COE_CLEANUP_PROVIDER_SETTINGS"
"""Environment variable: the provider's settings as openstacksdk arguments (JSON). Read by the
cleanup command of stacks made by 0.1.0 (:mod:`coe_provider.cleanup.__main__`)."""

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
    "defaultDomain": "default_domain_id",
    "systemScope": "system_scope",
    "applicationCredentialId": "application_credential_id",
    "applicationCredentialName": "application_credential_name",
    "applicationCredentialSecret": "application_credential_secret",
    "token": "token",
}
"""``openstack:<key>`` -> the keystoneauth option it sets before :func:`plugin_arguments` fits
the set to the plugin. ``defaultDomain`` is a domain *ID* (pulumi-openstack: "The name of the
Domain ID to scope to if no other domain is specified. Defaults to `default`"), and keystoneauth's
generic plugins take it as ``default_domain_id`` (``default_domain`` is no option of theirs)."""

CONNECTION_SETTINGS: Mapping[str, str] = {
    "endpointType": "interface",
    "cacertFile": "cacert",
    "cert": "cert",
    "key": "key",
    "insecure": "insecure",
    "endpointOverrides": "endpoint_overrides",
}
"""``openstack:<key>`` -> the openstacksdk connection argument it sets (region and cloud
travel apart: they are not secret, and the ``cloudCleanup`` output names them)."""

IGNORED_SETTINGS: Mapping[str, str] = {
    "cloud": "travels apart (not secret)",
    "region": "travels apart (not secret)",
    "allowReauth": "keystoneauth re-authenticates by default; the cleanup's session is short",
    "delayedAuth": "openstacksdk authenticates at the first request anyway",
    "maxRetries": "the cleanup polls with its own bounded waits",
    "swauth": "Swift's own auth: the cleanup and the gate talk to no object store",
    "disableNoCacheHeader": "a header the Go client sends; keystoneauth sends none",
    "enableLogging": "the Go client's debug log; the cleanup prints what it did",
}
"""Settings pulumi-openstack accepts that do not change how this package connects, and why."""

SECRET_SETTINGS = frozenset({"password", "applicationCredentialSecret", "token", "key"})
"""Settings read as secrets whether or not the stack file marks them ``secure``."""

PEM_FILE_SETTINGS = ("cacert", "cert", "key")
"""Arguments the provider accepts as a path or as PEM contents; openstacksdk needs a path."""

SCOPE_OPTIONS = ("project_name", "project_id", "project_domain_name", "project_domain_id",
                 "domain_name", "domain_id", "default_domain_id", "system_scope")
"""Scope options: an application credential is bound to its project and takes none."""

SERVICE_ALIASES: Mapping[str, str] = {
    "volumev3": "block-storage", "volumev2": "block-storage", "volume": "block-storage",
    "octavia": "load-balancer", "loadbalancer": "load-balancer",
}
"""``endpointOverrides`` keys of pulumi-openstack that name a service type otherwise."""


@dataclass(frozen=True)
class OpenStackSettings:
    """Where a cluster's OpenStack resources live, as code outside the engine's provider
    (the gate's console look, the cleanup) must reach them: the provider's cloud and region,
    and its stack settings as secret connection arguments."""

    cloud: str | None = None
    """The clouds.yaml entry."""

    region: str | None = None
    """The region."""

    arguments: pulumi.Output[str] | None = None
    """:func:`connection_arguments` as secret JSON (None: clouds.yaml / ``OS_*`` only)."""

    @classmethod
    def of_stack(cls) -> OpenStackSettings:
        """The default provider's: the stack's ``openstack:*`` settings."""
        config = pulumi.Config("openstack")
        return cls(config.get("cloud"), config.get("region"), provider_settings())

    def as_inputs(self) -> dict[str, Any]:
        """The resource input that carries them (the arguments a secret)."""
        return {"cloud": self.cloud, "region": self.region, "arguments": self.arguments}


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


def connection_arguments(settings: Mapping[str, str]) -> dict[str, Any]:
    """openstacksdk ``connect`` arguments from ``openstack:*`` settings (keys as in config):
    the keystoneauth plugin the provider would use and only the options that plugin takes."""
    auth = {AUTH_SETTINGS[key]: value for key, value in settings.items() if key in AUTH_SETTINGS}
    arguments: dict[str, Any] = {CONNECTION_SETTINGS[key]: value
                                 for key, value in settings.items() if key in CONNECTION_SETTINGS}
    overrides = arguments.pop("endpoint_overrides", None)
    if overrides:
        arguments.update(endpoint_override_arguments(overrides))
    auth_type, auth = plugin_arguments(auth)
    if auth:
        arguments["auth"] = auth
    if auth_type != "password":
        arguments["auth_type"] = auth_type
    return arguments


def plugin_arguments(auth: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The keystoneauth plugin name and its options, from the mapped settings.

    * Application credentials (``v3applicationcredential``): bound to their project, so the
      project and domain scope is dropped (Keystone refuses a scoped application credential
      token); a credential named by name needs its user, whose domain ``defaultDomain`` gives.
    * A token alone: the generic ``token`` plugin.
    * Otherwise the generic ``password`` plugin (openstacksdk's default).

    ``domainId`` / ``domainName`` with a project are the default of the user's and the
    project's domain (openstacksdk's reading too); without a project they are the scope.
    ``systemScope: true`` is keystoneauth's ``system_scope: all``.
    """
    options = dict(auth)
    if str(options.get("system_scope", "")).strip().lower() in ("true", "1"):
        options["system_scope"] = "all"
    else:
        options.pop("system_scope", None)
    if "application_credential_id" in options or "application_credential_name" in options:
        default_domain = options.get("default_domain_id")
        for option in SCOPE_OPTIONS:
            options.pop(option, None)
        options.pop("password", None)
        options.pop("token", None)
        named_user = "username" in options and "user_domain_id" not in options
        if named_user and "user_domain_name" not in options and default_domain:
            options["user_domain_id"] = default_domain
        return "v3applicationcredential", options
    project_scoped = "project_name" in options or "project_id" in options
    if project_scoped:
        for general, specific in (("domain_id", ("user_domain_id", "project_domain_id")),
                                  ("domain_name", ("user_domain_name", "project_domain_name"))):
            value = options.pop(general, None)
            for key in specific if value else ():
                options.setdefault(key, value)
    if "token" in options and "password" not in options:
        for option in ("username", "user_id", "user_domain_name", "user_domain_id"):
            options.pop(option, None)
        return "token", options
    options.pop("token", None)
    return "password", options


def endpoint_override_arguments(overrides: Any) -> dict[str, str]:
    """``<service>_endpoint_override`` arguments from pulumi-openstack's ``endpointOverrides``
    (a map of service type -> URL, given in the stack file as a map or as its JSON)."""
    if isinstance(overrides, str):
        try:
            overrides = json.loads(overrides)
        except json.JSONDecodeError:
            raise ValueError("openstack:endpointOverrides must be a map of service to URL") \
                from None
    if not isinstance(overrides, Mapping):
        raise ValueError("openstack:endpointOverrides must be a map of service to URL")
    found = {}
    for service, url in overrides.items():
        kind = SERVICE_ALIASES.get(str(service), str(service))
        found[f"{kind.replace('-', '_')}_endpoint_override"] = str(url)
    return found


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
    auth = arguments.get("auth")
    if isinstance(auth, dict):
        # Stacks made by 0.1.0 stored ``default_domain`` and scoped application credentials.
        if "default_domain" in auth:
            auth.setdefault("default_domain_id", auth.pop("default_domain"))
        auth_type, arguments["auth"] = plugin_arguments(auth)
        arguments.pop("auth_type", None)
        if auth_type != "password":
            arguments["auth_type"] = auth_type
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
    """A path to ``contents`` that only this process reads.

    On Linux the contents stay off disk: an anonymous in-memory file (``memfd_create``), read
    through ``/proc/self/fd``, which vanishes with the process however it ends. Elsewhere a
    file only this user can read, removed at exit and on SIGTERM / SIGINT / SIGHUP (a SIGKILL
    leaves it in the temporary directory).
    """
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        handle = os.memfd_create(f"coe-{name}", 0)  # kept open: the path lives as long as it
        os.write(handle, contents.encode())
        _MEMORY_FILES.append(handle)
        return f"/proc/self/fd/{handle}"
    handle, path = tempfile.mkstemp(prefix=f"coe-{name}-", suffix=".pem")
    with os.fdopen(handle, "w") as file:
        file.write(contents)
    _remove_on_exit(path)
    return path


_MEMORY_FILES: list[int] = []
"""Descriptors of the in-memory PEM files (open for the life of the process)."""


def _remove_on_exit(path: str) -> None:
    """Remove ``path`` at exit and when a terminating signal arrives."""
    def remove() -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    atexit.register(remove)
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        previous = signal.getsignal(number)

        def handler(signum: int, frame: Any, previous: Any = previous) -> None:
            remove()
            if callable(previous):
                previous(signum, frame)
            else:
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)

        with contextlib.suppress(ValueError):  # not the main thread: atexit still removes it
            signal.signal(number, handler)
