"""Loopback services for the checkpoint witnesses' tests: a time-stamping authority built with
`openssl ts` (a throw-away CA and a TSA certificate with the critical timeStamping usage), and an
http witness that keeps what it is sent. Each serves from a thread on 127.0.0.1."""

import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TSA_CONFIG = """\
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {dir}
serial = {dir}/serial
crypto_device = builtin
signer_cert = {dir}/tsa.crt
certs = {dir}/tsa.crt
signer_key = {dir}/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""
TSA_EXTENSIONS = ("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                  "extendedKeyUsage=critical,timeStamping\n")


def openssl(*args, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_authority(folder: Path, name: str = "Test") -> Path:
    """A CA (ca.crt) and a TSA certificate it issued, with the config `openssl ts` reads."""
    folder.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.crt", "-days", "30", "-subj", f"/CN={name} TSA Root",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
            "-subj", f"/CN={name} TSA", cwd=folder)
    (folder / "ext.cnf").write_text(TSA_EXTENSIONS)
    openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "tsa.crt", "-days", "30", "-extfile", "ext.cnf",
            cwd=folder)
    (folder / "serial").write_text("01\n")
    (folder / "tsa.cnf").write_text(TSA_CONFIG.format(dir=folder))
    return folder


class Loopback:
    """An http server on 127.0.0.1 in a thread; `answer(body) -> (status, type, bytes)`."""

    def __init__(self, answer):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                owner.received.append((self.headers.get("Content-Type"), body))
                status, kind, data = owner.answer(body)
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.answer = answer
        self.received: list[tuple[str, bytes]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


def timestamp_reply(folder: Path):
    """An answer that gives `openssl ts -reply` for the query received."""
    lock = threading.Lock()  # openssl ts increments its serial file

    def answer(query: bytes):
        with lock, tempfile.TemporaryDirectory() as work:
            (Path(work) / "query.tsq").write_bytes(query)
            done = subprocess.run(
                ["openssl", "ts", "-reply", "-config", str(folder / "tsa.cnf"), "-queryfile",
                 "query.tsq", "-out", "reply.tsr"], cwd=work, capture_output=True, timeout=60)
            if done.returncode != 0:
                return 400, "text/plain", done.stderr
            return 200, "application/timestamp-reply", (Path(work) / "reply.tsr").read_bytes()

    return answer


def refuse(_body: bytes):
    return 503, "text/plain", b"down for maintenance"


def keep(_body: bytes):
    return 201, "application/json", b"{}"
