"""HTTP/1.1 on sockets (``hotcore.aws.connection``) and TLS with a pinned bundle (``tls``).

Every test talks to a real server on 127.0.0.1: a scripted one that sends raw bytes
(framings, pieces, closes, silences), and for TLS the terminator the benchmarks use,
with a throw-away CA. Nothing is mocked below the socket.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotcore.aws import tls
from hotcore.aws.connection import Connection, ProtocolError, split_endpoint, split_url
from hotcore_dev.tls import TlsCertificates, TlsTerminator, issue_test_certificates
from tests.support.raw_http import Reply, ScriptedServer

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


def test_content_length_bodies_over_one_kept_alive_connection(server: ScriptedServer) -> None:
    server.script(
        Reply.of(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhello"),
        Reply.of(b"HTTP/1.1 201 Created\r\ncontent-length: 3\r\n\r\n", b"a", b"bc"),
    )
    connection = Connection(server.endpoint)
    first = connection.send("POST", "/", {"X-Amz-Target": "T.Op"}, b'{"a":1}')
    second = connection.send("GET", "/x?y=1", {})
    assert (first.status, first.body, first.headers["x-a"]) == (200, b"hello", "1, 2")
    assert (second.status, second.body) == (201, b"abc")
    assert server.connections == 1
    assert connection.connects == 1
    request = server.requests[0].decode()
    assert request.startswith("POST / HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{server.port}\r\n" in request
    assert "Content-Length: 7\r\n" in request
    assert request.endswith('{"a":1}')
    assert "Content-Length" not in server.requests[1].decode()  # a GET without a body


def test_chunked_bodies_with_extensions_and_trailers(server: ScriptedServer) -> None:
    server.script(
        Reply.of(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"4;ext=1\r\nWiki\r\n5\r\npe",
            b"dia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n",
        ),
        Reply.of(OK),
    )
    connection = Connection(server.endpoint)
    assert connection.send("GET", "/", {}).body == b"Wikipedia in\r\n\r\nchunks."
    assert connection.send("GET", "/", {}).body == b"{}"  # the connection stayed in step
    assert server.connections == 1


def test_an_unframed_body_runs_to_the_close_and_the_connection_is_not_reused(
    server: ScriptedServer,
) -> None:
    server.script(Reply.of(b"HTTP/1.0 200 OK\r\n\r\nall ", b"of it", then="close"), Reply.of(OK))
    connection = Connection(server.endpoint)
    assert connection.send("GET", "/", {}).body == b"all of it"
    assert connection.send("GET", "/", {}).body == b"{}"
    assert connection.connects == 2


def test_connection_close_and_interim_responses(server: ScriptedServer) -> None:
    server.script(
        Reply.of(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n"
        ),
        Reply.of(OK),
    )
    connection = Connection(server.endpoint)
    answer = connection.send("POST", "/", {}, b"x")
    assert (answer.status, answer.body) == (204, b"")
    connection.send("GET", "/", {})
    assert connection.connects == 2


def test_a_kept_alive_socket_closed_by_the_server_is_replaced_at_once(
    server: ScriptedServer,
) -> None:
    server.script(Reply.of(OK, then="close"))  # the server closes after answering
    connection = Connection(server.endpoint)
    connection.send("GET", "/", {})
    # The socket went back to the pool (no Connection: close); reusing it finds it dead.
    assert connection.send("GET", "/", {}).body == b"{}"
    assert connection.connects == 2
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply.of(b"SMTP ready\r\n\r\n"), "not an HTTP/1.x status line"),
        (Reply.of(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", then="close"), "5 of 9"),
        (Reply.of(b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"), "bad Content-Length"),
        (Reply.of(b"HTTP/1.1 200 OK\r\nbroken header\r\n\r\n"), "malformed header"),
        (Reply.of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), "Transfer-Encoding"),
        (
            Reply.of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            "bad chunk size",
        ),
        (Reply.of(b"HTTP/1.1 200 OK\r\nContent-", then="close"), "middle of a response head"),
    ],
)
def test_what_is_not_http_is_a_protocol_error(
    server: ScriptedServer, reply: Reply, message: str
) -> None:
    server.script(reply)
    with pytest.raises(ProtocolError, match=message):
        Connection(server.endpoint).send("GET", "/", {})


def test_a_silent_server_is_a_timeout_and_the_socket_is_dropped(server: ScriptedServer) -> None:
    server.script(Reply.of(b"HTTP/1.1 200 OK\r\n", then="hang"))
    connection = Connection(server.endpoint, read_timeout=0.2)
    with pytest.raises(TimeoutError):
        connection.send("GET", "/", {})
    assert connection.send("GET", "/", {}).body == b"{}"
    assert connection.connects == 2


def test_a_refused_connection_is_an_os_error() -> None:
    with ScriptedServer() as gone:
        endpoint = gone.endpoint
    with pytest.raises(ConnectionRefusedError):
        Connection(endpoint).send("GET", "/", {})


def test_headers_that_would_split_the_request_are_refused(server: ScriptedServer) -> None:
    with pytest.raises(ValueError, match="does not allow"):
        Connection(server.endpoint).send("GET", "/", {"X-Evil": "a\r\nHost: other"})
    assert server.requests == []


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        (
            "https://dynamodb.eu-west-1.amazonaws.com",
            ("https", "dynamodb.eu-west-1.amazonaws.com", 443),
        ),
        ("http://127.0.0.1:8000/", ("http", "127.0.0.1", 8000)),
        ("http://[::1]:9001", ("http", "::1", 9001)),
        ("HTTP://Example.COM", ("http", "example.com", 80)),
    ],
)
def test_endpoints_are_split_into_scheme_host_and_port(
    url: str, parts: tuple[str, str, int]
) -> None:
    assert split_endpoint(url) == parts


@pytest.mark.parametrize(
    "url", ["ftp://host", "https://host/path", "http://host:99999", "host:80", "https://"]
)
def test_endpoints_that_are_not_scheme_host_port_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match=r"endpoint|port|URL"):
        split_endpoint(url)


def test_urls_are_split_like_a_browser_would() -> None:
    assert split_url("http://u:p@[fd00:ec2::23]:80/v1/creds?x=1#frag") == (
        "http",
        "fd00:ec2::23",
        80,
        "/v1/creds",
        "x=1",
    )
    assert split_url("https://h?q") == ("https", "h", None, "", "q")


# -- TLS ----------------------------------------------------------------------------------

#: SHA-256 of each root in aws-roots.pem (https://www.amazontrust.com/repository/).
AWS_ROOT_FINGERPRINTS = {
    "8ECDE6884F3D87B1125BA31AC3FCB13D7016DE7F57CC904FE1CB97C6AE98196E",  # Amazon Root CA 1
    "1BA5B2AA8C65401A82960118F80BEC4F62304D83CEC4713A19C39C011EA46DB4",  # Amazon Root CA 2
    "18CE6CFE7BF14E60B2E347B8DFE868CB31D02EBB3ADA271569F50343B46DB3A4",  # Amazon Root CA 3
    "E35D28419ED02025CFA69038CD623962458DA5C695FBDEA3C22B0BFB25897092",  # Amazon Root CA 4
    "568D6905A2C88708A4B3025190EDCFEDB1974A606A13C6E5290FCB2AE63EDAB5",  # Starfield G2
}


def test_the_shipped_bundle_is_exactly_the_five_aws_roots() -> None:
    import hashlib

    text = Path(tls.AWS_ROOTS).read_text()
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", text, re.S)
    fingerprints = {
        hashlib.sha256(ssl.PEM_cert_to_DER_cert(block)).hexdigest().upper() for block in blocks
    }
    assert fingerprints == AWS_ROOT_FINGERPRINTS
    loaded = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    loaded.load_verify_locations(tls.AWS_ROOTS)
    assert loaded.cert_store_stats()["x509_ca"] == 5


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> TlsCertificates:
    return issue_test_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def backend() -> Iterator[ScriptedServer]:
    with ScriptedServer() as scripted:
        yield scripted


@pytest.fixture(scope="module")
def terminator(backend: ScriptedServer, certificates: TlsCertificates) -> Iterator[TlsTerminator]:
    with TlsTerminator(f"127.0.0.1:{backend.port}", certificates) as running:
        yield running


@pytest.fixture
def trust(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    tls.reset()
    yield monkeypatch
    monkeypatch.undo()
    tls.reset()


def test_https_with_the_test_ca_trusted(
    terminator: TlsTerminator,
    backend: ScriptedServer,
    certificates: TlsCertificates,
    trust: pytest.MonkeyPatch,
) -> None:
    trust.setenv("HOTCORE_CA_BUNDLE", str(certificates.ca))
    backend.script(
        Reply.of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"3\r\nabc\r\n0\r\n\r\n")
    )
    connection = Connection(terminator.endpoint)
    assert connection.send("POST", "/", {}, b"x" * 100_000).body == b"abc"
    big = b"y" * 300_000
    backend.script(Reply.of(b"HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n" + big))
    assert connection.send("GET", "/", {}).body == big
    assert connection.connects == 1
    assert backend.requests[-2].endswith(b"x" * 100_000)
    connection.close()


def test_https_refuses_a_server_the_aws_roots_do_not_vouch_for(
    terminator: TlsTerminator, trust: pytest.MonkeyPatch
) -> None:
    trust.delenv("HOTCORE_CA_BUNDLE", raising=False)
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        Connection(terminator.endpoint).send("GET", "/", {})


def test_the_system_store_is_used_when_asked(
    terminator: TlsTerminator,
    backend: ScriptedServer,
    certificates: TlsCertificates,
    trust: pytest.MonkeyPatch,
) -> None:
    # OpenSSL's default store honours SSL_CERT_FILE: point it at the test CA.
    trust.setenv("SSL_CERT_FILE", str(certificates.ca))
    trust.delenv("SSL_CERT_DIR", raising=False)
    trust.setenv("HOTCORE_CA_BUNDLE", "system")
    backend.script(Reply.of(OK))
    assert Connection(terminator.endpoint).send("GET", "/", {}).body == b"{}"


def test_the_host_name_is_checked(
    backend: ScriptedServer, tmp_path: Path, trust: pytest.MonkeyPatch
) -> None:
    elsewhere = issue_test_certificates(tmp_path, hosts=("dynamodb.example.com",))
    trust.setenv("HOTCORE_CA_BUNDLE", str(elsewhere.ca))
    with (
        TlsTerminator(f"127.0.0.1:{backend.port}", elsewhere) as mismatched,
        pytest.raises(ssl.SSLCertVerificationError, match="IP address mismatch"),
    ):
        Connection(mismatched.endpoint).send("GET", "/", {})


def test_an_unreadable_bundle_is_a_clear_error(trust: pytest.MonkeyPatch, tmp_path: Path) -> None:
    trust.setenv("HOTCORE_CA_BUNDLE", str(tmp_path / "missing.pem"))
    with pytest.raises(ssl.SSLError, match="HOTCORE_CA_BUNDLE"):
        tls.context()


def test_opening_a_connection_loads_neither_the_idna_codec_nor_re() -> None:
    """getaddrinfo on a str host imports encodings.idna (and re with it): hosts go as bytes."""
    import os
    import subprocess
    import sys

    code = (
        "import sys, _socket\n"
        "listener = _socket.socket()\n"
        "listener.bind(('127.0.0.1', 0))\n"
        "listener.listen()\n"
        "from hotcore.aws.connection import Connection\n"
        "Connection(f'http://localhost:{listener.getsockname()[1]}')._open()\n"
        "print(sorted({'encodings.idna', 're', 'socket'} & set(sys.modules)))\n"
    )
    source = Path(__file__).resolve().parents[2] / "src"
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(source)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_an_https_request_loads_neither_ssl_nor_socket_nor_re(
    terminator: TlsTerminator, backend: ScriptedServer, certificates: TlsCertificates
) -> None:
    """TLS goes through _ssl directly: ssl.py, socket.py and the idna codec stay unloaded."""
    import os
    import subprocess
    import sys

    backend.script(Reply.of(OK))
    code = (
        "import sys\n"
        "from hotcore.aws.connection import Connection\n"
        f"answer = Connection({terminator.endpoint!r}).send('GET', '/', {{}})\n"
        "heavy = {'ssl', 'socket', 're', 'encodings.idna'}\n"
        "print(answer.status, sorted(heavy & set(sys.modules)))\n"
    )
    source = Path(__file__).resolve().parents[2] / "src"
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(source),
            "HOTCORE_CA_BUNDLE": str(certificates.ca),
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "200 []"
