#!/usr/bin/env python3
"""Load test: N simulated users against a live `ihl serve` for a set time, then checks.

Investigators file and edit incidents (API and web forms), upload evidence and record custody;
lawyers qualify incidents and record element findings; auditors read the audit log and run
verifications; everyone views pages with a logged-in session. Every acknowledged write is logged
by the client and afterwards held against the database: each one is there exactly once, no edit
was lost, the audit chain has no fork or gap, `ihl verify` is clean and no answer was a 5xx.
Latency is printed per kind of request with p50/p95/p99, beside a baseline measured in the same
run (a static file served by the same gunicorn), with the throughput.

    python bench/load.py                                  # 20 users, 120 s, SQLite
    python bench/load.py --users 50 --duration 600 \\
        --postgres postgresql://postgres@127.0.0.1:5432/test
    python bench/load.py --users 8 --duration 30 --think 1 --checks-only   # the suite's form

Targets: no error of any kind, p95 under 300 ms for page views and for form posts.
Exit status: 0 when every check passes and the targets are met (with --checks-only: whatever
the latencies), 1 otherwise, 2 when the run
failed (the instance could not be set up, the server died, a user process crashed).
"""

import argparse
import hashlib
import http.client
import json
import math
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from support import postgres_database

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

IHL = str(Path(sys.executable).with_name("ihl"))
PASSWORD = "load test passphrase, long enough"
TARGET_P95_MS = 300.0
TIMEOUT_S = 60.0
STATIC_PATH = "/static/css/app.css"
LOGIN = "form: log in"
PROVISIONS_USED = 8  # lawyers qualify under the first few provisions, so they sometimes collide
CUSTODY_ACTIONS = ["transferred", "received", "sealed", "stored", "copied", "analysed"]
INCIDENT_TYPES = ["shelling", "air_strike", "rocket", "cluster_munition", "drone_strike",
                  "attack_on_infrastructure", "attack_on_medical_care"]
PLACES = ["Old town market", "Northern district", "Riverside quarter", "Hospital no. 2",
          "School no. 14", "Water pumping station", "Bus station", "Central square"]
WORDS = ["market", "school", "hospital", "shelter", "bridge", "station", "quarter", "river"]


class RunFailed(RuntimeError):
    """The run could not be carried out (set-up, server, user processes)."""


# ---- HTTP --------------------------------------------------------------------------------------

class Client:
    """One user's HTTP client: a fresh loopback connection per request, cookies, timings."""

    def __init__(self, port: int, token: str, log: list, problems: list):
        self.port, self.token, self.log, self.problems = port, token, log, problems
        self.cookies: dict[str, str] = {}

    def request(self, kind: str, method: str, path: str, *, body=None, headers=None,
                api: bool = True, ok=(200,), expected=()):
        """(status, headers, body bytes); logs the timing and any status not in ok + expected."""
        head = dict(headers or {})
        if api:
            head["Authorization"] = f"Bearer {self.token}"
        elif self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.monotonic()
        status, answer, data, error = 0, None, b"", ""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT_S)
        try:
            conn.request(method, path, body=body, headers=head)
            response = conn.getresponse()
            status, answer, data = response.status, response, response.read()
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        finally:
            conn.close()
        elapsed = (time.monotonic() - started) * 1000
        self.log.append((kind, started, elapsed, status))
        if answer is not None and not api:
            for value in answer.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(value).items():
                    self.cookies[name] = morsel.value
        if error or (status not in ok and status not in expected):
            self.problems.append({"kind": kind, "request": f"{method} {path}", "status": status,
                                  "error": error, "body": data[:400].decode("utf-8", "replace")})
            return None
        return status, (answer.headers if answer else {}), data

    def json(self, kind, method, path, payload=None, *, headers=None, ok=(200,), expected=()):
        head = {"Content-Type": "application/json", **(headers or {})} if payload is not None \
            else headers
        body = json.dumps(payload) if payload is not None else None
        got = self.request(kind, method, path, body=body, headers=head, ok=ok, expected=expected)
        if got is None:
            return None, None
        status, _, data = got
        return status, (json.loads(data) if data.strip() else None)


