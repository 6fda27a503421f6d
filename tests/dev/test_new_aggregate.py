"""A fifth aggregate, made the way the README says, works everywhere the four do.

In a temporary copy of the checkout: ``hotcore new aggregate shipment``, then
``hotcore schema``; then the new aggregate's own tests and the registry-driven ones
(delivery rules, schemas, handler imports), a command and a query through the local
composition root, the CDK synth with cdk-nag, and ``hotcore bench fold shipment``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def run(
    copy: Path, *argv: str, timeout: float = 600, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # The copy's own packages first: the editable install points at this checkout.
    env = {
        **os.environ,
        **(env or {}),
        "PYTHONPATH": os.pathsep.join([str(copy / "src"), str(copy)]),
    }
    env.pop("HOTCORE_DB", None)
    # the copy has no built layer: its synth is a template check (infra/app.py refuses
    # to synthesize a deployable app with the pure-Python stand-in otherwise)
    env["HOTCORE_ALLOW_PURE_LAYER"] = "1"
    done = subprocess.run(
        [sys.executable, *argv],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{argv}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("fifth") / "hotcore"
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for name in listed:
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    made = run(target, "-m", "hotcore_dev.cli", "new", "aggregate", "shipment")
    assert "wrote src/hotcore/contracts/shipment.py" in made.stdout
    run(target, "-m", "hotcore_dev.cli", "schema")
    return target


def test_the_steps_touch_only_what_the_readme_says(copy: Path) -> None:
    changed = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "shipment" not in changed.stdout  # this checkout is untouched
    registry = (copy / "src/hotcore/domain/registry.py").read_text()
    assert '"customer", "shipment")' in registry
    app = (copy / "infra/app.py").read_text()
    assert 'ShipmentStack(app, "HotcoreShipment", shared=shared, env=env)' in app
    sdl = (copy / "schemas/schema.graphql").read_text()
    assert "createShipment(" in sdl
    assert (copy / "schemas/shipment.json").is_file()


def test_its_tests_and_the_registry_driven_ones_pass(copy: Path) -> None:
    run(
        copy,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/unit/test_domain_shipment.py",
        "tests/unit/test_delivery_rules.py",
        "tests/dev/test_schema.py",
        "tests/build/test_handler_imports.py",
        "tests/build/test_import_direction.py",
    )


def test_it_runs_locally_through_the_local_composition_root(copy: Path) -> None:
    script = (
        "from hotcore_dev.local import LocalApp\n"
        "from hotcore.store.memory import MemoryDatabase\n"
        "from hotcore.contracts.shipment import CreateShipment, RenameShipment\n"
        "app = LocalApp(MemoryDatabase())\n"
        "print(app.execute('shipment', CreateShipment(shipment_id='s-1', title='box')))\n"
        "print(app.execute('shipment', RenameShipment(shipment_id='s-1', title='crate')))\n"
        "loaded = app.state('shipment', 's-1')\n"
        "print(loaded.version, loaded.state.title, len(app.subscriptions))\n"
    )
    out = run(copy, "-c", script).stdout.splitlines()
    assert out[-1] == "2 crate 2"  # two events, folded, and both reached the subscribers


def test_it_synthesizes_with_cdk_nag_passing(copy: Path) -> None:
    # template checks only: the copy has no compiled layer zip (make layer builds one)
    run(copy, "-m", "infra.app", timeout=900, env={"HOTCORE_ALLOW_PURE_LAYER": "1"})
    template = json.loads((copy / "infra/cdk.out/HotcoreShipment.template.json").read_text())
    tables = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert len(tables) == 1
    functions = [
        r["Properties"]["FunctionName"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function" and "FunctionName" in r["Properties"]
    ]
    assert "hotcore-shipment-command" in functions
    assert "hotcore-shipment-query" in functions


def test_the_fold_profiler_measures_it(copy: Path) -> None:
    out = run(
        copy,
        "-m",
        "hotcore_dev.fold",
        "shipment",
        "--events",
        "2000",
        "--rounds",
        "1",
        "--in-process",
        "--json",
    ).stdout
    result = json.loads(out[out.index("{") : out.rindex("}") + 1])
    assert result["events"] == 2000
    assert result["builds"]["interpreted"]["fold_ns_per_event"] > 0
