"""Each handler, imported in a fresh interpreter laid out like Lambda, loads only what it needs.

The interpreter runs without site-packages (``-S``); the path holds the package, the
handlers folder and a layer folder with msgspec alone, as the slim layer ships it.
Assertions are on the set of loaded modules, never on time (the benchmark report
records ``-X importtime``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

ROOT = Path(__file__).resolve().parents[1]
AGGREGATES = ["account", "inventory", "order", "customer"]
# What a handler must never pull in: the SDKs and frameworks hotcore replaces, local-only
# machinery, and import-heavy stdlib modules the runtime avoids on purpose.
FORBIDDEN = {
    "boto3",
    "botocore",
    "pydantic",
    "aws_lambda_powertools",
    "typing_extensions",
    "dataclasses",
    "inspect",
    "asyncio",
    "json",
    "sqlite3",
    "hotcore.bus",
    "hotcore.saga",
    "hotcore.store.sqlite",
    "hotcore.store.memory",
    "hotcore.demo",
    "hotcore.graphql",
    "hotcore.schema",
}
# Whose contracts each aggregate's handlers may load (its own, and those it reacts to).
MAY_SEE = {
    "account": {"account", "customer"},
    "inventory": {"inventory", "order"},
    "order": {"order", "account"},
    "customer": {"customer", "account"},
}


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("layer")
    (folder / "msgspec").symlink_to(Path(msgspec.__file__).parent)
    return folder


def loaded_modules(module: str, layer: Path) -> set[str]:
    code = (
        "import sys, json\n"
        f"sys.path[:0] = {[str(ROOT / 'src'), str(layer), str(ROOT / 'handlers')]!r}\n"
        f"import {module}\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOTCORE_TABLE": "hotcore-test",
        "HOTCORE_GUARD_TABLE": "hotcore-test-guards",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
    }
    done = subprocess.run(
        [sys.executable, "-S", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    modules = set(json.loads(done.stdout))
    # the probe's own `import json` comes after the handler, so it does not count
    return modules - {"json", "json.decoder", "json.scanner", "json.encoder", "_json"}


@pytest.mark.parametrize("aggregate", AGGREGATES)
@pytest.mark.parametrize("kind", ["command", "query", "events"])
def test_a_handler_loads_only_its_own_aggregate_and_the_runtime(
    aggregate: str, kind: str, layer: Path
) -> None:
    modules = loaded_modules(f"{aggregate}.{kind}", layer)
    assert "hotcore.store.dynamodb" in modules
    assert f"hotcore.domain.{aggregate}.reducer" in modules
    loaded_forbidden = {m for m in modules if m.split(".")[0] in FORBIDDEN or m in FORBIDDEN}
    loaded_forbidden |= {m for m in modules for f in FORBIDDEN if m.startswith(f + ".")}
    assert loaded_forbidden == set()
    domains = {
        m.split(".")[2] for m in modules if m.startswith("hotcore.domain.") and m.count(".") >= 2
    }
    assert domains - {"aggregate", "registry"} == {aggregate}
    contracts = {m.split(".")[2] for m in modules if m.startswith("hotcore.contracts.")}
    assert contracts - {"common"} <= MAY_SEE[aggregate]
