"""The ``coe`` command: list drivers, validate cluster files, print their JSON Schema, plan
offline, diff two plans.

Exit codes: 0 success; 1 invalid input (one ``path: rule`` line per broken rule); 2 the
program failed, or a file is not what the command expects; 3 ``coe diff --fail-on`` found a
change of a kind it was told to fail on. Output is plain text (no colour) when it does not go to
a terminal.
"""

from __future__ import annotations

import json
import os
import re
import runpy
import sys
import time
from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.table import Table

import coe_provider
from coe_provider import clihelp
from coe_provider.cluster.registry import registered_drivers
from coe_provider.plan.diff import FAIL_KINDS, diff_plans, failing_kinds
from coe_provider.plan.render import (
    diff_markdown,
    diff_summary,
    plan_markdown,
    plan_summary,
    resource_tree,
)
from coe_provider.spec.config import coe_settings_from_file, load_clusters, under_stack_config
from coe_provider.spec.errors import SpecError
from coe_provider.spec.schema import SchemaKind, render_schema
from coe_provider.spec.yamlload import YamlLoadError, load_yaml_file

if TYPE_CHECKING:
    from coe_provider.plan.document import Plan
    from coe_provider.plan.openstack_answers import OpenStackAnswers
    from coe_provider.plan.runner import ProgramRun

# The plan runner and its provider answers load only for `coe plan` and `coe diff`, so
# `coe validate` and `coe drivers` start faster.

EXIT_INVALID = 1
"""The input breaks a rule (or cannot be read)."""

EXIT_FAILED = 2
"""The program failed, or a file is not what the command expects."""

EXIT_CHANGES = 3
"""``coe diff --fail-on`` found a change of a kind it was told to fail on."""

EXIT_AUDIT = 4
"""``coe audit --strict`` found a violation of a mandatory policy (coe_provider.policy)."""

# ``coe status`` exits 5 (unhealthy) or 6 (unreachable): coe_provider.health.report.EXIT_CODES.

STACK_FILE = re.compile(r"^Pulumi\.(?P<stack>.+)\.ya?ml$")
"""``Pulumi.<stack>.yaml``: a stack's configuration file."""

ROOT_PROJECT = "coe-provider"
"""Project name of the repository's root program (its ``Pulumi.yaml``)."""

PLACEHOLDER_NOTE = (
    "note: no Keystone URL for the cloud provider (the openstack_auth_url label, "
    "openstack:authUrl, OS_AUTH_URL or a clouds.yaml entry): planned with the placeholder "
    "{url}; coe validate and pulumi up need the real one")
"""What ``coe plan`` says when it planned with :data:`OFFLINE_PLACEHOLDER`."""

PLAIN_WIDTH = 200
"""Line width when output does not go to a terminal (CI logs), unless COLUMNS says otherwise."""

app = typer.Typer(
    name="coe",
    help=clihelp.APP,
    context_settings={"help_option_names": clihelp.HELP_OPTIONS},
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def package_version() -> str:
    """coe-provider's release (0.1.0 was commit 581c030), from the installed distribution."""
    from importlib.metadata import version

    return version("coe-provider")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"coe-provider {package_version()}")
        raise typer.Exit()


@app.callback(help=clihelp.APP)
def _options(
    show_version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print coe-provider's release and exit.")] = False,
) -> None:
    """Container orchestration clusters on OpenStack: validate, plan offline, diff plans."""


def make_console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr): colour and live display only on a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    tty = stream.isatty()
    width = None if tty else int(os.environ.get("COLUMNS") or PLAIN_WIDTH)
    return Console(file=stream, no_color=not tty, highlight=False, markup=False, emoji=False,
                   width=width, soft_wrap=True)


def fail(code: int, *lines: str) -> NoReturn:
    """Print ``lines`` on stderr and exit with ``code``."""
    sys.stdout.flush()
    for line in lines:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()
    raise typer.Exit(code)


def spec_lines(error: SpecError) -> list[str]:
    """One ``path: rule`` line per broken rule."""
    return [str(issue) for issue in error.issues] or [str(error)]


