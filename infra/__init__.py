"""hotcore's CDK app (``python -m infra.app``): a shared stack and one stack per aggregate.

The two variables below must be set before aws-cdk-lib is first imported (the import
starts the jsii runtime): a package cache so each process does not unpack aws-cdk-lib
again, and silence for the Node 20 end-of-life banner that would otherwise open every
synth. A value the caller set wins.
"""

import os
from pathlib import Path

os.environ.setdefault(
    "JSII_RUNTIME_PACKAGE_CACHE_ROOT",
    str(Path(__file__).resolve().parent.parent / ".cache" / "jsii"),
)
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