class FormParser(HTMLParser):
    """The forms of a page: action and the fields a browser would send as they stand."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action") or "", "fields": []})
        elif not self.forms:
            return
        fields = self.forms[-1]["fields"]
        if tag == "input" and a.get("name") and "disabled" not in a:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file", "image", "reset"):
                fields.append([a["name"], a.get("value") or ("on" if kind == "checkbox" else "")])
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]
            fields.append(self._textarea)
        elif tag == "select" and a.get("name"):
            self._select = [a["name"], None, None]  # name, first option, selected option
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select[1] is None:
                self._select[1] = value
            if "selected" in a:
                self._select[2] = value

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            # A browser drops the newline that may follow <textarea> (WTForms writes one).
            self._textarea[1] = re.sub(r"^\r?\n", "", self._textarea[1])
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, first, chosen = self._select
            self.forms[-1]["fields"].append([name, chosen if chosen is not None else first or ""])
            self._select = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data


def form_with(html: bytes, field: str) -> dict | None:
    """The first form of the page that has a field of that name."""
    parser = FormParser()
    parser.feed(html.decode("utf-8", "replace"))
    for form in parser.forms:
        if any(name == field for name, _ in form["fields"]):
            return form
    return None


def multipart(fields: dict, file: tuple[str, bytes, str] | None) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             .encode() for name, value in fields.items()]
    if file:
        name, data, media_type = file
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                     f'filename="{name}"\r\nContent-Type: {media_type}\r\n\r\n'.encode()
                     + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def now() -> datetime:
    return datetime.now(UTC)


# ---- the simulated users ----------------------------------------------------------------------

class User:
    """One simulated person: a role, an API token, a web session, the refs it knows of."""

    def __init__(self, spec: dict, shared: dict, log: list, problems: list, acks: list):
        self.spec, self.shared, self.acks = spec, shared, acks
        self.rng = random.Random(spec["seed"])
        self.http = Client(shared["port"], spec["token"], log, problems)
        self.case = spec.get("case")
        seeded = shared["cases"].get(self.case, {})
        self.incidents = list(seeded.get("incidents", []))
        self.evidence = list(seeded.get("evidence", []))
        self.serial = 0
        self.verification = None

    def token(self, what: str) -> str:
        self.serial += 1
        name = self.spec["email"].split("@")[0]
        return f"{what} {name}-{self.serial}-{self.rng.randrange(10**6)}"

    def ack(self, kind: str, **fields) -> None:
        self.acks.append({"type": kind, "user": self.spec["email"], **fields})

    # -- the web session --

    def log_in(self) -> bool:
        got = self.http.request("page: log-in form", "GET", "/login", api=False)
        form = got and form_with(got[2], "password")
        if not form:
            return False
        fields = dict(form["fields"])
        fields.update(email=self.spec["email"], password=PASSWORD)
        got = self.http.request(LOGIN, "POST", "/login", body=urlencode(fields),
                                headers={"Content-Type": "application/x-www-form-urlencoded"},
                                api=False, ok=(302, 303))
        return got is not None

    def page(self, kind: str, path: str):
        return self.http.request(kind, "GET", path, api=False)

    def post_form(self, kind: str, action: str, fields: list, *, expected=()):
        return self.http.request(kind, "POST", action, body=urlencode([tuple(f) for f in fields]),
                                 headers={"Content-Type": "application/x-www-form-urlencoded"},
                                 api=False, ok=(302, 303), expected=expected)

    # -- actions shared by every role --

    def view_pages(self) -> None:
        rng, choices = self.rng, ["/", "/incidents", f"/incidents?q={self.rng.choice(WORDS)}"]
        if self.case:
            choices += [f"/cases/{self.case}", f"/cases/{self.case}/incidents",
                        f"/cases/{self.case}/evidence"]
        if self.incidents:
            choices += [f"/incidents/{rng.choice(self.incidents)}"] * 3
        if self.evidence:
            choices += [f"/evidence/{rng.choice(self.evidence)}"] * 2
        path = rng.choice(choices)
        kind = "page: " + re.sub(r"/[A-Z0-9][A-Z0-9-]+", "/{ref}", urlsplit(path).path)
        self.page("page: / (case list)" if path == "/" else kind, path)

    def refresh_case(self) -> None:
        status, case = self.http.json("api: GET case", "GET", f"/api/v1/cases/{self.case}")
        if case:
            self.incidents = case["incidents"] or self.incidents
            self.evidence = case["evidence"] or self.evidence


class Investigator(User):
    def actions(self):
        return [(self.view_pages, 30), (self.patch_incident, 15), (self.edit_incident_form, 8),
                (self.file_incident, 8), (self.file_incident_form, 3), (self.upload_evidence, 10),
                (self.record_custody, 10), (self.list_api, 8), (self.refresh_case, 4),
                (self.link_evidence, 4)]

    def incident_body(self) -> dict:
        rng, party = self.rng, self.shared["cases"][self.case]["parties"][0]
        killed = rng.randrange(0, 6)
        return {
            "title": self.token("Incident"), "incident_type": rng.choice(INCIDENT_TYPES),
            "occurred_from": iso(now() - timedelta(days=rng.randrange(2, 400))),
            "date_precision": "day", "place_name": rng.choice(PLACES), "country": "UKR",
            "latitude": round(47 + rng.random(), 5), "longitude": round(36 + rng.random(), 5),
            "weapon_type": "122 mm rocket", "responsible_party": party,
            "narrative": "Witnesses describe impacts at dawn near the " + rng.choice(WORDS) + ".",
            "killed_min": killed, "killed_max": killed + 2, "civilian_objects": ["residential"],
        }

    def file_incident(self) -> None:
        body = self.incident_body()
        status, incident = self.http.json("api: POST incident", "POST",
                                          f"/api/v1/cases/{self.case}/incidents", body, ok=(201,))
        if incident:
            self.incidents.append(incident["ref"])
            self.ack("incident_created", ref=incident["ref"], title=body["title"],
                     version=incident["version"])

    def edited_incident(self) -> str:
        """Half the edits go to the case's first incidents, so that editors meet (409s)."""
        hot = self.shared["cases"][self.case]["incidents"][:4]
        return self.rng.choice(hot if hot and self.rng.random() < 0.5 else self.incidents)

    def patch_incident(self) -> None:
        if not self.incidents:
            return
        ref = self.edited_incident()
        for _ in range(5):  # a 409 means someone saved first: read again and redo the edit
            status, current = self.http.json("api: GET incident", "GET", f"/api/v1/incidents/{ref}")
            if not current:
                return
            injured = self.rng.randrange(0, 20)
            change = {"narrative": self.token("Narrative"), "place_name": self.rng.choice(PLACES),
                      "injured_min": injured, "injured_max": injured + self.rng.randrange(0, 5)}
            status, result = self.http.json(
                "api: PATCH incident", "PATCH", f"/api/v1/incidents/{ref}", change,
                headers={"If-Match": str(current["version"])}, expected=(409,))
            if status == 409:
                self.shared["stale"]["api: PATCH incident"] += 1
                continue
            if result:
                self.ack("incident_edited", ref=ref, version=result["version"], fields=change)
            return

    def edit_incident_form(self) -> None:
        if not self.incidents:
            return
        ref = self.edited_incident()
        for _ in range(5):
            got = self.page("page: /incidents/{ref}/edit", f"/incidents/{ref}/edit")
            form = got and form_with(got[2], "version")
            if not form:
                return
            narrative = self.token("Narrative (form)")
            fields = [[k, narrative if k == "narrative" else v] for k, v in form["fields"]]
            version = int(dict(fields)["version"])
            got = self.post_form("form: edit incident", form["action"] or f"/incidents/{ref}/edit",
                                 fields, expected=(409,))
            if got and got[0] == 409:
                self.shared["stale"]["form: edit incident"] += 1
                continue
            if got:
                self.ack("incident_edited", ref=ref, version=version + 1,
                         fields={"narrative": narrative})
            return

    def file_incident_form(self) -> None:
        path = f"/cases/{self.case}/incidents/new"
        got = self.page("page: /cases/{ref}/incidents/new", path)
        form = got and form_with(got[2], "title")
        if not form:
            return
        title = self.token("Incident (form)")
        values = {"title": title, "incident_type": self.rng.choice(INCIDENT_TYPES),
                  "occurred_from": (now() - timedelta(days=3)).date().isoformat(),
                  "place_name": self.rng.choice(PLACES),
                  "narrative": "Filed through the web form during the load test."}
        fields = [[k, values.pop(k, v)] for k, v in form["fields"]] + list(values.items())
        got = self.post_form("form: file incident", form["action"] or path, fields)
        if got:
            ref = got[1].get("Location", "").rstrip("/").rsplit("/", 1)[-1]
            self.incidents.append(ref)
            self.ack("incident_created", ref=ref, title=title, version=1)

    def upload_evidence(self) -> None:
        rng = self.rng
        data = os.urandom(rng.randrange(2_000, 48_000))
        kind = rng.choice(["document", "photo", "open_source_post", "testimony"])
        fields = {"kind": kind, "title": self.token("Item"), "description": "Load test item.",
                  "acquired_at": iso(now() - timedelta(hours=1)), "acquired_by": "Field team 3",
                  "acquisition_method": "Handed over on a USB stick", "sensitivity": "restricted",
                  "reliability": rng.choice("ABC"), "credibility": rng.choice("123")}
        if self.incidents and rng.random() < 0.5:
            fields.update(incident_ref=rng.choice(self.incidents), relevance="Shows the site.")
        body, boundary = multipart(fields, (f"item-{self.serial}.bin", data,
                                            "application/octet-stream"))
        got = self.http.request("api: POST evidence (upload)", "POST",
                                f"/api/v1/cases/{self.case}/evidence", body=body,
                                headers={"Content-Type":
                                         f"multipart/form-data; boundary={boundary}"},
                                ok=(201,))
        if got:
            item = json.loads(got[2])
            self.evidence.append(item["ref"])
            self.ack("evidence", ref=item["ref"], case=self.case, title=fields["title"],
                     sha256=hashlib.sha256(data).hexdigest(), recorded_sha256=item["sha256"])

    def record_custody(self) -> None:
        if not self.evidence:
            return
        ref, note = self.rng.choice(self.evidence), self.token("Custody")
        body = {"action": self.rng.choice(CUSTODY_ACTIONS),
                "occurred_at": iso(now() - timedelta(seconds=1)),
                "custodian_from": "Field team 3", "custodian_to": "Evidence unit",
                "place": "Kyiv office", "purpose": "Load test", "notes": note}
        status, _ = self.http.json("api: POST custody", "POST", f"/api/v1/evidence/{ref}/custody",
                                   body, ok=(201,))
        if status:
            self.ack("custody", ref=ref, note=note)

    def link_evidence(self) -> None:
        if not (self.incidents and self.evidence):
            return
        incident, item = self.rng.choice(self.incidents), self.rng.choice(self.evidence)
        self.http.json("api: POST incident evidence link", "POST",
                       f"/api/v1/incidents/{incident}/evidence",
                       {"evidence_ref": item, "relevance": "Same site."}, ok=(201,),
                       expected=(409,))

    def list_api(self) -> None:
        what = self.rng.choice(["incidents", "evidence"])
        self.http.json(f"api: GET case {what} list", "GET",
                       f"/api/v1/cases/{self.case}/{what}?limit=25")


