"""The compiled build and the Lambda layer: what setup.py compiles, what the layer holds.

The unit tests work on small trees made here. The integration tests build the real
wheels and layer zips with the same cached function ``make layer`` uses (a few
seconds when nothing changed; the first run on a machine downloads zig's targets,
the Debian arm64 tree and the dependency wheels).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

from hotcore_dev.compiled import is_compiled
from tools import layer
from tools.layer import (
    LAYER_BUDGET_BYTES,
    TARGETS,
    ForbiddenInLayer,
    LayerError,
    Paths,
    compile_layer,
    prune_layer,
    read_sysconfigdata,
    write_zip,
)

ROOT = Path(__file__).resolve().parents[2]


def load_setup_py() -> ModuleType:
    """setup.py as a module: its lists, without running the build."""
    spec = importlib.util.spec_from_file_location("hotcore_setup_py", ROOT / "setup.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SETUP_PY = load_setup_py()
COMPILED_MODULES: list[str] = list(SETUP_PY.COMPILED_MODULES)
NOT_YET_WRITTEN: set[str] = set(SETUP_PY.NOT_YET_WRITTEN)


def module_file(name: str) -> Path:
    return ROOT / "src" / Path(*name.split(".")).with_suffix(".py")


# ---------------------------------------------------------------- setup.py's list


def test_every_registered_aggregate_reducer_is_compiled() -> None:
    from hotcore.domain.registry import AGGREGATE_NAMES

    reducers = {f"hotcore.domain.{name}.reducer" for name in AGGREGATE_NAMES}
    assert reducers <= set(COMPILED_MODULES)


def test_every_compiled_module_exists_unless_it_is_still_being_written() -> None:
    missing = {name for name in COMPILED_MODULES if not module_file(name).is_file()}
    assert missing <= NOT_YET_WRITTEN, (
        f"listed in setup.py but missing: {missing - NOT_YET_WRITTEN}"
    )
    assert set(NOT_YET_WRITTEN) <= set(COMPILED_MODULES)


def test_no_contract_module_is_compiled() -> None:
    # mypyc cannot compile msgspec's Struct metaclass: contracts stay interpreted.
    assert not [m for m in COMPILED_MODULES if m.startswith("hotcore.contracts")]


def test_the_build_under_test_is_the_announced_one() -> None:
    """HOTCORE_BUILD=compiled|pure is set by `make test`; unset, the build must not be mixed."""
    modules = [importlib.import_module(m) for m in COMPILED_MODULES if module_file(m).is_file()]
    compiled = {m.__name__ for m in modules if is_compiled(m)}
    announced = os.environ.get("HOTCORE_BUILD")
    if announced == "compiled":
        assert compiled == {m.__name__ for m in modules}
    elif announced == "pure":
        assert compiled == set()
    else:
        assert compiled in (set(), {m.__name__ for m in modules}), f"a mixed build: {compiled}"


def copy_checkout(dest: Path) -> Path:
    layer.copy_build_inputs(ROOT, dest)
    return dest


def build_wheel_in(source: Path, out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; build_meta.build_wheel(sys.argv[1])",
            str(out),
        ],
        cwd=source,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_hotcore_pure_builds_a_wheel_without_extensions(tmp_path: Path) -> None:
    source = copy_checkout(tmp_path / "src")
    result = build_wheel_in(source, tmp_path / "out", HOTCORE_PURE="1")
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "out").glob("*.whl")
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert not [n for n in names if n.endswith(".so")]
    assert "hotcore/codec/dynamodb.py" in names


def test_hotcore_pure_refuses_values_other_than_0_and_1(tmp_path: Path) -> None:
    source = copy_checkout(tmp_path / "src")
    result = build_wheel_in(source, tmp_path / "out", HOTCORE_PURE="yes")
    assert result.returncode != 0
    assert "HOTCORE_PURE must be 1" in result.stderr + result.stdout


def test_a_listed_module_that_does_not_exist_fails_the_compiled_build(tmp_path: Path) -> None:
    source = copy_checkout(tmp_path / "src")
    setup_py = source / "setup.py"
    setup_py.write_text(
        setup_py.read_text().replace(
            "COMPILED_MODULES = [", 'COMPILED_MODULES = [\n    "hotcore.no_such_module",', 1
        )
    )
    result = build_wheel_in(source, tmp_path / "out", HOTCORE_PURE="0")
    assert result.returncode != 0
    assert "do not exist: hotcore.no_such_module" in result.stderr + result.stdout


# ---------------------------------------------------------------- layer assembly, on small trees


def make_site(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_prune_keeps_what_the_runtime_imports_and_drops_the_rest(tmp_path: Path) -> None:
    site = make_site(
        tmp_path / "python",
        {
            "hotcore/__init__.py": "",
            "hotcore/py.typed": "",
            "hotcore_dev/__init__.py": "# developer tooling",
            "hotcore_dev/cli.py": "# developer tooling",
            "hotcore-0.1.0.dist-info/entry_points.txt": "[console_scripts]",
            "hotcore/fast.py": "X = 1",
            "hotcore/fast.cpython-313-aarch64-linux-gnu.so": "elf",
            "hotcore/slow.py": "Y = 2",
            "hotcore/__pycache__/slow.cpython-313.pyc": "stale",
            "msgspec/__init__.py": "",
            "msgspec/__init__.pyi": "",
            "msgspec/tests/test_x.py": "",
            "msgspec-0.19.0.dist-info/RECORD": "",
            "msgspec-0.19.0.dist-info/METADATA": "Name: msgspec",
            "bin/hotcore": "#!/bin/sh",
        },
    )
    prune_layer(site)
    left = sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file())
    assert left == [
        "hotcore/__init__.py",
        "hotcore/fast.cpython-313-aarch64-linux-gnu.so",
        "hotcore/slow.py",
        "msgspec-0.19.0.dist-info/METADATA",
        "msgspec/__init__.py",
    ]


def test_prune_refuses_boto3_in_the_layer(tmp_path: Path) -> None:
    site = make_site(tmp_path / "python", {"boto3/__init__.py": ""})
    with pytest.raises(ForbiddenInLayer, match="boto3"):
        prune_layer(site)


def test_bytecode_is_sourceless_unchecked_hash_and_names_the_layer_path(tmp_path: Path) -> None:
    site = make_site(
        tmp_path / "python",
        {
            "pkg/__init__.py": "",
            "pkg/mod.py": "def where():\n    return where.__code__.co_filename\n",
        },
    )
    compile_layer(site, keep_sources=False)
    assert not list(site.rglob("*.py"))
    pyc = site / "pkg" / "mod.pyc"
    flags = struct.unpack("<I", pyc.read_bytes()[4:8])[0]
    assert flags == 0b01  # hash-based, check_source off: "unchecked-hash"
    out = subprocess.run(
        [sys.executable, "-S", "-c", "import pkg.mod; print(pkg.mod.where())"],
        env={"PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "/opt/python/pkg/mod.py"


def test_bytecode_beside_sources_when_sources_are_kept(tmp_path: Path) -> None:
    site = make_site(tmp_path / "python", {"pkg/__init__.py": "", "pkg/mod.py": "X = 1\n"})
    compile_layer(site, keep_sources=True)
    assert (site / "pkg" / "mod.py").is_file()
    (pyc,) = (site / "pkg" / "__pycache__").glob("mod.cpython-*.pyc")
    assert struct.unpack("<I", pyc.read_bytes()[4:8])[0] == 0b01


def test_layer_zip_is_python_folder_and_byte_for_byte_reproducible(tmp_path: Path) -> None:
    site = make_site(tmp_path / "python", {"a/b.txt": "x" * 5000, "c.txt": "y"})
    first = write_zip(site, tmp_path / "one.zip")
    (site / "c.txt").touch()  # a new mtime must not change the zip
    second = write_zip(site, tmp_path / "two.zip")
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(first.zip_path) as zf:
        assert zf.namelist() == ["python/a/b.txt", "python/c.txt"]
    assert first.file_count == 2
    assert first.unzipped_bytes == 5001
    assert first.biggest[0][0] == "python/a/b.txt"
    assert "one.zip" in first.render()
    assert second.zipped_bytes == first.zipped_bytes


def test_sysconfigdata_is_read_as_data_not_run(tmp_path: Path) -> None:
    good = tmp_path / "_sysconfigdata_good.py"
    good.write_text("build_time_vars = {'CC': 'gcc', 'EXT_SUFFIX': '.so'}\n")
    assert read_sysconfigdata(good) == {"CC": "gcc", "EXT_SUFFIX": ".so"}
    bad = tmp_path / "_sysconfigdata_bad.py"
    bad.write_text("import os\nbuild_time_vars = dict(CC=os.environ['CC'])\n")
    with pytest.raises(LayerError, match="not a literal"):
        read_sysconfigdata(bad)
    empty = tmp_path / "_sysconfigdata_empty.py"
    empty.write_text("x = 1\n")
    with pytest.raises(LayerError, match="no build_time_vars"):
        read_sysconfigdata(empty)


# ---------------------------------------------------------------- the real wheels and zips

ELF_MACHINE = {"aarch64": 183, "x86_64": 62}


def elf_machine(data: bytes) -> int:
    assert data[:4] == b"\x7fELF"
    return int(struct.unpack("<H", data[18:20])[0])


@pytest.fixture(scope="module")
def built_layers() -> dict[str, Path]:
    paths = Paths(ROOT)
    reports = layer.build_layers(paths, ["aarch64", "x86_64"])
    return {
        arch: report.zip_path for arch, report in zip(["aarch64", "x86_64"], reports, strict=True)
    }


@pytest.mark.parametrize("arch", ["aarch64", "x86_64"])
def test_wheel_is_manylinux_2_17_for_its_architecture(
    arch: str, built_layers: dict[str, Path]
) -> None:
    target = TARGETS[arch]
    wheel = layer.wheel_in(Paths(ROOT).dist, target)
    assert wheel is not None
    assert layer.check_manylinux(wheel, target, (2, 17)) == f"manylinux_2_17_{arch}"
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if name.endswith(".so"):
                assert elf_machine(zf.read(name)) == ELF_MACHINE[arch], name


@pytest.mark.parametrize("arch", ["aarch64", "x86_64"])
def test_layer_holds_compiled_hotcore_and_msgspec_and_nothing_else(
    arch: str, built_layers: dict[str, Path]
) -> None:
    zip_path = built_layers[arch]
    assert zip_path.stat().st_size <= LAYER_BUDGET_BYTES
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        for name in names:
            if name.endswith(".so"):
                assert elf_machine(zf.read(name)) == ELF_MACHINE[arch], name
    # python/ for /opt/python, and the exec wrapper beside it (/opt/hotcore-bootstrap).
    assert [n for n in names if not n.startswith("python/")] == ["hotcore-bootstrap"]
    with zipfile.ZipFile(zip_path) as zf:
        assert (zf.getinfo("hotcore-bootstrap").external_attr >> 16) & 0o777 == 0o755
    names = [n for n in names if n.startswith("python/")]
    assert not [n for n in names if n.endswith((".py", ".pyi", "py.typed"))]
    assert not [n for n in names if n.split("/")[1].startswith(("boto3", "botocore", "pytest"))]
    assert "python/hotcore/aws/aws-roots.pem" in names
    assert not [n for n in names if n.startswith("python/hotcore_dev/")]
    assert [n for n in names if n.startswith("python/msgspec/_core.") and n.endswith(".so")]
    for module in COMPILED_MODULES:
        if module_file(module).is_file():
            stem = "python/" + module.replace(".", "/")
            assert [n for n in names if n.startswith(stem + ".cpython-313-")], module
            assert stem + ".pyc" not in names, f"{module} ships as bytecode next to its extension"


def test_every_hotcore_module_imports_from_the_x86_64_layer_alone(
    built_layers: dict[str, Path], tmp_path: Path
) -> None:
    """With only the stdlib and the layer on sys.path, as in Lambda (minus boto3)."""
    with zipfile.ZipFile(built_layers["x86_64"]) as zf:
        zf.extractall(tmp_path)
    script = (
        "import pkgutil, hotcore\n"
        "names = [m.name for m in pkgutil.walk_packages(hotcore.__path__, 'hotcore.')]\n"
        "for name in names: __import__(name)\n"
        "import hotcore.codec.dynamodb as c\n"
        "print(len(names), c.__file__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", script],
        env={"PYTHONPATH": str(tmp_path / "python")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    count, codec_file = out.stdout.split()
    assert int(count) > 10
    assert codec_file.endswith(".so")


def test_a_layer_over_budget_is_an_error(
    built_layers: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    paths = Paths(ROOT)
    target = TARGETS["x86_64"]
    wheel = layer.wheel_in(paths.dist, target)
    assert wheel is not None
    scratch = Paths(tmp_path)
    (tmp_path / "dist").mkdir()
    monkeypatch.setattr(layer, "LAYER_BUDGET_BYTES", 100_000)
    with pytest.raises(layer.LayerTooLarge, match=r"hotcore-layer-x86_64\.zip: 0\.\d+ MB zipped"):
        layer.assemble_layer(scratch, target, wheel)
