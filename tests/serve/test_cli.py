"""``hotcore serve``'s command line: what it refuses, in one line each, before serving."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotcore_dev.cli import main
from hotcore_dev.serve.server import ServeConfigError, load_credentials


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def refusal(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["serve", *args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_unusable_settings_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], taken_port: int
) -> None:
    db = str(tmp_path / "serve.db")
    (tmp_path / "junk.db").write_bytes(b"not a database")
    (tmp_path / "keys.toml").write_text('[[credentials]]\naccess_key = "AKIA"\n')
    assert "is a folder" in refusal(capsys, "--db", str(tmp_path))
    assert "not a SQLite database" in refusal(capsys, "--db", str(tmp_path / "junk.db"))
    assert "--port must be 0 to 65535" in refusal(capsys, "--db", db, "--port", "70000")
    assert "--keepalive must be" in refusal(capsys, "--db", db, "--keepalive", "0")
    assert "secret_key are required" in refusal(
        capsys, "--db", db, "--credentials", str(tmp_path / "keys.toml")
    )
    assert f"cannot listen on 127.0.0.1:{taken_port}" in refusal(
        capsys, "--db", db, "--port", str(taken_port)
    )


def test_a_credentials_file_lists_the_keys_to_accept(tmp_path: Path) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text(
        "[[credentials]]\n"
        'access_key = "AKIAFRONTEND"\nsecret_key = "s1"\n'
        'user_arn = "arn:aws:iam::123456789012:role/frontend"\n'
        "[[credentials]]\n"
        'access_key = "AKIAOTHER"\nsecret_key = "s2"\n'
    )
    first, second = load_credentials(keys)
    assert (first.access_key, first.user_arn) == (
        "AKIAFRONTEND",
        "arn:aws:iam::123456789012:role/frontend",
    )
    assert (second.access_key, second.secret_key) == ("AKIAOTHER", "s2")
    assert not first.publisher
    assert "s1" not in repr(first)


def test_a_credentials_file_may_grant_fields_by_type(tmp_path: Path) -> None:
    keys = tmp_path / "keys.toml"
    keys.write_text(
        "[[credentials]]\n"
        'access_key = "AKIASHOP"\nsecret_key = "s"\n'
        'fields = { Mutation = ["placeOrder"], Subscription = ["onOrderEvent"] }\n'
    )
    (shop,) = load_credentials(keys)
    assert shop.fields == {"Mutation": ("placeOrder",), "Subscription": ("onOrderEvent",)}
    keys.write_text(
        '[[credentials]]\naccess_key = "A"\nsecret_key = "s"\nfields = { Types = ["x"] }\n'
    )
    with pytest.raises(ServeConfigError, match="fields is a table of Query, Mutation"):
        load_credentials(keys)
