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

import os
import sys
from pathlib import Path

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

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

    shared = SharedStack(
        app,
        "HotcoreShared",
        env=env,
        description="hotcore: event bus and archive, GraphQL API, PlaceOrder saga, log key",
    )
    # One explicit line per aggregate: a fifth aggregate is a copied stack file plus a line.
    AccountStack(
        app, "HotcoreAccount", shared=shared, env=env, description="hotcore: the Account aggregate"
    )
    InventoryStack(
        app,
        "HotcoreInventory",
        shared=shared,
        env=env,
        description="hotcore: the Inventory aggregate",
    )
    OrderStack(
        app, "HotcoreOrder", shared=shared, env=env, description="hotcore: the Order aggregate"
    )
    CustomerStack(
        app,
        "HotcoreCustomer",
        shared=shared,
        env=env,
        description="hotcore: the Customer aggregate",
    )

    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return app


def main() -> None:
    assembly = build_app().synth()
    # The CDK CLI prints annotations; a plain ``python -m infra.app`` has to say them itself.
    for stack in assembly.stacks:
        for message in stack.messages:
            print(f"{message.level.name} {message.id}: {message.entry.data}", file=sys.stderr)
    print(f"synthesized {len(assembly.stacks)} stacks into {assembly.directory}", file=sys.stderr)


if __name__ == "__main__":
    main()
