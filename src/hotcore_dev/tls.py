"""TLS on this machine: a throw-away test CA, and a TLS terminator in front of a local server.

Lambda always reaches AWS over HTTPS, while the local emulators speak plain HTTP. To
measure (and test) what TLS costs, ``TlsTerminator`` puts a TLS listener on
127.0.0.1 in front of any plain-HTTP server, with a server certificate issued by a
test CA that ``issue_test_certificates`` makes (and that each client is then told to
trust: ``HOTCORE_CA_BUNDLE`` for hotcore, ``AWS_CA_BUNDLE`` for boto3,
``SSL_CERT_FILE`` for the Rust SDK's native roots).

The terminator is its own process (``python -m hotcore_dev.tls``), so its work never
competes for the GIL with the harness that timestamps runtime events; whoever starts
it stops it (it is a context manager, and it also exits when its parent dies).
Each accepted TLS connection gets its own upstream connection; bytes are copied
both ways until either side closes.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import ipaddress
import os
import ssl
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TlsCertificates", "TlsTerminator", "issue_test_certificates"]

_VALIDITY = datetime.timedelta(days=7)


@dataclass(frozen=True)
class TlsCertificates:
    """PEM files: the CA's certificate (to trust) and the server's chain and key."""

    ca: Path
    server_chain: Path
    server_key: Path


def issue_test_certificates(
    folder: Path, hosts: Sequence[str] = ("127.0.0.1", "localhost")
) -> TlsCertificates:
    """A new CA and a server certificate for ``hosts`` (IP addresses or DNS names).

    Keys are ECDSA P-256, as fast to use as anything TLS offers; nothing is reused
    between calls. The files are written into ``folder`` (created if missing).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hotcore test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    files = TlsCertificates(
        ca=folder / "ca.pem", server_chain=folder / "server.pem", server_key=folder / "server.key"
    )
    files.ca.write_bytes(ca.public_bytes(pem))
    files.server_chain.write_bytes(server.public_bytes(pem) + ca.public_bytes(pem))
    files.server_key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    files.server_key.chmod(0o600)
    return files


class TlsTerminator:
    """``https://127.0.0.1:<port>`` in front of ``upstream`` (``host:port``), in a child process.

    ``with TlsTerminator("127.0.0.1:5000", certificates) as tls: tls.endpoint``
    """

    def __init__(self, upstream: str, certificates: TlsCertificates) -> None:
        self.upstream = upstream
        self.certificates = certificates
        self.port: int | None = None
        self._process: subprocess.Popen[str] | None = None

    @property
    def endpoint(self) -> str:
        if self.port is None:
            raise RuntimeError("the TLS terminator is not running")
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> TlsTerminator:
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(sys.path)}
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hotcore_dev.tls",
                "--upstream",
                self.upstream,
                "--cert",
                str(self.certificates.server_chain),
                "--key",
                str(self.certificates.server_key),
                "--parent",
                str(os.getpid()),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.startswith("listening "):
            self.stop()
            raise RuntimeError(f"the TLS terminator did not start (said {line!r})")
        self.port = int(line.split()[1])
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        self.port = None

    def __enter__(self) -> TlsTerminator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the child process ------------------------------------------------------------------


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def _serve(upstream: str, context: ssl.SSLContext, parent: int) -> None:
    host, _, port = upstream.rpartition(":")

    async def relay(client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        try:
            up_reader, up = await asyncio.open_connection(host, int(port))
        except OSError:
            client.close()
            return
        await asyncio.gather(_pipe(client_reader, up), _pipe(up_reader, client))

    server = await asyncio.start_server(relay, "127.0.0.1", 0, ssl=context)
    bound = server.sockets[0].getsockname()[1]
    print(f"listening {bound}", flush=True)
    async with server:
        while os.getppid() == parent:  # the parent died: nobody will stop us
            await asyncio.sleep(1.0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="TLS terminator for local benchmarks")
    parser.add_argument("--upstream", required=True, help="host:port of the plain server")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--parent", type=int, default=os.getppid())
    args = parser.parse_args(argv)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    asyncio.run(_serve(args.upstream, context, args.parent))


if __name__ == "__main__":
    main()