def write_output(target: Path, text: str, what: str) -> None:
    """Write ``text`` to a file, or to stdout when ``target`` is ``-``."""
    if str(target) == "-":
        sys.stdout.write(text)
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    except OSError as exc:
        fail(EXIT_FAILED, f"error: cannot write {what} to {target}: {exc.strerror}")
    make_console(stderr=True).print(f"wrote {what} to {target}")


def to_stdout(*targets: Path | None) -> bool:
    """True when one of the outputs goes to stdout (the human view is then left out)."""
    return any(target is not None and str(target) == "-" for target in targets)


# ---------------------------------------------------------------------------------- drivers


@app.command(help=clihelp.DRIVERS)
def drivers(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every registered COE driver and what it provides."""
    try:
        found = registered_drivers()
    except Exception as error:  # a broken driver package must not end in a traceback
        fail(EXIT_FAILED, f"error: cannot load the registered drivers: {error}")
    rows = [
        {"name": info.name, "coe": info.coe, "os": info.os,
         "os_distros": list(info.os_distros), "server_type": info.server_type,
         "version": info.version, "module": info.module}
        for info in found.values()
    ]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    columns = ("name", "coe", "os_distros", "server_type", "version", "module")
    for column in columns:
        table.add_column("os" if column == "os_distros" else column)
    for row in rows:
        table.add_row(*(", ".join(v) if isinstance(v := row[key], list) else str(v)
                        for key in columns))
    make_console().print(table)


# --------------------------------------------------------------------------------- validate


@app.command(help=clihelp.VALIDATE)
def validate(
    file: Annotated[Path, typer.Argument(help="A Pulumi.<stack>.yaml or a cluster YAML file.")],
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit 1 on warnings too (a kube_tag out of upstream support).")] = False,
) -> None:
    """Check every cluster of a stack file or cluster file (or a template file); exit 1
    listing each broken rule (warnings are printed and do not fail unless --strict)."""
    if validate_template_file(file):
        return
    try:
        settings = coe_settings_from_file(file)
        config, secret_keys = read_stack_config(file)
        # The provider settings of the stack file (openstack:cloud ...) count, as under pulumi up.
        resolved = under_stack_config(config, secret_keys, lambda: load_clusters(
            settings, file.resolve().parent))
    except SpecError as error:
        fail(EXIT_INVALID, *spec_lines(error))
    except Exception as error:  # e.g. a driver package that fails to load
        fail(EXIT_FAILED, f"error: {type(error).__name__}: {error}")
    console = make_console()
    for name, cluster in resolved.items():
        spec = cluster.spec
        workers = sum(group.count for group in spec.node_groups)
        version = cluster.driver.cls.coe_version(cluster.labels)
        console.print(
            f"{name}: OK (driver {cluster.driver.name}, {cluster.driver.coe} {version}, "
            f"{spec.master_count} master{'s' if spec.master_count != 1 else ''}, "
            f"{workers} worker{'s' if workers != 1 else ''} in {len(spec.node_groups)} "
            f"node group{'s' if len(spec.node_groups) != 1 else ''})")
    warnings = [f"warning: {issue.path}: {issue.rule}"
                for cluster in resolved.values() for issue in cluster.warnings]
    for line in warnings:
        sys.stderr.write(line + "\n")
    if strict and warnings:
        fail(EXIT_INVALID, f"--strict: {len(warnings)} warning(s)")


def validate_template_file(file: Path) -> bool:
    """When ``file`` is a template file, validate it as one and say so; False otherwise."""
    from coe_provider.spec.templatecheck import check_template, is_template_document

    try:
        document = load_yaml_file(file)
    except YamlLoadError:
        return False  # the stack-file path reports it
    if not is_template_document(document):
        return False
    try:
        verdict = check_template(document, file.resolve().parent)
    except Exception as error:  # e.g. a driver package that fails to load
        fail(EXIT_FAILED, f"error: {type(error).__name__}: {error}")
    if verdict.drivers:
        make_console().print(f"{file}: OK: a template file (templateFile:), valid for "
                             f"driver {', '.join(verdict.drivers)}")
        return True
    fail(EXIT_INVALID, f"{file}: a template file (templateFile:), checked for driver "
                       f"{verdict.closest} (the one it fits best):",
         *(str(issue) for issue in verdict.issues))


# ----------------------------------------------------------------------------------- schema


@app.command(help=clihelp.SCHEMA)
def schema(
    kind: Annotated[SchemaKind, typer.Option(
        "--kind", help="stack: a Pulumi.<stack>.yaml; cluster: a file with clusters: at the "
                       "top; template: a templateFile.")] = SchemaKind.STACK,
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="Write the schema here ('-' for stdout).")] = Path("-"),
) -> None:
    """Print the JSON Schema of stack files (or cluster or template files) for editors."""
    try:
        text = render_schema(kind)
    except Exception as error:  # e.g. a driver package that fails to load
        fail(EXIT_FAILED, f"error: {type(error).__name__}: {error}")
    write_output(output, text, "JSON Schema")


# ------------------------------------------------------------------------------------- plan


def stack_name(file: Path) -> str:
    """``Pulumi.<stack>.yaml`` -> ``<stack>``; any other file -> its stem."""
    match = STACK_FILE.match(file.name)
    return match.group("stack") if match else file.stem


def read_stack_config(file: Path) -> tuple[dict[str, str], list[str]]:
    """The flattened configuration of a stack file (or of a bare cluster file)."""
    try:
        document = load_yaml_file(file)
    except YamlLoadError as exc:
        raise SpecError.single("", str(exc)) from None
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        raise SpecError.single(
            "", f"{file}: must hold a YAML mapping (got {type(document).__name__})")
    if "config" not in document and {"clusters", "cluster"} & set(document):
        document = {"config": {f"coe:{key}": value for key, value in document.items()}}
    if not isinstance(document.get("config") or {}, Mapping):
        raise SpecError.single("config", "must be a mapping of configuration keys")
    from coe_provider.plan.runner import config_from_stack_file

    return config_from_stack_file(document)


def root_program_directory() -> Path | None:
    """The repository's root Pulumi program (next to the package), when installed editable."""
    directory = Path(coe_provider.__file__).resolve().parent.parent
    return directory if (directory / "__main__.py").is_file() else None


def program_directory(file: Path, program: Path | None) -> Path | None:
    """``--program``; else the stack file's own project when it has a program; else the root."""
    if program is not None:
        return program.resolve()
    here = file.resolve().parent
    if STACK_FILE.match(file.name) and (here / "__main__.py").is_file():
        return here
    return root_program_directory()


def project_name(directory: Path | None) -> str:
    """The ``name`` in a program's ``Pulumi.yaml``, as the runner reads it.

    ``None`` stands for the root program run from the installed package: ``coe-provider``.
    """
    if directory is None:
        return ROOT_PROJECT
    try:
        document = load_yaml_file(directory / "Pulumi.yaml")
    except YamlLoadError:
        return "project"
    if isinstance(document, Mapping) and isinstance(document.get("name"), str):
        return str(document["name"])
    return "project"


def run_stack_file(file: Path, program: Path | None = None,
                   openstack: OpenStackAnswers | None = None) -> ProgramRun:
    """Run a program with a stack file's configuration under the mocks runtime.

    The program runs from the stack file's directory, as ``pulumi`` runs a project from the
    directory that holds its stack files; relative paths in the configuration (such as
    ``templateFile``) resolve there. Without a root program directory (a non-editable
    install) the root program's entry point runs directly. ``openstack`` answers for the
    OpenStack resources (default: a fresh plan's).
    """
    from coe_provider.plan.runner import (
        program_environment,
        run_function,
        run_program_directory,
    )

    config, secret_keys = read_stack_config(file)
    stack = stack_name(file)
    directory = program_directory(file, program)
    here = file.resolve().parent
    if directory == here:
        return run_program_directory(directory, stack, config, secret_keys,
                                     openstack=openstack)
    if directory is not None and not (directory / "__main__.py").is_file():
        raise FileNotFoundError(f"{directory} has no __main__.py (a Pulumi Python program)")

    def entry_point() -> None:
        with program_environment(here, directory):
            if directory is None:
                from coe_provider.program import main

                main()
            else:
                runpy.run_path(str(directory / "__main__.py"), run_name="__main__")

    return run_function(entry_point, project=project_name(directory), stack=stack,
                        config=config, secret_keys=secret_keys, openstack=openstack)


def plan_stack_file(file: Path, program: Path | None = None,
                    state: Path | None = None) -> Plan:
    """The plan of a stack file (see :func:`run_stack_file`); ``state`` is a previous plan
    or a ``pulumi stack export``: ignored inputs keep their stored values and existing ports,
    load balancers and floating IPs their addresses."""
    from coe_provider.plan.document import build_plan
    from coe_provider.plan.state import PriorState, stack_mismatch

    if state is None:
        return build_plan(run_stack_file(file, program))
    document = read_json(state)
    other = stack_mismatch(document, stack_name(file), project_name(program_directory(
        file, program)))
    if other:
        fail(EXIT_FAILED, f"error: {state} is the state {other} ({file}); give the previous "
                          "plan (or pulumi stack export) of this stack")
    prior = PriorState.of(document)
    return build_plan(run_stack_file(file, program, prior.openstack_answers()), prior.inputs)


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a file; exits with :data:`EXIT_FAILED` when it is not one."""
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        fail(EXIT_FAILED, f"error: cannot read {path}: {exc.strerror}")
    except ValueError as exc:
        fail(EXIT_FAILED, f"error: {path}: not JSON ({exc})")
    if not isinstance(document, dict):
        fail(EXIT_FAILED, f"error: {path}: not a JSON object")
    return document


def _running(console: Console, message: str) -> Any:
    return console.status(message) if console.is_terminal else nullcontext()


def _program_failure(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    if len(first) > 300:
        first = first[:300] + "..."
    return f"error: the program failed: {type(error).__name__}: {first}".rstrip(": ")


@app.command(help=clihelp.PLAN)
def plan(
    file: Annotated[Path, typer.Argument(help="A Pulumi.<stack>.yaml (or a cluster file).")],
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Write the plan JSON here ('-' for stdout).")] = None,
    markdown: Annotated[Path | None, typer.Option(
        "--markdown", help="Write a Markdown summary here ('-' for stdout).")] = None,
    program: Annotated[Path | None, typer.Option(
        "--program", help="Directory of the Pulumi Python program to run "
                          "(default: the stack file's project if it has a __main__.py, "
                          "else the repository's root program).")] = None,
    tree_limit: Annotated[int, typer.Option(
        "--tree-limit", min=0, help="Show at most this many siblings of one type in the "
                                    "tree (0: all).")] = 50,
    state: Annotated[Path | None, typer.Option(
        "--state", help="The previous plan JSON (or `pulumi stack export`): inputs a resource "
                        "ignores keep their stored values, as the engine does, and existing "
                        "ports, load balancers and floating IPs keep their addresses, as the "
                        "cloud does.")] = None,
) -> None:
    """Run the program offline under Pulumi's mocks runtime and show what it would build."""
    err = make_console(stderr=True)
    started = time.perf_counter()
    from coe_provider.openstack.auth import OFFLINE_PLACEHOLDER, offline_keystone

    try:
        with _running(err, f"planning {file} under the mocks runtime"), \
                offline_keystone() as keystone:
            result = plan_stack_file(file, program, state)
    except SpecError as error:
        fail(EXIT_INVALID, *spec_lines(error))
    except FileNotFoundError as error:
        fail(EXIT_FAILED, f"error: {error}")
    except typer.Exit:
        raise  # an input file was already reported
    except (Exception, SystemExit) as error:
        fail(EXIT_FAILED, _program_failure(error))
    elapsed = time.perf_counter() - started
    document = result.as_json()
    if json_out is not None:
        write_output(json_out, result.dumps(), "plan JSON")
    if markdown is not None:
        write_output(markdown, plan_markdown(document), "plan Markdown")
    if to_stdout(json_out, markdown):
        if keystone.used:
            err.print(PLACEHOLDER_NOTE.format(url=OFFLINE_PLACEHOLDER))
        return
    console = make_console()
    console.print(resource_tree(document, tree_limit))
    console.print()
    console.print(plan_summary(document))
    err.print(f"planned {document['summary']['total']} resources in {elapsed:.1f} s "
              "(offline: no cloud was contacted)")
    if keystone.used:
        err.print(PLACEHOLDER_NOTE.format(url=OFFLINE_PLACEHOLDER))


# ------------------------------------------------------------------------------------- diff


def read_plan(path: Path) -> dict[str, Any]:
    """A plan JSON file; exits with :data:`EXIT_FAILED` when it is not one."""
    from coe_provider.plan.document import load_plan

    try:
        return load_plan(path.read_text())
    except OSError as exc:
        fail(EXIT_FAILED, f"error: cannot read {path}: {exc.strerror}")
    except ValueError as exc:
        fail(EXIT_FAILED, f"error: {path}: {exc}")


def parse_fail_on(values: list[str] | None) -> set[str]:
    """``--fail-on`` values, repeated or comma-separated."""
    kinds = {part.strip().lower() for value in values or [] for part in value.split(",")}
    kinds.discard("")
    unknown = sorted(kinds - set(FAIL_KINDS))
    if unknown:
        raise typer.BadParameter(
            f"unknown kind {', '.join(unknown)} (choose from {', '.join(sorted(FAIL_KINDS))})",
            param_hint="--fail-on")
    return kinds


@app.command(help=clihelp.DIFF)
def diff(
    before: Annotated[Path, typer.Argument(help="Plan JSON of the base (coe plan --json).")],
    after: Annotated[Path, typer.Argument(help="Plan JSON of the change.")],
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Write the diff JSON here ('-' for stdout).")] = None,
    markdown: Annotated[Path | None, typer.Option(
        "--markdown", help="Write a pull-request comment in Markdown here ('-' for stdout).",
    )] = None,
    fail_on: Annotated[list[str] | None, typer.Option(
        "--fail-on", help="Exit 3 when the diff has a change of this kind: replace, delete "
                          "(repeat or comma-separate). 'delete' counts deletions only, not "
                          "replacements; give both to fail on either.")] = None,
) -> None:
    """Compare two plans by URN: creates, deletes, updates and replacements."""
    kinds = parse_fail_on(fail_on)
    base, change = read_plan(before), read_plan(after)
    stacks = [f"{plan.get('project')}/{plan.get('stack')}" for plan in (base, change)]
    if stacks[0] != stacks[1]:
        make_console(stderr=True).print(
            f"warning: {before} is a plan of {stacks[0]} and {after} of {stacks[1]} "
            "(project/stack): the diff compares two different stacks")
    result = diff_plans(base, change)
    if json_out is not None:
        write_output(json_out, result.dumps(), "diff JSON")
    if markdown is not None:
        write_output(markdown, diff_markdown(result), "diff Markdown")
    if not to_stdout(json_out, markdown):
        make_console().print(diff_summary(result))
    failing = failing_kinds(result, kinds)
    if failing:
        counts = result.counts()
        fail(EXIT_CHANGES, "coe diff: failing on " + ", ".join(
            f"{counts[FAIL_KINDS[kind]]} {FAIL_KINDS[kind]}" for kind in failing)
            + " (--fail-on " + ",".join(failing) + ")")


# ------------------------------------------------------------------------------------ audit


def read_policy_config(path: Path | None) -> Any:
    """Each policy's settings under a ``--policy-pack-config`` file (defaults without one);
    exits with :data:`EXIT_FAILED` on a file that is not JSON, :data:`EXIT_INVALID` on one
    that breaks a rule."""
    from coe_provider.policy import POLICIES
    from coe_provider.policy.levels import PolicyConfigError, reconcile

    document = read_json(path) if path is not None else None
    try:
        return reconcile(POLICIES, document)
    except PolicyConfigError as error:
        fail(EXIT_INVALID, f"{path}: {error}")


@app.command(help=clihelp.AUDIT)
def audit(
    file: Annotated[Path, typer.Argument(
        help="A Pulumi.<stack>.yaml to plan, or a plan JSON (coe plan --json).")],
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit 4 on a violation of a mandatory policy: an internal port "
                         "faces outside, SSH is open to the world, or secret material is not "
                         "marked secret.")] = False,
    json_out: Annotated[Path | None, typer.Option(
        "--json", help="Write the audit JSON here ('-' for stdout).")] = None,
    program: Annotated[Path | None, typer.Option(
        "--program", help="Directory of the Pulumi Python program to run.")] = None,
    policy_config: Annotated[Path | None, typer.Option(
        "--policy-config", help="The policy pack's config JSON (what pulumi preview takes as "
                                "--policy-pack-config): enforcement levels, allowed CIDRs.",
    )] = None,
) -> None:
    """coe-provider's policies (the policy pack's) on a plan: what faces outside the cluster,
    whether every secret is marked secret, and the cluster rules."""
    from coe_provider.openstack.auth import OFFLINE_PLACEHOLDER, offline_keystone
    from coe_provider.plan.audit import audit_plan

    settings = read_policy_config(policy_config)
    if file.suffix == ".json":
        document = read_plan(file)
    else:
        try:
            with offline_keystone() as keystone:
                document = plan_stack_file(file, program).as_json()
            if keystone.used:
                make_console(stderr=True).print(PLACEHOLDER_NOTE.format(url=OFFLINE_PLACEHOLDER))
        except SpecError as error:
            fail(EXIT_INVALID, *spec_lines(error))
        except typer.Exit:
            raise  # an input file was already reported
        except (Exception, SystemExit) as error:
            fail(EXIT_FAILED, _program_failure(error))
    report = audit_plan(document, settings)
    if json_out is not None:
        write_output(json_out, json.dumps(report.as_json(), indent=2, sort_keys=True) + "\n",
                     "audit JSON")
    if not to_stdout(json_out):
        from coe_provider.plan.render_audit import audit_tables

        make_console().print(audit_tables(report))
    failures = report.failures
    if strict and failures:
        fail(EXIT_AUDIT, *(f"{f.policy}: {f.message}" for f in failures))


