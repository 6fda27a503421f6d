"""``make synth`` / ``cdk deploy`` refuse a layer without compiled dependencies.

A pure-Python stand-in (what the CDK app falls back to without ``make layer``) has no
msgspec: every function would fail at import on Lambda. The infra tests themselves use
``build_app`` directly, so they keep working offline with the stand-in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from infra.app import layer_problem, stack_messages

ROOT = Path(__file__).resolve().parents[2]


def zip_with(path: Path, *names: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, b"")
    return path


def test_only_a_zip_with_compiled_msgspec_is_deployable(tmp_path: Path) -> None:
    assert "not found" in str(layer_problem(tmp_path / "missing.zip"))
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    assert "not a zip" in str(layer_problem(tmp_path / "junk.zip"))
    pure = zip_with(tmp_path / "pure.zip", "python/hotcore/__init__.py")
    assert "no compiled msgspec" in str(layer_problem(pure))
    built = zip_with(
        tmp_path / "built.zip",
        "python/hotcore/__init__.pyc",
        "python/msgspec/_core.cpython-313-aarch64-linux-gnu.so",
    )
    assert layer_problem(built) is None


def test_synth_without_the_layer_stops_with_one_line_saying_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HOTCORE_ALLOW_PURE_LAYER"}
    env["CDK_OUTDIR"] = str(tmp_path / "cdk.out")
    env["PYTHONPATH"] = str(ROOT)  # as cdk.json runs it: python -P, the checkout on the path
    # the app's own main(), with the layer it looks for pointed at a file that is not there
    script = (
        "import pathlib, infra.app as app\n"
        f"app.common.LAYER_ZIP = pathlib.Path({str(tmp_path / 'dist' / 'layer.zip')!r})\n"
        "app.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-P", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "layer.zip not found" in line
    assert "make layer" in line
    assert "ALLOW_PURE_LAYER=1" in line
    assert not (tmp_path / "cdk.out").exists()  # nothing synthesized


def test_the_assemblys_warnings_are_read_from_its_manifest_and_metadata_files(
    tmp_path: Path,
) -> None:
    # The shape cdk synth writes: inline metadata, or a file beside the manifest.
    (tmp_path / "manifest.json").write_text(
        '{"artifacts": {'
        '"A": {"metadata": {"/A/L": [{"type": "aws:cdk:error", "data": "broken"}]}},'
        '"B": {"additionalMetadataFile": "B.metadata.json"}}}'
    )
    (tmp_path / "B.metadata.json").write_text(
        '{"/B": [{"type": "aws:cdk:templateFile", "data": "B.template.json"}],'
        ' "/B/L": [{"type": "aws:cdk:warning", "data": "fallback layer"}]}'
    )
    assert stack_messages(tmp_path) == ["ERROR /A/L: broken", "WARNING /B/L: fallback layer"]
