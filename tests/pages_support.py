"""Helpers shared by the page tests: reading a page (its form, its text), the forms a browser
sends, the CSRF token, and what the evidence store and the database hold. (The fixtures live in
conftest.py.)"""

import html
import io
import re
from html.parser import HTMLParser

from sqlmodel import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from ihl_docs.core.models import Evidence
from tests.builders import PASSWORD, jpeg_with_exif

PHOTO = jpeg_with_exif()


class FormPage(HTMLParser):
    """What a page's form shows: each control's value(s) and the error next to each field."""

    def __init__(self, text: str):
        super().__init__()
        self.values: dict[str, list[str]] = {}
        self.errors: dict[str, str] = {}
        self._select = self._capture = None
        self._options: dict[str, str] = {}
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and "name" in a:
            if a.get("type") in ("checkbox", "radio"):
                self.values.setdefault(a["name"], [])
                if "checked" in a:
                    self.values[a["name"]].append(a.get("value", ""))
            else:
                self.values[a["name"]] = [a.get("value") or ""]
        elif tag == "textarea":
            self.values[a["name"]] = [""]
            self._capture = ("value", a["name"])
        elif tag == "select":
            self._select = a["name"]
            self.values[a["name"]] = []
        elif tag == "option" and self._select:
            self._options.setdefault(self._select, a.get("value", ""))
            if "selected" in a:
                self.values[self._select].append(a.get("value", ""))
        elif tag == "p" and a.get("class") == "error" and a.get("id", "").endswith("-error"):
            self._capture = ("error", a["id"][: -len("-error")])
            self.errors[self._capture[1]] = ""

    def handle_endtag(self, tag):
        if tag == "textarea" and self._capture:  # HTML drops the newline after <textarea>
            name = self._capture[1]
            self.values[name][0] = self.values[name][0].removeprefix("\r\n").removeprefix("\n")
        if tag == "select":  # a browser sends the first option when none is selected
            if not self.values[self._select] and self._select in self._options:
                self.values[self._select] = [self._options[self._select]]
            self._select = None
        if tag in ("textarea", "p"):
            self._capture = None

    def handle_data(self, data):
        if self._capture:
            kind, name = self._capture
            if kind == "value":
                self.values[name][0] += data
            else:
                self.errors[name] += data

    def value(self, name: str) -> str:
        return (self.values.get(name) or [""])[0]


def text_of(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(body))


def incident_form(**fields) -> dict:
    """A complete, valid submission of the incident form, as a browser sends it."""
    data = {
        "title": "Strike on the district hospital", "incident_type": "attack_on_medical_care",
        "occurred_from": "2020-10-04", "occurred_from_time": "09:30",
        "occurred_to": "", "occurred_to_time": "", "date_precision": "exact",
        "time_zone": "unknown", "utc_offset_minutes": "",  # times in UTC, as tests compare them
        "place_name": "District hospital", "admin_area": "Central district", "country": "ARM",
        "latitude": "39.8", "longitude": "46.75", "location_precision_m": "50",
        "weapon_type": "122 mm rocket", "munition_details": "Lot 12-34",
        "responsible_party": "Group B", "narrative": "Two rockets hit the east wing.",
        "killed_min": "2", "killed_max": "4", "children_killed": "1",
        "injured_min": "5", "injured_max": "", "children_injured": "",
        "civilian_objects": ["medical", "residential"],
        "military_objective_notes": "None known within 2 km.",
        "verification_status": "partly_verified",
    }
    data.update(fields)
    return data


def case_form(**fields) -> dict:
    """A submission of the case form: two parties in rows 1 and 3, the other rows empty."""
    data = {"ref": "UA-2022-007", "title": "Attacks on Mariupol", "summary": "Spring 2022.",
            "conflict_classification": "international"}
    for row in range(6):
        data.update({f"parties-{row}-name": "", f"parties-{row}-kind": "state",
                     f"parties-{row}-state_code": ""})
    data.update({"parties-0-name": "Russian Federation", "parties-0-state_code": "rus",
                 "parties-2-name": "Azov regiment", "parties-2-kind": "non-state"})
    data.update(fields)
    return data


def upload_form(data: bytes | None = PHOTO, filename: str = "IMG_0001.JPG", **fields) -> dict:
    """A complete, valid submission of the upload form, as a browser sends it."""
    form = {
        "file": (io.BytesIO(data if data is not None else b""),
                 filename if data is not None else ""),
        "kind": "photo", "title": "Crater in the market square",
        "description": "Impact crater, east side of the square.",
        "source_url": "https://t.me/example/123", "source_platform": "Telegram",
        "source_author": "@oldtown_news", "published_at": "2020-10-04",
        "published_at_time": "11:00", "acquired_at": "2020-10-05", "acquired_at_time": "08:00",
        "acquired_by": "Field team 2", "acquisition_method": "Copied from the witness's phone.",
        "sensitivity": "restricted", "reliability": "B", "credibility": "2",
        "incident": "", "relevance": "",
    }
    form.update(fields)
    return form


def post_upload_in_memory(client, case, **fields):
    """The upload form, its body encoded in memory (the test client spools a body over 500 KB
    to a temporary file that it leaves open when the application refuses to read it)."""
    form = upload_form(**fields)
    data, name = form.pop("file")
    form["file"] = FileStorage(data, filename=name)
    boundary, body = encode_multipart(form)
    return client.post(f"/cases/{case.ref}/evidence/new", input_stream=io.BytesIO(body),
                       content_length=len(body),
                       content_type=f"multipart/form-data; boundary={boundary}")


def custody_form(**fields) -> dict:
    form = {"action": "transferred", "occurred_at": "2020-10-06", "occurred_at_time": "14:30",
            "custodian_from": "Field team 2", "custodian_to": "Forensic lab, Kyiv",
            "place": "Kyiv", "purpose": "Image analysis", "notes": "Seal no. 4471 intact."}
    form.update(fields)
    return form


def items_in(db, case) -> list[Evidence]:
    """The case's evidence as stored now; every read ends its transaction (see incidents_in)."""
    rows = list(db.exec(select(Evidence).where(Evidence.case_id == case.id)
                        .order_by(Evidence.id).execution_options(populate_existing=True)))
    db.commit()
    return rows


def stored_files(store) -> list:
    """Every file in the store, temporary ones included."""
    return sorted(p for p in store.root.rglob("*") if p.is_file())


def token_from(response) -> str:
    [token] = re.findall(r'name="csrf_token" type="hidden" value="([^"]+)"',
                         response.get_data(as_text=True))[:1]
    return token


def log_in(client, user):
    token = token_from(client.get("/login"))
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302


def confirmed_request(client, url, data):
    """Request a dossier on the page as a lawyer does: a court or public edition first shows its
    disclosure check, which is then confirmed; other answers are returned as they are."""
    first = client.post(url, data=data)
    found = re.search(r'name="disclosure_check" type="hidden" value="([0-9a-f]{64})"',
                      first.get_data(as_text=True))
    if first.status_code != 200 or not found:
        return first
    return client.post(url, data={**data, "disclosure_check": found.group(1),
                                  "confirm_disclosure": "y"})
