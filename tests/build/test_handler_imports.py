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

from hotcore.domain.registry import aggregates

ROOT = Path(__file__).resolve().parents[2]
# The interpreter sees what Lambda would: hotcore alone (not hotcore_dev, which shares
# src/ but never ships), msgspec and the handlers, so tooling cannot be imported at all.
# What is left to guard against: stdlib modules the runtime avoids on purpose (import
# cost), and the modules of other functions and other adapters.
FORBIDDEN = {
    # Powertools-compatible logs and metrics are written by hotcore.entrypoints.observability
    # without the logging machinery (or Powertools itself, ~30 ms of imports per utility).
    "aws_lambda_powertools",
    "logging",
    "traceback",
    "dataclasses",
    "inspect",
    "asyncio",
    "json",
    "sqlite3",
    "hotcore.store.sqlite",
    "hotcore.store.memory",
    # The AWS client speaks HTTP on sockets itself (docs/coldstart.md has what these cost).
    "http",
    "email",
    "urllib",
    "hashlib",
    "hmac",
    "random",
    "socket",
    "selectors",
    # The response CRC32 check uses binascii's crc32 (the same routine; binascii is loaded).
    "zlib",
    # TLS loads on the first https connection, never at import.
    "ssl",
    "_ssl",
    "hotcore.aws.tls",
}
#: Modules of the command path, which a query function must not load.
COMMAND_PATH = {"hotcore.service.command", "hotcore.entrypoints.direct", "hotcore.service.ids"}
#: Modules of the query path, which a command function must not load.
QUERY_PATH = {"hotcore.service.query", "hotcore.entrypoints.query"}
#: Modules of the AppSync path, which an event function must not load (it imports the
#: AppSync module only to raise its BadRequest for an event it refuses).
APPSYNC_PATH = {"hotcore.entrypoints.appsync", "hotcore.codec.graphql", "hotcore.service.query"}
# Whose contracts each aggregate's handlers may load: its own, and those it reacts to.
MAY_SEE = {
    name: {name, *(reaction.source for reaction in aggregate.reactions)}
    for name, aggregate in aggregates().items()
}


@pytest.fixture(scope="module")
def layer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("layer")
    (folder / "msgspec").symlink_to(Path(msgspec.__file__).parent)
    (folder / "hotcore").symlink_to(ROOT / "src" / "hotcore")
    return folder


def loaded_modules(module: str, layer: Path) -> set[str]:
    code = (
        "import sys, json\n"
        f"sys.path[:0] = {[str(layer), str(ROOT / 'handlers')]!r}\n"
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


# Every aggregate has a command and a query handler; an event handler only if it reacts.
HANDLERS = [
    (name, kind)
    for name, aggregate in aggregates().items()
    for kind in ("command", "query", *(("events",) if aggregate.reactions else ()))
]


@pytest.mark.parametrize(("aggregate", "kind"), HANDLERS)
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
    assert domains - {"aggregate", "registry", "names", "principal"} == {aggregate}
    contracts = {m.split(".")[2] for m in modules if m.startswith("hotcore.contracts.")}
    assert contracts - {"common"} <= MAY_SEE[aggregate]
    assert not [m for m in modules if m.startswith("hotcore_dev")]
    if kind == "query":
        assert modules & COMMAND_PATH == set()
    if kind == "command":
        assert modules & QUERY_PATH == set()
    if kind == "events":
        assert modules & APPSYNC_PATH == set()
    # end-user tokens are verified from the first request that carries one, not at init
    assert "hotcore.entrypoints.tokens" not in modules


def test_the_bootstrap_loads_no_more_than_a_socket_and_a_json_scanner(layer: Path) -> None:
    """hotcore's Runtime API loop: what a hello-world function pays before its handler."""
    code = (
        f"import sys\nsys.path[:0] = [{str(layer)!r}]\nbefore = set(sys.modules)\n"
        "import hotcore.entrypoints.bootstrap\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-P", "-c", code],
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        check=True,
    )
    modules = set(done.stdout.split())
    assert "hotcore.entrypoints.bootstrap" in modules
    heavy = {"typing", "logging", "json", "re", "socket", "ssl", "traceback", "msgspec", "enum"}
    assert modules & heavy == set()


def test_the_contracts_annotations_are_evaluated_when_their_classes_are_made() -> None:
    """msgspec builds every decoder from a Struct's annotations: strings (``from __future__
    import annotations``) would be compiled and evaluated again at each build, in init."""
    import importlib
    import pkgutil

    import hotcore.contracts
    from hotcore.entrypoints.direct import DirectCommand

    structs = [DirectCommand]
    names = [
        f"hotcore.contracts.{info.name}"
        for info in pkgutil.iter_modules(hotcore.contracts.__path__)
    ]
    for module_name in [*names, "hotcore.aws.eventbridge"]:  # decoder built at its import
        module = importlib.import_module(module_name)
        structs += [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, msgspec.Struct)
            and value.__module__ == module.__name__
        ]
    strings = {
        f"{cls.__name__}.{name}"
        for cls in structs
        for name, annotation in vars(cls).get("__annotations__", {}).items()
        if isinstance(annotation, str)
    }
    assert strings == set()
