"""What verifying end-user ID tokens adds to a command function's cold start, measured.

Each run is a fresh interpreter (``-S -I``, msgspec and hotcore alone on the path, as the
layer ships them) that has already imported what a command function has loaded when its
first request arrives (``hotcore.entrypoints.command``, and ``hotcore.aws.digest``, which
the request's signed DynamoDB call loads anyway); it then times, with ``perf_counter_ns``:

- ``import``: ``hotcore.entrypoints.tokens`` (loaded on the first request with a token);
- ``first``: the first verification (parsing the pinned JWKS, one RSA-2048 ``pow`` with
  e = 65537, the claims): what the first request pays beyond the import;
- ``warm``: a later verification of another token (the keys are parsed already).

Runs: ``python -m bench.token_verify [runs]`` prints the medians and the spread as JSON;
the benchmark run (bench/run.py) records them in the report's data (``token_verify``) and
the report shows them beside the import times; docs/security.md keeps the figures of a
run. Times only, no assertions: the tests assert behaviour (tests/unit/test_tokens.py),
never time.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import msgspec

from hotcore_dev.issuer import LocalIssuer

ROOT = Path(__file__).resolve().parents[1]

_PROBE = """
import sys, time
sys.path[:0] = [{layer!r}]
import hotcore.entrypoints.command  # the command function's init path
import hotcore.aws.digest  # SigV4's hash: loaded by the first request's signed call anyway
import hotcore.entrypoints.identity as identity
from hotcore.entrypoints.settings import TokenSettings
settings = TokenSettings(issuer={issuer!r}, audience={audience!r}, jwks={jwks!r})
who = identity.Identity(settings)
t0 = time.perf_counter_ns()
import hotcore.entrypoints.tokens
t1 = time.perf_counter_ns()
who.verify({first!r})
t2 = time.perf_counter_ns()
who.verify({second!r})
t3 = time.perf_counter_ns()
print(t1 - t0, t2 - t1, t3 - t2)
"""


def _layer(folder: Path) -> Path:
    (folder / "msgspec").symlink_to(Path(msgspec.__file__).parent)
    (folder / "hotcore").symlink_to(ROOT / "src" / "hotcore")
    return folder


def measure(runs: int = 20) -> dict[str, Any]:
    issuer = LocalIssuer()
    samples: dict[str, list[float]] = {"import": [], "first": [], "warm": []}
    with tempfile.TemporaryDirectory() as tmp:
        layer = _layer(Path(tmp))
        for run in range(runs):
            code = _PROBE.format(
                layer=str(layer),
                issuer=issuer.issuer,
                audience=issuer.audience,
                jwks=issuer.jwks(),
                first=issuer.token(f"user-{run}"),
                second=issuer.token(f"user-{run}-again"),
            )
            done = subprocess.run(
                [sys.executable, "-S", "-I", "-c", code],
                env={"PATH": os.environ.get("PATH", "")},
                capture_output=True,
                text=True,
                check=True,
            )
            for key, value in zip(samples, done.stdout.split(), strict=True):
                samples[key].append(int(value) / 1e6)
    return {"runs": runs} | {
        key: {
            "median_ms": round(statistics.median(values), 3),
            "min_ms": round(min(values), 3),
            "max_ms": round(max(values), 3),
        }
        for key, values in samples.items()
    }


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv else 20
    print(json.dumps(measure(runs), indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
