#!/usr/bin/env python3
"""Evidence ingest benchmark: upload throughput against `sha256sum`, and the server's memory.

Uploads one file of a given size (default 1 GiB, generated from random bytes) over HTTP on
loopback to the running application, through the JSON API (POST /api/v1/cases/{ref}/evidence),
and prints the upload throughput as a ratio to `sha256sum` on the same file, and how much the
server worker's resident memory grew while it received the file.

Targets: at least 0.7 of sha256sum's throughput; memory growth under 64 MB. The upload must
read, hash and write the file in one pass (and fsync it) to get there; a copy too many, or a
whole file in memory, shows here.

By default the script sets up an instance of its own (a temporary directory, SQLite, `ihl init`,
a user and an API token, `ihl serve --workers 1` on a free port) and removes it afterwards.
With --url and --token it targets a server that is already running; give --pid (the gunicorn
worker's process id) to measure memory when the server is not found on this machine's port.

    python bench/ingest.py                    # 1 GiB, own instance
    python bench/ingest.py --size 256M --repeat 1
    python bench/ingest.py --url http://127.0.0.1:5000 --token ihl_... [--case NK-2020-001]

sha256sum and the uploads take turns (--repeat times each, default 3), so both meet the same
conditions on a shared machine; the ratio compares the best of each, and each pair's ratio is
printed too. The client streams the multipart body: the headers, then the file with sendfile(2)
(or in 1 MiB pieces with --no-sendfile), then the closing boundary; the file is never held in
memory. Memory: the worker's VmRSS sampled every 5 ms and its VmHWM (reset before each upload
where the kernel allows), over the level just before the upload.
Exit status: 0 when both targets are met, 1 when one is missed, 2 when the run failed.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

MiB = 1024 * 1024
TARGET_RATIO = 0.7
TARGET_MEMORY_MB = 64  # decimal megabytes, the stricter reading
BENCH_EMAIL = "bench@example.org"
BENCH_PASSWORD = "bench upload passphrase"


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B?)?\s*", text, re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 1G, 256M, 4096)")
    factor = {"": 1, "K": 1024, "M": MiB, "G": 1024 * MiB, "T": 1024 ** 4}[match[2].upper()]
    size = int(float(match[1]) * factor)
    if size < 1:
        raise argparse.ArgumentTypeError("the size must be at least one byte")
    return size


# --- the file and the baseline -----------------------------------------------------------

def generate_file(path: Path, size: int) -> None:
    """Random bytes (unique, incompressible), written in 1 MiB pieces and fsynced."""
    with open(path, "wb", buffering=0) as f:
        left = size
        while left:
            left -= f.write(os.urandom(min(MiB, left)))
        os.fsync(f.fileno())


def time_sha256sum(path: Path) -> tuple[str, float]:
    exe = shutil.which("sha256sum")
    if exe is None:
        raise SystemExit("sha256sum is not installed (coreutils)")
    start = time.perf_counter()
    out = subprocess.run([exe, str(path)], check=True, capture_output=True, text=True).stdout
    return out.split()[0], time.perf_counter() - start


# --- the server's memory -------------------------------------------------------------------

def _status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
    return values


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def find_worker(url: str) -> int | None:
    """The gunicorn worker behind a loopback URL: a process holding the listening socket whose
    parent holds it too (the master); None if not found here."""
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    inodes = _listening_inodes(parts.port or 80)
    holders = set()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            for fd in (proc / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    holders.add(int(proc.name))
                    break
        except OSError:
            continue
    for pid in sorted(holders):
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid in holders:
            return pid
    return min(holders) if len(holders) == 1 else None


class MemorySampler:
    """Samples a process's VmRSS every few milliseconds; its peak above the baseline taken at
    start. The kernel's own high-water mark (VmHWM) is reset first where allowed, and used too,
    so a peak between two samples is not missed."""

    def __init__(self, pid: int, interval: float = 0.005):
        self.pid, self.interval = pid, interval
        self.baseline = _status(pid)["VmRSS"]
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
            self.hwm_reset = _status(pid)["VmHWM"] <= self.baseline + MiB
        except OSError:
            self.hwm_reset = False
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, _status(self.pid)["VmRSS"])
            except OSError:
                return
            time.sleep(self.interval)

    def stop(self) -> int:
        """The peak growth in bytes."""
        self._stop.set()
        self._thread.join()
        try:
            status = _status(self.pid)
        except OSError:
            return self.peak - self.baseline
        self.peak = max(self.peak, status["VmRSS"])
        if self.hwm_reset:
            self.peak = max(self.peak, status["VmHWM"])
        return self.peak - self.baseline


# --- the client ----------------------------------------------------------------------------

class Api:
    def __init__(self, url: str, token: str):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http":
            raise SystemExit("--url must be an http:// URL (loopback)")
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.token = token

    def connection(self, timeout: float = 600) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def json(self, method: str, path: str, body=None) -> tuple[int, dict]:
        conn = self.connection(60)
        try:
            headers = {"Authorization": f"Bearer {self.token}"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            conn.request(method, self.prefix + path, body=data, headers=headers)
            response = conn.getresponse()
            text = response.read()
            try:
                return response.status, json.loads(text or b"{}")
            except ValueError:
                return response.status, {"raw": text[:500].decode(errors="replace")}
        finally:
            conn.close()

    def create_case(self) -> str:
        ref = f"BENCH-{uuid.uuid4().hex[:10].upper()}"
        status, body = self.json("POST", "/api/v1/cases", {
            "ref": ref, "title": "Ingest benchmark", "conflict_classification": "undetermined"})
        if status != 201:
            raise SystemExit(f"could not open a case for the benchmark: {status} {body}")
        return ref

    def upload(self, case_ref: str, path: Path, *, use_sendfile: bool = True,
               fields: dict | None = None) -> tuple[int, dict, float, float]:
        """Stream one multipart upload; (status, JSON answer, seconds to the full answer,
        seconds from the last byte sent to the answer)."""
        size = path.stat().st_size
        boundary = "ihl-bench-" + uuid.uuid4().hex
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            .encode() for name, value in (fields or {}).items())
        head += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{path.name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
                 ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        conn = self.connection()
        start = time.perf_counter()
        conn.putrequest("POST", f"{self.prefix}/api/v1/cases/{case_ref}/evidence",
                        skip_accept_encoding=True)
        conn.putheader("Authorization", f"Bearer {self.token}")
        conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
        conn.putheader("Content-Length", str(len(head) + size + len(tail)))
        conn.putheader("Accept", "application/json")
        conn.endheaders(head)
        try:
            with open(path, "rb", buffering=0) as f:
                if use_sendfile:
                    conn.sock.sendfile(f, 0, size)
                else:
                    buffer = bytearray(MiB)
                    view = memoryview(buffer)
                    while n := f.readinto(buffer):
                        conn.sock.sendall(view[:n])
            conn.send(tail)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (a refusal); read what it said
        sent = time.perf_counter()
        try:
            response = conn.getresponse()
            text = response.read()
        finally:
            conn.close()
        done = time.perf_counter()
        try:
            body = json.loads(text or b"{}")
        except ValueError:
            body = {"raw": text[:500].decode(errors="replace")}
        return response.status, body, done - start, done - sent


# --- an instance of our own --------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ihl() -> list[str]:
    beside = Path(sys.executable).with_name("ihl")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("ihl")
    if found:
        return [found]
    return [sys.executable, "-c", "from ihl_docs.cli import main; main()"]


class OwnInstance:
    """SQLite, an evidence store and `ihl serve --workers 1` in a temporary directory."""

    def __init__(self, workdir: Path, size: int, log):
        self.dir = workdir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ,
                    "IHL_DATABASE_URL": f"sqlite:///{workdir / 'instance' / 'ihl.sqlite3'}",
                    "IHL_INSTANCE_DIR": str(workdir / "instance"),
                    "IHL_EVIDENCE_DIR": str(workdir / "evidence"),
                    "IHL_MAX_UPLOAD_MB": str(size // MiB + 16)}
        self.log = log
        self.server = None
        self.server_log = open(workdir / "server.log", "wb")

    def ihl(self, *args, stdin: str | None = None) -> str:
        done = subprocess.run(_ihl() + list(args), env=self.env, input=stdin,
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise SystemExit(f"ihl {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> str:
        """Set up and start the server; returns an API token."""
        self.ihl("init")
        self.ihl("users", "create", BENCH_EMAIL, "--role", "investigator", "--password-stdin",
                 stdin=BENCH_PASSWORD + "\n")
        created = self.ihl("tokens", "create", BENCH_EMAIL, "--name", "bench")
        token = created.strip().splitlines()[-1]
        self.server = subprocess.Popen(
            _ihl() + ["serve", "--port", str(self.port), "--workers", "1"], env=self.env,
            stdout=self.server_log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise SystemExit(f"the server stopped; see {self.dir / 'server.log'}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("the server did not start within 60 s")
        return token

    def worker_pid(self) -> int | None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            children = _children(self.server.pid)
            if children:
                return children[0]
            time.sleep(0.1)
        return None

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(10)
        self.server_log.close()


# --- the run -------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=parse_size, default=1024 * MiB,
                        help="file size, e.g. 1G, 256M, 1048576 (default 1G)")
    parser.add_argument("--file", type=Path,
                        help="upload this file instead of generating one (--size is ignored)")
    parser.add_argument("--url", help="a running server (default: start an instance of our own)")
    parser.add_argument("--token", help="an API token for --url (`ihl tokens create EMAIL`)")
    parser.add_argument("--case", help="upload into this case, a small warm-up file and then "
                                       "the file once (default: open a case per upload; the "
                                       "same bytes twice in a case are refused)")
    parser.add_argument("--pid", type=int, help="the gunicorn worker's pid, for the memory figure")
    parser.add_argument("--repeat", type=int, default=3,
                        help="sha256sum runs and uploads, taking turns; the best of each is "
                             "compared")
    parser.add_argument("--no-sendfile", action="store_true",
                        help="send the file with sendall() of 1 MiB pieces, not sendfile(2)")
    parser.add_argument("--workdir", type=Path,
                        help="where to put the generated file and the instance (default: a "
                             "temporary directory, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    parser.add_argument("--json", action="store_true", help="print the result as JSON too")
    args = parser.parse_args(argv)
    if args.url and not args.token:
        parser.error("--url needs --token")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.case and args.repeat > 1:
        parser.error("--case takes the file once: give --repeat 1")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="ihl-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    instance = None
    try:
        path = args.file
        if path is None:
            path = workdir / "upload.bin"
            log(f"generating {args.size / MiB:,.0f} MiB of random bytes in {path}")
            generate_file(path, args.size)
        size = path.stat().st_size
        if args.url:
            url, token = args.url.rstrip("/"), args.token
            pid = args.pid or find_worker(url)
        else:
            instance = OwnInstance(workdir, size, log)
            log(f"starting an instance of our own on {instance.url}")
            token = instance.start()
            url, pid = instance.url, args.pid or instance.worker_pid()
        api = Api(url, token)

        # A small upload first, so the worker has loaded everything before the baseline.
        warm = workdir / "warm-up.bin"
        generate_file(warm, 64 * 1024)
        status, body, _, _ = api.upload(args.case or api.create_case(), warm,
                                     fields={"kind": "document", "title": "Warm-up"})
        if status != 201:
            raise SystemExit(f"the warm-up upload was refused: {status} {body}")

        # sha256sum and the upload take turns, so that both meet the same conditions on a
        # machine shared with other work; the ratio of the bests is the figure, the ratios of
        # the pairs show how much the conditions moved.
        sum_times, uploads, tails, growths = [], [], [], []
        for n in range(args.repeat):
            log(f"sha256sum {n + 1}/{args.repeat}")
            digest, sum_time = time_sha256sum(path)
            sum_times.append(sum_time)
            case_ref = args.case or api.create_case()
            sampler = MemorySampler(pid) if pid else None
            log(f"upload {n + 1}/{args.repeat} into {case_ref}")
            status, body, elapsed, tail = api.upload(
                case_ref, path, use_sendfile=not args.no_sendfile,
                fields={"kind": "document", "title": f"Ingest benchmark {n + 1}"})
            growth = sampler.stop() if sampler else None
            if status != 201:
                raise SystemExit(f"the upload was refused: {status} {json.dumps(body)[:500]}")
            if body.get("sha256") != digest:
                raise SystemExit(f"the server recorded sha256 {body.get('sha256')}, "
                                 f"sha256sum says {digest}")
            uploads.append(elapsed)
            tails.append(tail)
            if growth is not None:
                growths.append(growth)

        sum_rate = size / MiB / min(sum_times)
        upload_rate = size / MiB / min(uploads)
        ratio = upload_rate / sum_rate
        pair_ratios = [s / u for s, u in zip(sum_times, uploads)]
        growth = max(growths) if growths else None
        ratio_ok = ratio >= TARGET_RATIO
        memory_ok = growth is not None and growth < TARGET_MEMORY_MB * 1e6
        result = {
            "file_bytes": size, "sha256": digest,
            "sha256sum_mib_s": round(sum_rate, 1),
            "sha256sum_runs_s": [round(t, 3) for t in sum_times],
            "upload_mib_s": round(upload_rate, 1),
            "upload_runs_s": [round(t, 3) for t in uploads],
            "upload_median_mib_s": round(size / MiB / statistics.median(uploads), 1),
            "after_last_byte_s": [round(t, 3) for t in tails],
            "ratio": round(ratio, 3),
            "pair_ratios": [round(r, 3) for r in pair_ratios],
            "memory_growth_mb": round(growth / 1e6, 1) if growth is not None else None,
            "worker_pid": pid, "sendfile": not args.no_sendfile,
            "ratio_ok": ratio_ok, "memory_ok": memory_ok,
        }
        print(f"file size:           {size:,} bytes ({size / MiB:,.1f} MiB)")
        print(f"sha256sum:           {sum_rate:7.1f} MiB/s  (best of {len(sum_times)}: "
              + ", ".join(f"{t:.2f}" for t in sum_times) + " s)")
        print(f"upload:              {upload_rate:7.1f} MiB/s  (best of {len(uploads)}: "
              + ", ".join(f"{t:.2f}" for t in uploads) + " s; median "
              f"{result['upload_median_mib_s']} MiB/s)")
        print("after the last byte: " + ", ".join(f"{t:.2f}" for t in tails)
              + " s (the server finishing: fsync, link, database)")
        print(f"ratio:               {ratio:7.3f}       target >= {TARGET_RATIO}: "
              + ("PASS" if ratio_ok else "FAIL") + "  (best upload / best sha256sum; run by "
              "run: " + ", ".join(f"{r:.2f}" for r in pair_ratios) + ")")
        if growth is None:
            print("memory growth:       not measured (no worker pid; pass --pid)  FAIL")
        else:
            print(f"memory growth:       {growth / 1e6:7.1f} MB     "
                  f"target < {TARGET_MEMORY_MB} MB: " + ("PASS" if memory_ok else "FAIL")
                  + f"  (peak RSS of worker {pid} over its baseline)")
        if args.json:
            print(json.dumps(result))
        return 0 if ratio_ok and memory_ok else 1
    finally:
        if instance is not None:
            instance.stop()
        if args.keep or args.workdir:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(f"error: {exc.code}", file=sys.stderr)
            sys.exit(2)
        raise
    except KeyboardInterrupt:
        sys.exit(2)