class Lawyer(User):
    def actions(self):
        return [(self.view_pages, 25), (self.view_legal_pages, 12), (self.qualify, 8),
                (self.record_finding, 30), (self.list_qualifications, 12),
                (self.refresh_case, 4)]

    def view_legal_pages(self) -> None:
        choices = ["/provisions", f"/cases/{self.case}/proof-matrix"]
        if self.incidents:
            choices.append(f"/incidents/{self.rng.choice(self.incidents)}/qualifications")
        path = self.rng.choice(choices)
        self.page("page: " + re.sub(r"/[A-Z0-9][A-Z0-9-]+", "/{ref}", path), path)

    def qualify(self) -> None:
        if not self.incidents:
            return
        ref = self.rng.choice(self.incidents)
        key = self.rng.choice(self.shared["provisions"])
        body = {"provision_key": key, "assessment": self.rng.choice(["alleged", "probable"]),
                "analysis": self.token("Analysis")}
        status, result = self.http.json("api: POST qualification", "POST",
                                        f"/api/v1/incidents/{ref}/qualifications", body,
                                        ok=(201,), expected=(409,))
        if status == 201:
            self.ack("qualification", id=result["id"], incident=ref, provision=key,
                     analysis=body["analysis"])
        elif status == 409:
            self.shared["stale"]["api: POST qualification (already there)"] += 1

    def list_qualifications(self):
        if not self.incidents:
            return None, None
        ref = self.rng.choice(self.incidents)
        status, answer = self.http.json("api: GET qualifications", "GET",
                                        f"/api/v1/incidents/{ref}/qualifications")
        return ref, (answer or {}).get("items")

    def record_finding(self) -> None:
        ref, items = self.list_qualifications()
        if not items:
            return
        qid = self.rng.choice(items)["id"]
        cited = []
        if self.rng.random() < 0.3:
            status, linked = self.http.json(
                "api: GET case evidence list", "GET",
                f"/api/v1/cases/{self.case}/evidence?incident={ref}&limit=5")
            cited = [{"ref": e["ref"], "stance": "supports"}
                     for e in (linked or {}).get("items", [])[:2]]
        for _ in range(5):
            current = next((q for q in items if q["id"] == qid), None)
            if current is None or not current["elements"]:
                return
            number = self.rng.choice(current["elements"])["number"]
            # "supported" needs an item cited as supporting it (else 422, as it should be)
            body = {"status": self.rng.choice(["supported", "contested", "not_met"] if cited
                                              else ["contested", "not_met"]),
                    "note": self.token("Finding"), "evidence": cited}
            status, result = self.http.json(
                "api: PUT element finding", "PUT",
                f"/api/v1/qualifications/{qid}/elements/{number}", body,
                headers={"If-Match": str(current["version"])}, expected=(409,))
            if status == 409:
                self.shared["stale"]["api: PUT element finding"] += 1
                status, answer = self.http.json("api: GET qualifications", "GET",
                                                f"/api/v1/incidents/{ref}/qualifications")
                items = (answer or {}).get("items") or []
                continue
            if result:
                self.ack("finding", id=qid, version=result["version"], number=number,
                         status=body["status"], note=body["note"],
                         evidence=sorted(c["ref"] for c in cited))
            return


