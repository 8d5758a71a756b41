"""The ``coe`` command: its subcommands, their arguments and help (coe_provider.clihelp).

Each command's work lives with its tool and loads only when the command runs, so ``coe
--help`` imports none of them: ``coe drivers`` in cluster/listing.py, ``validate`` and
``schema`` in spec/command.py, ``plan`` and ``diff`` in plan/command.py, ``images`` in
plan/images.py, ``audit`` in policy/command.py, ``status`` in health/command.py, ``import
magnum`` in magnum/command.py, ``cleanup`` in cleanup/command.py. Exit codes and output
conventions: coe_provider.cliio.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coe_provider import clihelp
from coe_provider.spec.schema import SchemaKind

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


@app.command(help=clihelp.DRIVERS)
def drivers(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every registered COE driver and what it provides."""
    from coe_provider.cluster.listing import drivers_command

    drivers_command(as_json)


@app.command(help=clihelp.VALIDATE)
def validate(
    file: Annotated[Path, typer.Argument(help="A Pulumi.<stack>.yaml or a cluster YAML file.")],
    strict: Annotated[bool, typer.Option(
        "--strict", help="Exit 1 on warnings too (a kube_tag out of upstream support).")] = False,
) -> None:
    """Check every cluster of a stack file or cluster file (or a template file); exit 1
    listing each broken rule (warnings are printed and do not fail unless --strict)."""
    from coe_provider.spec.command import validate_command

    validate_command(file, strict)


@app.command(help=clihelp.SCHEMA)
def schema(
    kind: Annotated[SchemaKind, typer.Option(
        "--kind", help="stack: a Pulumi.<stack>.yaml; cluster: a file with clusters: at the "
                       "top; template: a templateFile.")] = SchemaKind.STACK,
    output: Annotated[Path, typer.Option(
        "--output", "-o", help="Write the schema here ('-' for stdout).")] = Path("-"),
) -> None:
    """Print the JSON Schema of stack files (or cluster or template files) for editors."""
    from coe_provider.spec.command import schema_command

    schema_command(kind, output)


@app.command(help=clihelp.IMAGES)
def images(
    file: Annotated[Path, typer.Argument(help="A Pulumi.<stack>.yaml (or a cluster file).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """List every image, chart, package repository and file each cluster will fetch."""
    from coe_provider.plan.images import images_command

    images_command(file, as_json)


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
    from coe_provider.plan.command import plan_command

    plan_command(file, json_out, markdown, program, tree_limit, state)


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
    from coe_provider.plan.command import diff_command

    diff_command(before, after, json_out, markdown, fail_on)


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
    from coe_provider.policy.command import audit_command

    audit_command(file, strict, json_out, program, policy_config)


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
    from coe_provider.health.command import status_command

    status_command(outputs, as_json, cluster, timeout, consoles)


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
    from coe_provider.cleanup.command import cleanup_command

    cleanup_command(outputs, dry_run, cluster, timeout)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="coe")


if __name__ == "__main__":
    main()
