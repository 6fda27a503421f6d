"""What importing the AWS client and the codec costs a Lambda cold start: no boto3, no extras.

Each check runs in a fresh interpreter so modules already loaded by the test
session do not hide an import.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

#: Never loaded by hotcore.aws / hotcore.codec: the SDK, and stdlib modules they do not need.
FORBIDDEN = (
    "boto3",
    "botocore",
    "json",
    "logging",
    "random",
    "asyncio",
    "http.client",
    "email",
    "urllib",
    "urllib.parse",
    "hashlib",
    "hmac",
    "ssl",
    "socket",
    "threading",
)


def loaded_after(statement: str) -> set[str]:
    script = f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    return set(output.split())


@pytest.mark.parametrize(
    "module",
    [
        "hotcore.aws.dynamodb",
        "hotcore.aws.eventbridge",
        "hotcore.aws.credentials",
        "hotcore.aws.sigv4",
        "hotcore.codec.dynamodb",
        "hotcore.codec.query_page",
    ],
)
def test_module_imports_nothing_it_does_not_need(module: str) -> None:
    loaded = loaded_after(f"import {module}")
    assert module in loaded
    assert not loaded & set(FORBIDDEN), sorted(loaded & set(FORBIDDEN))


def test_the_codec_does_not_load_the_http_client() -> None:
    loaded = loaded_after("import hotcore.codec.dynamodb")
    assert "http.client" not in loaded
    assert "ssl" not in loaded