class Auditor(User):
    def actions(self):
        return [(self.read_audit, 35), (self.audit_page, 15), (self.view_pages, 20),
                (self.verify, 6)]

    def read_audit(self) -> None:
        head = self.shared.get("audit_head", 0)
        after = max(0, self.rng.randrange(0, head + 200) - 100)
        status, answer = self.http.json("api: GET audit", "GET",
                                        f"/api/v1/audit?after={after}&limit=100")
        if answer:
            self.shared["audit_head"] = max(head, answer["total"])

    def audit_page(self) -> None:
        self.page("page: /audit", "/audit")

    def verify(self) -> None:
        """Start a verification (of everything or one case) and follow it until it ends."""
        cases = list(self.shared["cases"])
        body = {} if self.rng.random() < 0.5 else {"case_ref": self.rng.choice(cases)}
        status, run = self.http.json("api: POST verification", "POST", "/api/v1/verifications",
                                     body, ok=(202,))
        if not run:
            return
        started, result = time.monotonic(), None
        while time.monotonic() - started < 300:
            time.sleep(1.0)
            status, result = self.http.json("api: GET verification", "GET",
                                            f"/api/v1/verifications/{run['id']}")
            if result is None or result["status"] in ("done", "failed"):
                break
        self.ack("verification", id=run["id"], case=body.get("case_ref"),
                 status=result and result["status"], problems=result and result["problem_count"],
                 findings=(result or {}).get("findings", [])[:5],
                 error=result and result["error"], seconds=round(time.monotonic() - started, 1))


ROLES = {"investigator": Investigator, "legal": Lawyer, "auditor": Auditor}


def run_user(user: User, start: float, deadline: float, think: float) -> None:
    time.sleep(max(0.0, start - time.monotonic()))
    if not user.log_in():
        return
    actions, weights = zip(*user.actions())
    while time.monotonic() < deadline:
        action = user.rng.choices(actions, weights)[0]
        try:
            action()
        except Exception:  # a client bug: report it, keep the user going
            user.http.problems.append({"kind": f"client error in {action.__name__}",
                                       "request": "", "status": 0, "body": "",
                                       "error": traceback.format_exc(limit=4)[-600:]})
        pause = min(user.rng.expovariate(1 / think), 5 * think) if think > 0 else 0
        time.sleep(max(0.0, min(pause, deadline - time.monotonic())))


