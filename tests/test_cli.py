"""The command line: subcommands reach their modules with their arguments."""

from __future__ import annotations

import pytest

import hotcore.layer
from hotcore.cli import main


def test_build_layer_hands_its_options_to_the_layer_builder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received: list[list[str]] = []
    monkeypatch.setattr(hotcore.layer, "main", lambda argv: received.append(list(argv)) or 0)
    assert main(["build-layer", "--arch", "aarch64", "--keep-sources"]) == 0
    assert received == [["layer", "--arch", "aarch64", "--keep-sources"]]


def test_unknown_options_of_other_commands_are_errors() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["schema", "--bogus"])
    assert exited.value.code == 2
