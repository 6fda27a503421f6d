"""The CDK app: the shared stack and one stack per aggregate, checked by cdk-nag.

``python -m infra.app`` (``make synth``) writes the cloud assembly to ``infra/cdk.out``
with no AWS account and no network; ``cdk deploy --all`` (run in ``infra/``) runs the
same file. Account and region come from ``-c account=... -c region=...``, else from the
CDK CLI's current profile (``CDK_DEFAULT_ACCOUNT`` / ``CDK_DEFAULT_REGION``), else from
placeholders that are good for offline checks only. Nothing is looked up.

cdk-nag's AwsSolutions pack runs as a validation plugin: an unacknowledged finding makes
the synth fail, and every acknowledgment in the stacks carries its reason.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from infra.stacks import common
from infra.stacks.account_stack import AccountStack
from infra.stacks.customer_stack import CustomerStack
from infra.stacks.inventory_stack import InventoryStack
from infra.stacks.order_stack import OrderStack
from infra.stacks.shared_stack import SharedStack

#: Where ``make synth`` writes (the CDK CLI passes its own ``CDK_OUTDIR``).
DEFAULT_OUTDIR = Path(__file__).resolve().parent / "cdk.out"
#: Used when neither context nor the CLI names an account: synth works offline, and a
#: deploy with these fails at once instead of landing somewhere unexpected.
OFFLINE_ACCOUNT = "111111111111"
OFFLINE_REGION = "us-east-1"


def environment(app: App, account: str | None = None, region: str | None = None) -> Environment:
    """The one account and region every stack is pinned to (no lookups anywhere)."""
    return Environment(
        account=account
        or app.node.try_get_context("account")
        or os.environ.get("CDK_DEFAULT_ACCOUNT")
        or OFFLINE_ACCOUNT,
        region=region
        or app.node.try_get_context("region")
        or os.environ.get("CDK_DEFAULT_REGION")
        or OFFLINE_REGION,
    )


def build_app(
    outdir: str | Path | None = None, *, account: str | None = None, region: str | None = None
) -> App:
    """Every hotcore stack in one app, with the AwsSolutions checks registered."""
    if outdir is None and "CDK_OUTDIR" not in os.environ:
        outdir = DEFAULT_OUTDIR
    app = App(
        outdir=None if outdir is None else str(outdir),
        # Strong (export/import) on purpose: the shared stack exports only identifiers
        # that never change (bus, API, saga, roles, key). The layer, whose ARN changes
        # with every build, is therefore declared in each aggregate stack, not shared.
        context={"@aws-cdk/core:defaultCrossStackReferences": "strong"},
    )
    env = environment(app, account, region)

    shared = SharedStack(app, "HotcoreShared", env=env)
    # One explicit line per aggregate: a fifth aggregate is a copied stack file plus a line.
    AccountStack(app, "HotcoreAccount", shared=shared, env=env)
    InventoryStack(app, "HotcoreInventory", shared=shared, env=env)
    OrderStack(app, "HotcoreOrder", shared=shared, env=env)
    CustomerStack(app, "HotcoreCustomer", shared=shared, env=env)

    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


#: ``HOTCORE_ALLOW_PURE_LAYER=1`` (``make synth ALLOW_PURE_LAYER=1``): synthesize with the
#: pure-Python stand-in layer, for template checks only (it cannot run on Lambda).
ALLOW_PURE_LAYER = "HOTCORE_ALLOW_PURE_LAYER"


def layer_problem(layer_zip: Path) -> str | None:
    """Why ``layer_zip`` cannot be deployed (missing, or without compiled msgspec), or None."""
    import zipfile

    if not layer_zip.is_file():
        return f"{layer_zip} not found"
    try:
        with zipfile.ZipFile(layer_zip) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        return f"{layer_zip} is not a zip file"
    if not any(n.startswith("python/msgspec/_core") and n.endswith(".so") for n in names):
        return f"{layer_zip} holds no compiled msgspec"
    return None


def main() -> None:
    problem = layer_problem(common.LAYER_ZIP)
    if problem is not None and os.environ.get(ALLOW_PURE_LAYER) != "1":
        # cdk deploy runs this file too: refuse before functions that fail at import ship
        print(
            f"error: {problem}: run `make layer` first (about 4 minutes), or "
            "`make synth ALLOW_PURE_LAYER=1` for a pure-Python stand-in that cannot run "
            "on Lambda (template checks only)",
            file=sys.stderr,
        )
        sys.exit(1)
    assembly = build_app().synth()
    # The CDK CLI prints annotations; a plain ``python -m infra.app`` has to say them itself.
    for line in stack_messages(Path(assembly.directory)):
        print(line, file=sys.stderr)
    print(f"synthesized {len(assembly.stacks)} stacks into {assembly.directory}", file=sys.stderr)


def stack_messages(assembly_dir: Path) -> list[str]:
    """The warnings, errors and notes of every stack, read from the assembly's manifest.

    Read as JSON rather than through ``CloudFormationStackArtifact.messages``: jsii cannot
    build the proxies of those entries unless a module it never imports is loaded.
    """
    manifest = json.loads((assembly_dir / "manifest.json").read_text())
    lines = []
    for artifact in manifest.get("artifacts", {}).values():
        metadata = dict(artifact.get("metadata", {}))
        if "additionalMetadataFile" in artifact:  # newer assemblies keep it beside the manifest
            metadata.update(
                json.loads((assembly_dir / artifact["additionalMetadataFile"]).read_text())
            )
        for path, entries in metadata.items():
            for entry in entries:
                kind = entry.get("type", "")
                if kind.startswith("aws:cdk:") and kind[8:] in ("error", "warning", "info"):
                    lines.append(f"{kind[8:].upper()} {path}: {entry.get('data')}")
    return lines


if __name__ == "__main__":
    main()