def user_process(specs: list[dict], shared: dict, t0: float, duration: float, ramp: float,
                 think: float, out: str) -> None:
    """A process running some users as threads; writes its log to `out` as JSON."""
    log, problems, acks = [], [], []
    shared = {**shared, "stale": defaultdict(int)}
    threads = []
    for spec in specs:
        user = ROLES[spec["role"]](spec, shared, log, problems, acks)
        start = t0 + random.Random(spec["seed"]).random() * ramp
        thread = threading.Thread(target=run_user, args=(user, start, t0 + duration, think),
                                  daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    with open(out, "w") as f:
        json.dump({"log": log, "problems": problems, "acks": acks,
                   "stale": dict(shared["stale"])}, f)


# ---- the instance -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def empty_redis_db(host: str = "127.0.0.1", port: int = 6379) -> int:
    """An empty Redis database number (the job queue's name is fixed, so it needs its own)."""
    import redis

    for db in range(14, 0, -1):  # 15 is the test suite's
        if redis.Redis(host=host, port=port, db=db, socket_connect_timeout=2).dbsize() == 0:
            return db
    raise RunFailed("no empty Redis database (1-14) for the job queue")


class Instance:
    """An instance of its own: database, evidence store, `ihl serve` and `ihl worker`s."""

    def __init__(self, work: Path, database_url: str, queue_url: str | None, workers: int):
        self.work, self.database_url, self.workers = work, database_url, workers
        self.env = {**os.environ, "IHL_DATABASE_URL": database_url,
                    "IHL_INSTANCE_DIR": str(work / "instance"),
                    "IHL_EVIDENCE_DIR": str(work / "evidence")}
        if queue_url:
            self.env["IHL_QUEUE_URL"] = queue_url
        self.server_log = work / "server.log"
        self.worker_log = work / "worker.log"
        self.processes: list[subprocess.Popen] = []
        self.port = free_port()

    def ihl(self, *args, timeout=600) -> subprocess.CompletedProcess:
        return subprocess.run([IHL, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def create_accounts(self, people: list[tuple[str, str]]) -> dict[str, str]:
        """Accounts and API tokens straight through the services (an `ihl` run costs seconds)."""
        from ihl_docs.auth import services as auth
        from ihl_docs.core.db import make_engine, open_session

        engine, tokens = make_engine(self.database_url), {}
        try:
            with open_session(engine) as session:
                for email, role in people:
                    auth.create_user(session, email, role, PASSWORD, actor="bench/load.py")
                    tokens[email] = auth.create_token(session, email, actor="bench/load.py")
                session.commit()
        finally:
            engine.dispose()
        return tokens

    def start(self) -> None:
        with open(self.server_log, "ab") as log:
            self.processes.append(subprocess.Popen(
                [IHL, "serve", "--port", str(self.port), "--workers", str(self.workers)],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        with open(self.worker_log, "ab") as log:
            self.processes.append(subprocess.Popen(
                [IHL, "worker", "--threads", "2"], env=self.env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.processes):
                raise RunFailed("the server or worker stopped at start:\n"
                                + self.server_log.read_text()[-2000:])
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/api/v1/openapi.json")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RunFailed("the server did not answer within 60 s")

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server and worker processes (each its own group)."""
        groups, ticks = {p.pid for p in self.processes}, 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) in groups:  # pgrp; then utime, stime at 11, 12
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def alive(self) -> bool:
        return all(p.poll() is None for p in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def setup_data(instance: Instance, n_users: int, seed: int) -> tuple[list, dict, list]:
    """Accounts, cases with members, seeded incidents, evidence and qualifications."""
    auditors = max(1, n_users // 25)
    lawyers = max(1, n_users * 3 // 10)
    investigators = max(1, n_users - auditors - lawyers)
    n_cases = max(2, math.ceil(n_users / 10))
    cases = [f"LOAD-{2024 + i % 3}-{i + 1:03d}" for i in range(n_cases)]
    people = [("admin@load.example.org", "admin")]
    people += [(f"investigator{i + 1}@load.example.org", "investigator")
               for i in range(investigators)]
    people += [(f"lawyer{i + 1}@load.example.org", "legal") for i in range(lawyers)]
    people += [(f"auditor{i + 1}@load.example.org", "auditor") for i in range(auditors)]
    tokens = instance.create_accounts(people)
    specs, serial = [], defaultdict(int)
    for i, (email, role) in enumerate(people[1:]):
        k, serial[role] = serial[role], serial[role] + 1
        few = {"investigator": investigators, "legal": lawyers}.get(role, 0) < n_cases
        specs.append({"email": email, "role": role, "token": tokens[email], "seed": seed + i,
                      "case": None if role == "auditor" else cases[k % n_cases],
                      # with fewer lawyers than cases, each lawyer joins every case
                      "member_of": [] if role == "auditor" else
                      cases if few else [cases[k % n_cases]]})
    admin = Client(instance.port, tokens["admin@load.example.org"], [], [])
    shared = {"port": instance.port, "cases": {}, "provisions": []}
    acks: list[dict] = []
    for ref in cases:
        shared["cases"][ref] = seed_case(instance, admin, ref, specs, tokens, acks)
    status, provisions = admin.json("setup", "GET", "/api/v1/provisions?limit=500")
    keys = [p["key"] for p in provisions["items"] if p["elements"]]
    shared["provisions"] = keys[:PROVISIONS_USED]
    if admin.problems or not shared["provisions"]:
        raise RunFailed(f"set-up failed: {admin.problems[:3]}")
    for ref, case in shared["cases"].items():  # two qualifications per case to start from
        lawyer = next(s for s in specs if s["role"] == "legal" and ref in s["member_of"])
        lawyer = {**lawyer, "case": ref}
        user = Lawyer(lawyer, shared, [], admin.problems, acks)
        for incident, key in zip(case["incidents"][:2], shared["provisions"]):
            status, result = user.http.json(
                "setup", "POST", f"/api/v1/incidents/{incident}/qualifications",
                {"provision_key": key, "assessment": "alleged"}, ok=(201,))
            user.ack("qualification", id=result["id"], incident=incident, provision=key,
                     analysis="")
    if admin.problems:
        raise RunFailed(f"set-up failed: {admin.problems[:3]}")
    return specs, shared, acks


def seed_case(instance, admin: Client, ref: str, specs, tokens, acks) -> dict:
    parties = [{"name": "Armed Forces of State A", "kind": "state", "state_code": "RUS"},
               {"name": "Armed Forces of State B", "kind": "state", "state_code": "UKR"}]
    admin.json("setup", "POST", "/api/v1/cases", {
        "ref": ref, "title": f"Load test case {ref}", "summary": "Made by bench/load.py.",
        "conflict_classification": "international", "parties": parties}, ok=(201,))
    for spec in specs:
        if ref in spec["member_of"]:
            admin.json("setup", "POST", f"/api/v1/cases/{ref}/members", {"email": spec["email"]},
                       ok=(201,))
    investigator = next(s for s in specs if s["role"] == "investigator" and ref in s["member_of"])
    investigator = {**investigator, "case": ref}
    shared = {"port": instance.port, "cases": {ref: {"parties": [p["name"] for p in parties]}}}
    user = Investigator(investigator, shared, [], admin.problems, acks)
    for _ in range(6):
        user.file_incident()
    for _ in range(3):
        user.upload_evidence()
    return {"parties": [p["name"] for p in parties], "incidents": user.incidents,
            "evidence": user.evidence}


def measure_baseline(port: int, count: int) -> list[float]:
    """Latencies (ms) of a static file from the same gunicorn, one request after another."""
    client, times = Client(port, "", [], []), []
    for _ in range(count):
        client.request("baseline", "GET", STATIC_PATH, api=False)
    times = [ms for _, _, ms, _ in client.log]
    if client.problems:
        raise RunFailed(f"the baseline request failed: {client.problems[0]}")
    return times


def baseline_probe(port: int, stop: threading.Event, times: list) -> None:
    """The baseline under load: the static file every 250 ms while the users run."""
    client = Client(port, "", [], [])
    while not stop.wait(0.25):
        client.request("baseline", "GET", STATIC_PATH, api=False)
    times.extend(ms for _, _, ms, status in client.log if status == 200)


# ---- checks after the run ---------------------------------------------------------------------

def check_database(url: str, acks: list[dict]) -> list[str]:
    """Every acknowledged write in the database exactly once, no edit lost; the chain whole."""
    import sqlalchemy as sa

    from ihl_docs.core.db import make_engine

    engine, failures = make_engine(url), []
    try:
        with engine.connect() as conn:
            q = lambda sql, **kw: conn.execute(sa.text(sql), kw).all()  # noqa: E731
            failures += check_incidents(q, acks)
            failures += check_evidence(q, acks)
            failures += check_qualifications(q, acks)
            failures += check_chain(q)
    finally:
        engine.dispose()
    return failures


def by_type(acks, kind):
    return [a for a in acks if a["type"] == kind]


def audit_entries(q, entity: str) -> dict[str, list[dict]]:
    entries = defaultdict(list)
    for entity_id, action, change in q("SELECT entity_id, action, change FROM audit_entry "
                                       "WHERE entity = :e ORDER BY seq", e=entity):
        change = json.loads(change) if isinstance(change, str) else change
        entries[entity_id].append({"action": action, **change})
    return entries


def check_incidents(q, acks) -> list[str]:
    failures = []
    rows = {ref: (version, narrative, place, imin, imax, title) for ref, version, narrative, place,
            imin, imax, title in q("SELECT ref, version, narrative, place_name, injured_min, "
                                   "injured_max, title FROM incident")}
    titles = defaultdict(int)
    for row in rows.values():
        titles[row[5]] += 1
    for a in by_type(acks, "incident_created"):
        if a["ref"] not in rows:
            failures.append(f"incident {a['ref']} was acknowledged but is not in the database")
        elif rows[a["ref"]][5] != a["title"] or titles[a["title"]] != 1:
            failures.append(f"incident {a['ref']}: title {a['title']!r} is there "
                            f"{titles[a['title']]} times")
    audit = audit_entries(q, "incident")
    edits = defaultdict(list)
    for a in by_type(acks, "incident_edited"):
        edits[a["ref"]].append(a)
    columns = {"narrative": 1, "place_name": 2, "injured_min": 3, "injured_max": 4}
    for ref, done in edits.items():
        versions = [a["version"] for a in done]
        if len(set(versions)) != len(versions):
            failures.append(f"incident {ref}: two acknowledged edits got the same version "
                            f"(lost update): {sorted(versions)}")
        last = max(done, key=lambda a: a["version"])
        row = rows.get(ref)
        if row is None or row[0] != last["version"]:
            failures.append(f"incident {ref}: version {row and row[0]} in the database, the last "
                            f"acknowledged edit made version {last['version']}")
        for name, value in last["fields"].items():
            if row is not None and row[columns[name]] != value:
                failures.append(f"incident {ref}: {name} is {row[columns[name]]!r}, the last "
                                f"acknowledged edit (version {last['version']}) set {value!r}")
        logged = {e["after"]["version"]: e["after"] for e in audit.get(ref, [])
                  if e["action"] == "update"}
        for a in done:
            after = logged.get(a["version"])
            if after is None or any(after.get(k) != v for k, v in a["fields"].items()):
                failures.append(f"incident {ref}: the acknowledged edit to version {a['version']} "
                                f"has no matching audit entry")
    for ref, entries in audit.items():
        versions = [e["after"]["version"] for e in entries if e["action"] in ("create", "update")]
        if len(versions) != len(set(versions)):
            failures.append(f"incident {ref}: the audit log holds a version twice: {versions}")
    return failures


def check_evidence(q, acks) -> list[str]:
    failures = []
    rows = {ref: (sha, title, case) for ref, sha, title, case in q(
        'SELECT e.ref, e.sha256, e.title, c.ref FROM evidence e JOIN "case" c '
        "ON c.id = e.case_id")}
    titles = defaultdict(int)
    for _, title, _ in rows.values():
        titles[title] += 1
    for a in by_type(acks, "evidence"):
        row = rows.get(a["ref"])
        if row is None:
            failures.append(f"evidence {a['ref']} was acknowledged but is not in the database")
        elif (row[0], row[2]) != (a["sha256"], a["case"]) or a["recorded_sha256"] != a["sha256"]:
            failures.append(f"evidence {a['ref']}: sha256 {row[0]} in case {row[2]}, the client "
                            f"sent {a['sha256']} to {a['case']}")
        elif titles[a["title"]] != 1:
            failures.append(f"evidence {a['ref']}: recorded {titles[a['title']]} times")
    notes = defaultdict(list)
    per_item = defaultdict(int)
    for ref, note, action in q("SELECT e.ref, c.notes, c.action FROM custody_event c "
                               "JOIN evidence e ON e.id = c.evidence_id"):
        if note:
            notes[note].append(ref)
        if action not in ("collected", "accessed") and note.startswith("Custody "):
            per_item[ref] += 1
    acked = defaultdict(int)
    for a in by_type(acks, "custody"):
        acked[a["ref"]] += 1
        if notes.get(a["note"]) != [a["ref"]]:
            failures.append(f"custody event {a['note']!r} on {a['ref']} is in the database "
                            f"{len(notes.get(a['note'], []))} times")
    for ref, count in acked.items():
        if per_item[ref] != count:
            failures.append(f"evidence {ref}: {per_item[ref]} custody events recorded by the "
                            f"users in the database, {count} acknowledged")
    return failures


def check_qualifications(q, acks) -> list[str]:
    failures = []
    rows = {qid: (ref, key, analysis, version) for qid, ref, key, analysis, version in q(
        "SELECT q.id, i.ref, p.key, q.analysis, q.version FROM qualification q "
        "JOIN incident i ON i.id = q.incident_id JOIN provision p ON p.id = q.provision_id")}
    pairs = defaultdict(int)
    for ref, key, _, _ in rows.values():
        pairs[(ref, key)] += 1
    for a in by_type(acks, "qualification"):
        row = rows.get(a["id"])
        if row is None or row[:3] != (a["incident"], a["provision"], a["analysis"]):
            failures.append(f"qualification {a['id']} ({a['incident']} under {a['provision']}) "
                            f"is not in the database as acknowledged: {row}")
    for pair, count in pairs.items():
        if count != 1:
            failures.append(f"{pair[0]} is qualified under {pair[1]} {count} times")
    findings = {(qid, n): (status, note) for qid, n, status, note in q(
        "SELECT qualification_id, element_number, status, note FROM element_finding")}
    cited = defaultdict(list)
    for qid, n, ref in q("SELECT f.qualification_id, f.element_number, e.ref "
                         "FROM element_evidence x JOIN element_finding f ON f.id = x.finding_id "
                         "JOIN evidence e ON e.id = x.evidence_id"):
        cited[(qid, n)].append(ref)
    done = defaultdict(list)
    for a in by_type(acks, "finding"):
        done[a["id"]].append(a)
    for qid, acked in done.items():
        versions = [a["version"] for a in acked]
        if len(set(versions)) != len(versions):
            failures.append(f"qualification {qid}: two acknowledged findings got the same "
                            f"version (lost update): {sorted(versions)}")
        if rows.get(qid, (0, 0, 0, None))[3] != max(versions):
            failures.append(f"qualification {qid}: version {rows.get(qid, [None] * 4)[3]} in the "
                            f"database, the last acknowledged finding made {max(versions)}")
        last = {}
        for a in sorted(acked, key=lambda a: a["version"]):
            last[a["number"]] = a
        for number, a in last.items():
            stored = findings.get((qid, number))
            if stored != (a["status"], a["note"]) or sorted(cited[(qid, number)]) != a["evidence"]:
                failures.append(f"qualification {qid} element {number}: {stored} in the database, "
                                f"the last acknowledged finding set {(a['status'], a['note'])}")
    return failures


def check_chain(q) -> list[str]:
    """Seqs 1..N without a gap, each entry naming the previous one's hash (no fork)."""
    failures, expected, previous = [], 1, "0" * 64
    for seq, prev_hash, digest in q("SELECT seq, prev_hash, hash FROM audit_entry ORDER BY seq"):
        if seq != expected:
            failures.append(f"audit seq {seq} follows seq {expected - 1}: a gap")
        if prev_hash != previous:
            failures.append(f"audit seq {seq} does not name the hash of seq {seq - 1}: a fork")
        expected, previous = seq + 1, digest
        if len(failures) > 10:
            break
    return failures


def check_verifications(acks) -> list[str]:
    failures = []
    for a in by_type(acks, "verification"):
        if a["status"] != "done" or a["problems"]:
            failures.append(f"verification {a['id']} ({a['case'] or 'everything'}) ended "
                            f"{a['status']} with {a['problems']} problem(s): "
                            f"{a['error'] or a['findings']}")
    return failures


# ---- figures ----------------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


def row(label: str, times: list[float], seconds: float, base_p50: float) -> str:
    p50, p95, p99 = (percentile(times, p) for p in (50, 95, 99))
    return (f"{label:<44} {len(times):>7} {len(times) / seconds:>7.2f} {p50:>8.1f} {p95:>8.1f} "
            f"{p99:>8.1f} {max(times, default=float('nan')):>8.1f} {p50 / base_p50:>7.1f}")


def print_figures(log, idle: list[float], loaded: list[float], seconds: float) -> dict:
    """The table per kind of request; returns the p95 of page views and of form posts."""
    times = defaultdict(list)
    for kind, _, ms, _ in log:
        times[kind].append(ms)
    base = percentile(loaded, 50)
    print(f"\n{'kind of request':<44} {'count':>7} {'per s':>7} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'max ms':>8} {'p50/base':>7}")
    print(row(f"baseline GET {STATIC_PATH}, idle", idle, seconds, base).replace(
        f"{len(idle) / seconds:>7.2f}", f"{'':>7}"))
    print(row(f"baseline GET {STATIC_PATH}, under load", loaded, seconds, base))
    for kind in sorted(times):
        print(row(kind, times[kind], seconds, base))
    of = lambda keep: [ms for k, v in times.items() if keep(k) for ms in v]  # noqa: E731
    groups = {"all page views": of(lambda k: k.startswith("page:")),
              # Logging in hashes the password with Argon2 on purpose, once per session.
              "all form posts (log-in apart)": of(lambda k: k.startswith("form:") and k != LOGIN),
              "all API requests": of(lambda k: k.startswith("api:")),
              "all requests": of(lambda k: True)}
    print()
    for label, values in groups.items():
        print(row(label, values, seconds, base))
    return {label: percentile(values, 95) for label, values in groups.items()}


def server_excerpts(instance: Instance) -> list[str]:
    """Each traceback in the server and worker logs (its error line and last lines), and how
    often 'database is locked' appears."""
    found = []
    for path in (instance.server_log, instance.worker_log):
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        block = None
        for i, line in enumerate(lines + ["[end]"]):
            if block is None and "Traceback (most recent call last)" in line:
                block = [lines[i - 1] if i and "ERROR" in lines[i - 1] else ""]
            elif block is not None and re.match(r'\S+ "[A-Z]+ |\[\d{4}-', line):
                ours = [f"{b} | {block[j + 1].strip()}" for j, b in enumerate(block[:-1])
                        if "/ihl_docs/" in b]  # the project's own frames
                found.append(f"{path.name}: " + "\n    ".join(block[:1] + ours + block[-10:]))
                block = None
            if block is not None:
                block.append(line)
        locked = sum("database is locked" in line for line in lines)
        if locked:
            found.append(f"{path.name}: 'database is locked' appears on {locked} lines")
    return found


# ---- main -------------------------------------------------------------------------------------

def run(options, label: str, database_url: str, queue_url: str | None, work: Path) -> bool:
    print(f"[{label}] {options.users} users for {options.duration:.0f} s, think time "
          f"{options.think} s on average, `ihl serve --workers {options.workers}` (gthread, "
          f"4 threads each), 1 `ihl worker`; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores")
    instance = Instance(work, database_url, queue_url, options.workers)
    done = instance.ihl("init")
    if done.returncode:
        raise RunFailed(f"ihl init failed: {done.stderr}")
    instance.start()
    try:
        return load_and_check(options, label, instance)
    finally:
        instance.stop()


def load_and_check(options, label: str, instance: Instance) -> bool:
    started = time.monotonic()
    specs, shared, acks = setup_data(instance, options.users, options.seed)
    roles = ", ".join(f"{sum(s['role'] == r for s in specs)} {r}" for r in ROLES)
    print(f"[{label}] set up in {time.monotonic() - started:.1f} s: {len(specs)} users "
          f"({roles}), {len(shared['cases'])} cases, catalogue loaded")
    idle = measure_baseline(instance.port, 200)
    n_proc = min(len(specs), options.processes)
    t0 = time.monotonic() + 2
    ramp = min(10.0, options.duration / 6)
    outs = [instance.work / f"users-{i}.json" for i in range(n_proc)]
    context = multiprocessing.get_context("fork")
    procs = [context.Process(target=user_process, args=(
        specs[i::n_proc], shared, t0, options.duration, ramp, options.think, str(outs[i])))
        for i in range(n_proc)]
    cpu_before = instance.cpu_seconds()
    for p in procs:
        p.start()
    stop, loaded = threading.Event(), []  # started after the fork: a thread must not be forked
    probe = threading.Thread(target=baseline_probe, args=(instance.port, stop, loaded))
    probe.start()
    loads = []
    while any(p.is_alive() for p in procs):
        time.sleep(5)
        loads.append(os.getloadavg()[0])
        if time.monotonic() > t0 + options.duration + 400:
            for p in procs:
                p.kill()
            raise RunFailed("the users did not stop within 400 s of the end")
    stop.set()
    probe.join()
    seconds = time.monotonic() - t0
    cpu = instance.cpu_seconds() - cpu_before
    print(f"[{label}] CPU used by `ihl serve` and `ihl worker` during the run: {cpu:.0f} s "
          f"over {seconds:.0f} s ({cpu / seconds:.2f} cores; the database server not counted)")
    if any(p.exitcode for p in procs) or not instance.alive():
        raise RunFailed("a user process crashed or the server died:\n"
                        + instance.server_log.read_text(errors="replace")[-3000:])
    results = [json.loads(out.read_text()) for out in outs]
    log = [entry for r in results for entry in r["log"]]
    problems = [p for r in results for p in r["problems"]]
    acks += [a for r in results for a in r["acks"]]
    stale = defaultdict(int)
    for r in results:
        for k, v in r["stale"].items():
            stale[k] += v
    met, checked = report(label, instance, log, problems, acks, stale, idle, loaded, seconds,
                          loads)
    if options.checks_only:
        print(f"[{label}] --checks-only: the latency targets are reported, not required")
        return checked
    return met and checked


def report(label, instance, log, problems, acks, stale, idle, loaded, seconds,
           loads) -> tuple[bool, bool]:
    p95 = print_figures(log, idle, loaded, seconds)
    statuses = defaultdict(int)
    for _, _, _, status in log:
        statuses[status] += 1
    print(f"\n[{label}] {len(log)} requests in {seconds:.1f} s: {len(log) / seconds:.1f} "
          f"requests/s; answers: " + ", ".join(f"{s or 'no answer'}: {n}"
                                               for s, n in sorted(statuses.items())))
    counts = defaultdict(int)
    for a in acks:
        counts[a["type"]] += 1
    print(f"[{label}] acknowledged writes: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"[{label}] stale versions and duplicates answered 409 (expected, retried): "
          + (", ".join(f"{k} {v}" for k, v in sorted(stale.items())) or "none"))
    print(f"[{label}] load average during the run: min {min(loads, default=0):.2f}, "
          f"max {max(loads, default=0):.2f}, last {os.getloadavg()[0]:.2f} (1 min)")
    failures = []
    five = sum(n for s, n in statuses.items() if s >= 500)
    if five:
        failures.append(f"{five} answers were 5xx")
    grouped = defaultdict(list)
    for p in problems:
        grouped[(p["kind"], p["status"], p["error"].splitlines()[-1:] == [] or
                 p["error"].strip().splitlines()[-1])].append(p)
    for (kind, status, _), same in grouped.items():
        p = same[0]
        failures.append(f"unexpected answer, {len(same)} time(s): {kind}: {p['request']} -> "
                        f"{status or p['error']} {p['body'][:300]!r}")
    failures += check_database(instance.database_url, acks)
    failures += check_verifications(acks)
    verify = instance.ihl("verify")
    last = (verify.stdout.strip().splitlines() or [verify.stderr.strip()])[-1]
    print(f"[{label}] ihl verify: exit {verify.returncode}: {last}")
    if verify.returncode:
        failures.append(f"ihl verify exited {verify.returncode}: {verify.stdout[-2000:]}")
    runs = by_type(acks, "verification")
    if runs:
        print(f"[{label}] verifications run by the auditors: {len(runs)}, "
              f"{sum(a['status'] == 'done' for a in runs)} done, each in "
              f"{min(a['seconds'] for a in runs):.0f}-{max(a['seconds'] for a in runs):.0f} s")
    excerpts = server_excerpts(instance)
    for text in excerpts[:10]:
        print(f"[{label}] server log: {text}")
    if excerpts:
        failures.append(f"{len(excerpts)} traceback(s) in the server or worker log")
    met = True
    for group in ("all page views", "all form posts (log-in apart)"):
        ok = p95[group] < TARGET_P95_MS
        met &= ok
        print(f"[{label}] p95 of {group}: {p95[group]:.0f} ms; target < {TARGET_P95_MS:.0f} ms: "
              f"{'met' if ok else 'missed'}")
    for failure in failures:
        print(f"[{label}] FAILED: {failure}")
    print(f"[{label}] checks: " + ("every acknowledged write is in the database exactly once, "
                                   "no lost update, audit chain whole, no error" if not failures
                                   else f"{len(failures)} failure(s)"))
    return met, not failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean pause between a user's actions, in seconds (exponential)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--processes", type=int, default=4,
                        help="client processes the users are spread over (as threads)")
    parser.add_argument("--postgres", metavar="URL",
                        help="run on PostgreSQL, in a temporary database on URL's server, with "
                             "the job queue on Redis (127.0.0.1:6379)")
    parser.add_argument("--seed", type=int, default=20240607)
    parser.add_argument("--workdir", type=Path, help="put the instance here (default: a tmp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the instance afterwards")
    parser.add_argument("--checks-only", action="store_true",
                        help="exit 0 when every check passes, whatever the latencies (the "
                             "short form in the test suite: speed on a shared machine is "
                             "measured, not asserted)")
    options = parser.parse_args()
    if options.users < 3:
        parser.error("--users must be at least 3 (an investigator, a lawyer and an auditor)")
    work = Path(tempfile.mkdtemp(prefix="ihl-bench-load-", dir=options.workdir))
    pg_name, redis_db = None, None
    try:
        if options.postgres:
            pg_name = f"ihl_bench_load_{uuid.uuid4().hex[:8]}"
            url = postgres_database(options.postgres, pg_name, create=True)
            redis_db = empty_redis_db()
            passed = run(options, "postgresql", url, f"redis://127.0.0.1:6379/{redis_db}", work)
        else:
            passed = run(options, "sqlite", f"sqlite:///{work}/ihl.sqlite3", None, work)
    except (RunFailed, subprocess.SubprocessError, OSError, KeyError, TypeError,
            json.JSONDecodeError) as exc:
        print(f"load test failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    finally:
        if pg_name:
            postgres_database(options.postgres, pg_name, create=False)
        if redis_db is not None:
            import redis
            conn = redis.Redis(host="127.0.0.1", port=6379, db=redis_db)
            for key in conn.scan_iter("*ihl_docs*"):
                conn.delete(key)
        if options.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("every check passed and the targets were met" if passed
          else "a check failed or a target was missed")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