# ----------------------------------------------------------------------------------- status


def read_outputs(source: str) -> dict[str, Any]:
    """Stack outputs JSON from a file, or from standard input for ``-``."""
    if source == "-":
        try:
            document = json.loads(sys.stdin.read())
        except ValueError as exc:
            fail(EXIT_FAILED, f"error: standard input: not JSON ({exc})")
        if not isinstance(document, dict):
            fail(EXIT_FAILED, "error: standard input: not a JSON object")
        return document
    return read_json(Path(source))


@app.command(help=clihelp.STATUS)
def status(
    outputs: Annotated[str, typer.Argument(
        help="Stack outputs: the JSON `pulumi stack output --json --show-secrets` prints, "
             "as a file or - for standard input.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    cluster: Annotated[str | None, typer.Option(help="Check only this cluster.")] = None,
    timeout: Annotated[float, typer.Option(
        help="Seconds for connecting and for each answer.", min=1)] = 10.0,
    consoles: Annotated[bool, typer.Option(
        "--consoles", help="For nodes that are not ready, read their console logs through "
                           "Nova (clouds.yaml / OS_*) and show the line a failed bootstrap "
                           "ended with.")] = False,
) -> None:
    """Each cluster's health as its COE reports it (Magnum's health_status): HEALTHY,
    UNHEALTHY or UNKNOWN, and per node ready or not and why. Exit 0 healthy, 5 unhealthy,
    6 unreachable (the worst cluster decides)."""
    from coe_provider.health.outputs import (
        CLUSTER_PREFIX,
        OutputsError,
        server_ids_from_detail,
        targets_from_outputs,
    )
    from coe_provider.health.status import as_json as status_json
    from coe_provider.health.status import check_all, exit_code, render, with_console_verdicts
    from coe_provider.openstack import settings as provider_settings

    document = read_outputs(outputs)
    try:
        targets = targets_from_outputs(document, cluster)
    except OutputsError as exc:
        fail(EXIT_FAILED, f"error: {exc}")
    results = check_all(targets, timeout)
    if consoles:
        servers = {target.cluster: server_ids_from_detail(
            document[f"{CLUSTER_PREFIX}{target.cluster}"]) for target in targets}
        results = with_console_verdicts(results, servers, lambda: provider_settings.connect(
            None, None, {"api_timeout": timeout}))
    if as_json:
        sys.stdout.write(status_json(results))
    else:
        console = make_console()
        for result in results:
            console.print(render(result))
    code = exit_code(results)
    if code:
        raise typer.Exit(code)


# ----------------------------------------------------------------------------------- import

import_app = typer.Typer(name="import", help=clihelp.IMPORT, no_args_is_help=True)
app.add_typer(import_app)


@import_app.command("magnum", help=clihelp.IMPORT_MAGNUM)
def import_magnum(
    template: Annotated[Path | None, typer.Option(
        "--template", help="TEMPLATE.json: `openstack coe cluster template show -f json` or "
                           "the API's GET /v1/clustertemplates/{id}.")] = None,
    cluster: Annotated[str | None, typer.Option(
        "--cluster", help="CLUSTER.json (`openstack coe cluster show -f json`); with --cloud "
                          "or --cluster-template, the cluster's UUID or name.")] = None,
    nodegroups: Annotated[Path | None, typer.Option(
        "--nodegroups", help="NODEGROUPS.json: `openstack coe nodegroup list/show -f json`.")
    ] = None,
    cloud: Annotated[str | None, typer.Option(
        "--cloud", help="Read from this cloud's Magnum API (clouds.yaml; default OS_CLOUD or "
                        "OS_*).")] = None,
    cluster_template: Annotated[str | None, typer.Option(
        "--cluster-template", help="UUID or name of the cluster template on the Magnum API "
                                   "(default with --cluster: the cluster's).")] = None,
    name: Annotated[str | None, typer.Option("--name", help="Cluster name to write.")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", help="Write here instead of standard output.")] = None,
    image: Annotated[str | None, typer.Option(
        "--image", help="New image when the template's distro has no driver here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    allow_drop: Annotated[bool, typer.Option(
        "--allow-drop", help="Write even when fields could not be carried (exit 1).")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Replace a cluster of the same name in an existing stack file (or an "
                        "existing template file).")] = False,
    template_output: Annotated[Path | None, typer.Option(
        "--template-output", help="With --cluster and --output: write the cluster's template "
                                  "into this template file, named by templateFile.")] = None,
) -> None:
    """Turn a Magnum cluster template (and cluster) into a template or stack file, with a
    report of every field; exit 1 when a field that changes the cluster cannot be carried.
    The documents come from files, or from the Magnum API (--cloud / --cluster-template)."""
    from coe_provider.magnum.command import ImportOptions, run_import

    raise typer.Exit(run_import(ImportOptions(
        template=template, cluster=cluster, nodegroups=nodegroups, cloud=cloud,
        cluster_template=cluster_template, name=name, output=output, image=image,
        as_json=as_json, allow_drop=allow_drop, force=force, template_output=template_output)))

@app.command(help=clihelp.CLEANUP)
def cleanup(
    outputs: Annotated[str, typer.Argument(
        help="`pulumi stack output --json` output (no secret is needed): a file, or '-' for "
             "stdin.")],
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Only list what would be deleted and kept.")] = False,
    cluster: Annotated[str | None, typer.Option(
        "--cluster", help="Only this cluster (default: every cluster with a cloud provider).")
    ] = None,
    timeout: Annotated[float, typer.Option(
        "--timeout", help="Seconds the deletions may take.")] = 600.0,
) -> None:
    """Delete (or list) the load balancers, floating IPs, ports and volumes a cluster's cloud
    provider made, as `pulumi destroy` does after the servers. Credentials: clouds.yaml/OS_*."""
    from coe_provider.cleanup.executor import CleanupError
    from coe_provider.cleanup.operator import cleanup_from_outputs

    document = read_outputs(outputs)
    try:
        reports = cleanup_from_outputs(document, "stdin" if outputs == "-" else outputs, cluster,
                                       dry_run, timeout)
    except (ValueError, CleanupError) as error:
        fail(EXIT_FAILED, f"error: {error}")
    except Exception as error:  # openstacksdk / keystoneauth: one line, no traceback
        fail(EXIT_FAILED, f"error: {type(error).__name__}: {error}")
    for report in reports:
        typer.echo("\n".join(report.lines()))


def main() -> None:
    """Console-script entry point."""
    app(prog_name="coe")


if __name__ == "__main__":
    main()
