"""`ihl demo`: an illustrative case with invented places, people and parties, loaded through the
same services as the pages, so that a new user can see every page and a complete dossier.

Everything in it is invented. The coordinates lie in the open South Pacific, where there is no
town, so that they point at no real place. Dates and generated files are fixed: two loads give
the same case content (only the times of recording differ).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session, func, select

from ihl_docs.auth import services as auth
from ihl_docs.cases import services as cases
from ihl_docs.core.errors import Conflict, DomainError
from ihl_docs.core.models import (
    Case,
    CaseCreate,
    CustodyEventCreate,
    EvidenceCreate,
    IncidentCreate,
    Role,
    User,
)
from ihl_docs.core.storage import EvidenceStore
from ihl_docs.demo.files import Photo, Post, Report, photo_jpeg, post_png, report_pdf, transcript
from ihl_docs.evidence import services as evidence_services
from ihl_docs.incidents import services as incidents
from ihl_docs.protection import services as protection
from ihl_docs.provisions import services as provisions
from ihl_docs.qualifications import services as qualifications

CASE_REF = "DEMO-2023-001"
MARK = "ILLUSTRATIVE DEMO — invented places, people and parties"
MAX_BYTES = 64 * 1024 * 1024
OHF, LDU = "Orvan Highlands Front", "Lakeshore Defence Units"
LOCAL = "-08:00"  # the invented region's local time
LOCAL_MINUTES = -8 * 60
LAB = "Orvel Vale forensic laboratory (invented) — Dr Tomas Reddel"
FORENSICS = "Digital forensics desk of the documentation unit (invented)"
EVIDENCE_ROOM = "Documentation unit evidence room, Kestrany (invented)"
CAMERA, PHONE = ("DemoCam", "DemoCam F-20"), ("Demofone", "Demofone 7")
REFUSAL = ("This database already holds a case; `ihl demo` loads its illustrative case only "
           "into a database with none.")


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _local_day(*parts: int) -> datetime:
    """The start of a day in the invented region, for incidents dated to the day or the month."""
    return datetime(*parts, tzinfo=timezone(timedelta(minutes=LOCAL_MINUTES)))


ACCOUNTS = [  # (e-mail, role, name)
    ("demo-investigator@example.org", Role.investigator, "Mara Quill (demo investigator)"),
    ("demo-legal@example.org", Role.legal, "Idris Fenn (demo lawyer)"),
    ("demo-auditor@example.org", Role.auditor, "Sofi Lantern (demo auditor)"),
]

CASE = {
    "ref": CASE_REF,
    "title": f"{MARK}: hostilities in Orvel Vale, March–April 2023",
    "conflict_classification": "non-international",
    "parties": [{"name": OHF, "kind": "non-state"}, {"name": LDU, "kind": "non-state"}],
    "summary": (
        f"{MARK}. Nothing in this case describes a real event, place, person or armed group; "
        "any resemblance is coincidental. It was loaded by the ihl demo command to show what "
        "the system holds and produces. Its coordinates lie in the open South Pacific so that they point "
        "at no inhabited place.\n\n"
        "The invented Orvel Vale province has been contested since 2022 by two organised armed "
        "groups, the Orvan Highlands Front and the Lakeshore Defence Units; the conflict is "
        "classified as non-international. The case documents five incidents in March and April "
        "2023: the shelling of Kestrany's central market, a cluster-munition strike on a "
        "residential quarter of Sallowmere, a strike on Sallowmere district hospital, a rocket "
        "strike on the Tessavar water pumping station and a drone strike on a vehicle.\n\n"
        "Things to look at: the court edition's disclosure check (the witness named in the "
        "market narrative is on the protected-terms register; his telephone number and the "
        "staff's names are replaced too); the metadata warning on the second photograph of the market (its GPS "
        "position is far from the incident); the chain of custody of the submunition fragment "
        "(sealed, transferred to a laboratory, analysed, returned and stored); the confidential "
        "witness statement; the proof matrices, where the perpetrator's intent in the "
        "cluster-munition strike is not yet assessed and has no evidence; and the applicability "
        "warning on the Additional Protocol I qualification, which governs only international "
        "armed conflicts."),
}

INCIDENTS = [
    {
        "title": "Shelling of Kestrany central market",
        "incident_type": "shelling",
        "occurred_from": _utc(2023, 3, 14, 17, 40), "occurred_to": _utc(2023, 3, 14, 17, 55),
        "date_precision": "exact", "utc_offset_minutes": LOCAL_MINUTES,
        "place_name": "Kestrany, central market (invented place)",
        "admin_area": "Orvel Vale province (invented)",
        "latitude": -47.2153, "longitude": -121.9041, "location_precision_m": 25,
        "weapon_type": "120 mm mortar",
        "munition_details": ("At least six rounds over about fifteen minutes. A tail fin assembly "
                             "of a 120 mm mortar bomb was found between the stalls; no lot number "
                             "legible. Crater shapes point to fire from the north-east."),
        "responsible_party": OHF,
        "narrative": (
            "Illustrative, invented account. At about 09:40 local time (UTC−8), on a market "
            "morning, mortar rounds landed in and around Kestrany's covered market. Stall holders "
            "describe a first impact near the fish stalls, followed within minutes by further "
            "rounds as people fled towards the bus station. One of them, Teodor Vantz (an "
            "invented name; telephone +000 555 0147), gave the statement kept as confidential "
            "evidence. Three people are reported dead by the "
            "municipal morgue and two more by relatives; between eleven and fourteen were "
            "treated for injuries. The front line ran about 6 km to the north-east."),
        "killed_min": 3, "killed_max": 5, "children_killed": 1,
        "injured_min": 11, "injured_max": 14, "children_injured": 3,
        "civilian_objects": ["market", "residential"],
        "military_objective_notes": (
            "Witnesses and the open-source material report no fighters, weapons or military "
            "positions in or near the market at the time; the nearest reported position of the "
            "Lakeshore Defence Units was a checkpoint about 1.2 km to the south."),
        "verification_status": "verified",
    },
    {
        "title": "Cluster munition strike on the Reed Lane quarter of Sallowmere",
        "incident_type": "cluster_munition",
        "occurred_from": _local_day(2023, 3, 15), "date_precision": "day",
        "utc_offset_minutes": LOCAL_MINUTES,
        "place_name": "Sallowmere, Reed Lane quarter (invented place)",
        "admin_area": "Orvel Vale province (invented)",
        "latitude": -47.1820, "longitude": -121.8308, "location_precision_m": 150,
        "weapon_type": "Cargo rockets with submunitions (cluster munition)",
        "munition_details": (
            "Submunitions of a dual-purpose type (shaped charge and fragmentation) with ribbon "
            "stabilisers; at least fourteen impact points spread over about 250 m. A fragment "
            "with a partial stencil reading 'LOT 07-1…' was collected and analysed (markings "
            "invented)."),
        "responsible_party": OHF,
        "narrative": (
            "Illustrative, invented account. In the early morning, residents of the Reed Lane "
            "quarter heard a rocket pass overhead and a series of small explosions across "
            "courtyards, a school yard and the lane itself. Two people died; six to nine were "
            "injured, two of them children. A mine-action team cleared unexploded submunitions "
            "over the following two days."),
        "killed_min": 2, "killed_max": 2, "children_killed": 0,
        "injured_min": 6, "injured_max": 9, "children_injured": 2,
        "civilian_objects": ["residential", "school"],
        "military_objective_notes": "None reported in the quarter.",
        "verification_status": "partly_verified",
    },
    {
        "title": "Strike on the surgical wing of Sallowmere district hospital",
        "incident_type": "attack_on_medical_care",
        # 20:30 local time on 21 March is 04:30 UTC on 22 March: the dossier gives the local day
        "occurred_from": _utc(2023, 3, 22, 4, 30), "date_precision": "exact",
        "utc_offset_minutes": LOCAL_MINUTES,
        "place_name": "Sallowmere district hospital (invented place)",
        "admin_area": "Orvel Vale province (invented)",
        "latitude": -47.1788, "longitude": -121.8241, "location_precision_m": 10,
        "weapon_type": "Loitering munition (type not identified)",
        "munition_details": (
            "A single detonation on the roof of the surgical wing, which carried a red cross "
            "emblem about 6 m across, painted in 2022 according to the hospital."),
        "responsible_party": OHF,
        "narrative": (
            "Illustrative, invented account. At about 20:30 local time on 21 March a single "
            "munition struck the roof of the surgical wing while an emergency operation was "
            "under way. A patient in the "
            "recovery room died; four to six people were injured, among them two nurses. The "
            "hospital moved surgery to its basement for three weeks."),
        "killed_min": 1, "killed_max": 1, "injured_min": 4, "injured_max": 6,
        "civilian_objects": ["medical"],
        "military_objective_notes": (
            "The Orvan Highlands Front stated that the hospital grounds were used as a mortar "
            "firing position. Staff deny this, and no imagery so far shows military equipment "
            "on the grounds."),
        "verification_status": "verified",
    },
    {
        "title": "Rocket strike on the Tessavar water pumping station",
        "incident_type": "rocket",
        "occurred_from": _local_day(2023, 3, 1), "occurred_to": _local_day(2023, 3, 31),
        "date_precision": "month", "utc_offset_minutes": LOCAL_MINUTES,
        "place_name": "Tessavar water pumping station (invented place)",
        "admin_area": "Orvel Vale province (invented)",
        "latitude": -47.3010, "longitude": -122.0150, "location_precision_m": 500,
        "weapon_type": "Unguided rockets (calibre unknown)",
        "munition_details": "Residents report two rockets; no remnants documented yet.",
        "responsible_party": LDU,
        "narrative": (
            "Illustrative, invented account, not yet checked. Residents of Tessavar report that "
            "some time in late March two rockets hit the pump house; the town was without piped "
            "water for about ten days. The exact date is not yet known."),
        "killed_min": 0, "killed_max": 0, "injured_min": 0, "injured_max": 1,
        "civilian_objects": ["water"],
        "verification_status": "unverified",
    },
    {
        "title": "Drone strike on a vehicle on the Kestrany–Sallowmere road",
        "incident_type": "drone_strike",
        "occurred_from": _local_day(2023, 4, 2), "occurred_to": _local_day(2023, 4, 6),
        "date_precision": "approximate", "utc_offset_minutes": LOCAL_MINUTES,
        "place_name": "Kestrany–Sallowmere road near the Orvel bridge (invented place)",
        "admin_area": "Orvel Vale province (invented)",
        "latitude": -47.1985, "longitude": -121.8720, "location_precision_m": 1000,
        "weapon_type": "Armed drone (munition dropped from a quadcopter, reported)",
        "munition_details": "No remnants documented.",
        "responsible_party": LDU,
        "narrative": (
            "Illustrative, invented account. Between 2 and 6 April a pick-up truck was struck on "
            "the road near the Orvel bridge. Two or three occupants died and one was injured. "
            "Relatives say they were farmers taking produce to market."),
        "killed_min": 2, "killed_max": 3, "injured_min": 1, "injured_max": 1,
        "military_objective_notes": (
            "The Lakeshore Defence Units stated that the vehicle carried a commander of the "
            "Orvan Highlands Front. Disputed; proportionality cannot be assessed yet."),
        "verification_status": "disputed",
    },
]

# Why an incident is approved although some elements have no supporting evidence.
APPROVAL_NOTES = {
    0: ("Approved on the war crime of attacking civilians (rs-8-2-e-i), every element of which "
        "is supported. Customary rule 11 is kept as context, not yet assessed element by "
        "element; AP I Art. 51(4) is excluded, the conflict being non-international."),
}

# Incident (by position) -> the workflow steps it goes through: (status, role that moves it).
WORKFLOW = {
    0: [("submitted", Role.investigator), ("in_legal_review", Role.legal),
        ("approved", Role.legal)],
    1: [("submitted", Role.investigator), ("in_legal_review", Role.legal)],
    2: [("submitted", Role.investigator)],
    4: [("submitted", Role.investigator)],
}


@dataclass(frozen=True)
class Item:
    """One evidence item: its record, the file to generate (None: physical), the incidents it
    is linked to (by position, with the relevance) and further custody events."""

    record: dict
    content: object | None
    filename: str
    links: list[tuple[int, str]]
    custody: list[dict] = field(default_factory=list)


def _photo(caption, taken, position, device, seed, **kw) -> Photo:
    return Photo(caption=caption, taken_local=taken, offset=LOCAL, position=position,
                 device=device, seed=seed, **kw)


ITEMS = [
    Item({"kind": "photo", "title": "Crater and damaged stalls at Kestrany central market",
          "description": f"{MARK}. Generated picture standing in for a photograph taken on site "
                         "about 25 minutes after the first impact.",
          "acquired_at": _utc(2023, 3, 14, 22, 30),
          "acquired_by": "Field researcher Ilse Varn (invented)",
          "acquisition_method": "Taken on site by the field researcher; memory card copied to the "
                                "documentation unit's laptop the same evening.",
          "sensitivity": "restricted", "reliability": "B", "credibility": "2"},
         _photo("Kestrany central market, impact point", "2023:03:14 10:07:32",
                (-47.21541, -121.90398), CAMERA, 11),
         "IMG_0412.JPG", [(0, "Shows the impact point and the damaged stalls.")]),
    Item({"kind": "photo", "title": "Tail fin of a 120 mm mortar bomb between the stalls",
          "description": f"{MARK}. Sent by a stall holder. The file's GPS position is about 40 km "
                         "north-west of the market: the phone probably kept a stale position fix. "
                         "The metadata warning on this page is expected; the capture time fits.",
          "acquired_at": _utc(2023, 3, 15, 9, 0),
          "acquired_by": "Stall holder at the market (name withheld)",
          "acquisition_method": "Received through the documentation unit's secure messaging "
                                "channel; the original file was requested and received.",
          "sensitivity": "restricted", "reliability": "C", "credibility": "3"},
         _photo("Kestrany market, mortar tail fin", "2023:03:14 10:21:05",
                (-46.9250, -122.2300), PHONE, 12,
                palette=((120, 120, 118), (90, 88, 84), (40, 44, 40))),
         "20230314_102105.jpg", [(0, "Remnant identifying the weapon as a 120 mm mortar.")]),
    Item({"kind": "photo", "title": "Submunition remnant in a courtyard on Reed Lane, Sallowmere",
          "description": f"{MARK}. Generated picture standing in for a photograph of a "
                         "submunition remnant before clearance.",
          "acquired_at": _utc(2023, 3, 15, 20, 0),
          "acquired_by": "Field researcher Ilse Varn (invented)",
          "acquisition_method": "Taken on site by the field researcher.",
          "sensitivity": "restricted", "reliability": "B", "credibility": "2"},
         _photo("Sallowmere, Reed Lane courtyard", "2023:03:15 08:45:10",
                (-47.18185, -121.83041), CAMERA, 13,
                palette=((170, 175, 185), (135, 120, 95), (60, 60, 58))),
         "IMG_0431.JPG", [(1, "A remnant of the submunitions that hit the quarter.")]),
    Item({"kind": "physical_item", "title": "Submunition fragment with partial stencil markings",
          "description": f"{MARK}. Fragment of a dual-purpose submunition, about 4 cm, with a "
                         "partial stencil 'LOT 07-1…'. Evidence bag OV-0117 (invented).",
          "acquired_at": _utc(2023, 3, 15, 17, 10),
          "acquisition_method": "Collected by the case investigator after a mine-action team had "
                                "cleared the courtyard; photographed in place, bagged, labelled.",
          "sensitivity": "restricted", "reliability": "B", "credibility": "2"},
         None, "", [(1, "Physical remnant of the munition; analysed by the laboratory.")],
         custody=[
             {"action": "sealed", "occurred_at": _utc(2023, 3, 15, 17, 30),
              "custodian_to": "{investigator}", "place": "Sallowmere, Reed Lane (invented)",
              "purpose": "Sealed in evidence bag OV-0117."},
             {"action": "transferred", "occurred_at": _utc(2023, 3, 16, 9, 15),
              "custodian_from": "{investigator}", "custodian_to": LAB,
              "place": "Kestrany (invented)",
              "purpose": "For analysis of the markings and the type of submunition.",
              "notes": "Seal OV-0117 intact on hand-over; receipt signed by the laboratory."},
             {"action": "analysed", "occurred_at": _utc(2023, 3, 20, 14, 0),
              "custodian_to": LAB, "place": "Orvel Vale forensic laboratory (invented)",
              "purpose": "Visual, dimensional and metallurgical examination."},
             {"action": "transferred", "occurred_at": _utc(2023, 3, 24, 11, 0),
              "custodian_from": LAB, "custodian_to": EVIDENCE_ROOM,
              "place": "Kestrany (invented)", "purpose": "Returned after analysis, resealed."},
             {"action": "stored", "occurred_at": _utc(2023, 3, 24, 11, 30),
              "custodian_to": EVIDENCE_ROOM, "place": "Kestrany (invented)",
              "purpose": "Locker 3; seal intact."},
         ]),
    Item({"kind": "expert_report", "title": "Laboratory report on the submunition fragment",
          "description": f"{MARK}. Report of the (invented) forensic laboratory on the fragment "
                         "collected on Reed Lane.",
          "acquired_at": _utc(2023, 3, 24, 10, 0), "acquired_by": LAB,
          "acquisition_method": "Received from the laboratory by e-mail as a PDF.",
          "sensitivity": "restricted", "reliability": "B", "credibility": "2"},
         Report("Examination of a submunition fragment (bag OV-0117)", (
             "Illustrative, invented report. Item received sealed on 16 March 2023 from the case "
             "investigator; seal intact.",
             "The fragment is part of the body of a dual-purpose submunition (shaped charge with "
             "a fragmenting case) of a kind delivered by cargo rockets in large numbers over a "
             "wide area. The partial stencil reads 'LOT 07-1', the last character being lost.",
             "Conclusion: consistent with a cluster munition. The type is among those used in "
             "the hostilities in Orvel Vale, as the report's annex lists."),
             (("Item", "Finding"), ("Length", "41 mm"), ("Mass", "23 g"),
              ("Markings", "LOT 07-1… (stencil, partial)"))),
         "lab-report-OV-0117.pdf", [(1, "Identifies the fragment as part of a cluster munition.")]),
    Item({"kind": "document", "title": "Sallowmere district hospital: admissions, 21–22 March 2023",
          "description": f"{MARK}. Summary of admissions after the strike, without names.",
          "acquired_at": _utc(2023, 3, 23, 16, 0),
          "acquired_by": "Hospital administrator (name withheld)",
          "acquisition_method": "Handed over on paper and scanned by the hospital at our request.",
          "sensitivity": "restricted", "reliability": "B", "credibility": "2"},
         Report("Admissions after the strike of 21 March 2023", (
             "Illustrative, invented document. Summary prepared by the hospital administration "
             "of Sallowmere district hospital for the documentation unit.",
             "The hospital was fully operating on 21 March: 64 in-patients, two operating "
             "theatres in use. Surgery moved to the basement on 22 March."),
             (("Date", "Admitted", "Died"), ("21 March 2023", "6", "1"),
              ("22 March 2023", "0", "0"))),
         "admissions-2023-03-21.pdf", [(2, "Shows a functioning hospital and the casualties.")]),
    Item({"kind": "testimony", "title": "Statement of witness W-07, nurse on duty",
          "description": f"{MARK}. Pseudonymised statement of a nurse on duty in the surgical "
                         "wing. Witness-identifying details are kept outside this system.",
          "acquired_at": _utc(2023, 3, 25, 18, 0),
          "acquired_by": "Interviewer Ana Presk (invented)",
          "acquisition_method": "Interview in person in a private room, with informed consent; "
                                "the transcript was read back to the witness.",
          "sensitivity": "confidential", "reliability": "C", "credibility": "2"},
         ("ILLUSTRATIVE DEMO — invented statement; no real witness.",
          "Witness: W-07 (pseudonym). Interviewer: Ana Presk (invented). Date: 25 March 2023.",
          "",
          "I was on duty in the recovery room on 21 March. At about twenty past ten in the "
          "morning there was a very loud explosion above us and part of the ceiling came down.",
          "The red cross on the roof was repainted last year; you can see it from the hill road.",
          "There were no fighters and no weapons at the hospital. Nobody fired from our grounds, "
          "that day or before."),
         "W-07-statement.txt", [(2, "Eyewitness to the strike and to the use of the grounds.")]),
    Item({"kind": "open_source_post",
          "title": "Post showing smoke over the hospital's surgical wing",
          "description": f"{MARK}. Public post on an invented platform, about twenty minutes "
                         "after the strike.",
          "source_url": "https://social.example/@orvel_watch/posts/1021",
          "source_platform": "Social network (invented)", "source_author": "@orvel_watch",
          "published_at": _utc(2023, 3, 21, 18, 41), "acquired_at": _utc(2023, 3, 21, 19, 30),
          "acquired_by": "Open-source analyst Jonas Hemmel (invented)",
          "acquisition_method": "Screenshot and archive of the public post.",
          "sensitivity": "public", "reliability": "F", "credibility": "3"},
         Post("@orvel_watch", "21 Mar 2023 · 10:41",
              "Smoke rising from the hospital in Sallowmere right now. Ambulances outside, the "
              "roof of the surgery building is hit. #OrvelVale", 21),
         "orvel_watch-1021.png", [(2, "Places the strike on the surgical wing at that time.")]),
    Item({"kind": "photo", "title": "Damaged roof of the surgical wing with the red cross emblem",
          "description": f"{MARK}. Generated picture standing in for a photograph taken the day "
                         "after the strike.",
          "acquired_at": _utc(2023, 3, 22, 17, 20),
          "acquisition_method": "Taken on site by the case investigator.",
          "sensitivity": "restricted", "reliability": "B", "credibility": "1"},
         _photo("Sallowmere district hospital, surgical wing roof", "2023:03:22 09:15:00",
                (-47.17871, -121.82398), CAMERA, 14,
                palette=((175, 190, 205), (190, 190, 185), (60, 58, 56)), emblem=True),
         "IMG_0502.JPG", [(2, "Shows the emblem and the point of impact on the roof.")],
         custody=[
             {"action": "transferred", "occurred_at": _utc(2023, 3, 23, 8, 0),
              "custodian_from": "{investigator}", "custodian_to": FORENSICS,
              "place": "Kestrany (invented)", "purpose": "Metadata and shadow analysis."},
             {"action": "analysed", "occurred_at": _utc(2023, 3, 23, 15, 0),
              "custodian_to": FORENSICS, "place": "Kestrany (invented)",
              "purpose": "Shadows consistent with the EXIF time; no sign of editing."},
             {"action": "transferred", "occurred_at": _utc(2023, 3, 24, 9, 0),
              "custodian_from": FORENSICS, "custodian_to": "{investigator}",
              "place": "Kestrany (invented)", "purpose": "Returned to the case investigator."},
         ]),
    Item({"kind": "open_source_post",
          "title": "Orvan Highlands Front statement: hospital grounds 'used as a firing position'",
          "description": f"{MARK}. Statement of the party alleged responsible, published the "
                         "morning after the strike.",
          "source_url": "https://social.example/@ohf_press/posts/388",
          "source_platform": "Social network (invented)", "source_author": "@ohf_press",
          "published_at": _utc(2023, 3, 22, 6, 0), "acquired_at": _utc(2023, 3, 22, 8, 0),
          "acquired_by": "Open-source analyst Jonas Hemmel (invented)",
          "acquisition_method": "Screenshot and archive of the public post.",
          "sensitivity": "public", "reliability": "D", "credibility": "4"},
         Post("@ohf_press", "21 Mar 2023 · 22:00",
              "Our forces struck a mortar position of the Lakeshore units on the grounds of the "
              "Sallowmere hospital. The enemy turned the hospital into a base.", 22),
         "ohf_press-388.png", [(2, "The responsible party's own account of the strike.")]),
    Item({"kind": "open_source_post",
          "title": "Lakeshore Defence Units statement on the strike near the Orvel bridge",
          "description": f"{MARK}. Statement of the party alleged responsible.",
          "source_url": "https://social.example/@ldu_command/posts/512",
          "source_platform": "Social network (invented)", "source_author": "@ldu_command",
          "published_at": _utc(2023, 4, 6, 20, 0), "acquired_at": _utc(2023, 4, 7, 9, 0),
          "acquired_by": "Open-source analyst Jonas Hemmel (invented)",
          "acquisition_method": "Screenshot and archive of the public post.",
          "sensitivity": "public", "reliability": "D", "credibility": "4"},
         Post("@ldu_command", "6 Apr 2023 · 12:00",
              "Our drone unit destroyed a vehicle carrying a commander of the Highlands Front "
              "near the bridge. The operation was planned to avoid civilians.", 23),
         "ldu_command-512.png", [(4, "The responsible party's claim about the target.")]),
    Item({"kind": "photo", "title": "Damaged pump house at the Tessavar water station",
          "description": f"{MARK}. Sent by a resident; the file has a capture time but no GPS "
                         "position.",
          "acquired_at": _utc(2023, 3, 29, 12, 0),
          "acquired_by": "Resident of Tessavar (name withheld)",
          "acquisition_method": "Received by e-mail; the sender's account has not been checked.",
          "sensitivity": "restricted", "reliability": "F", "credibility": "6"},
         _photo("Tessavar water pumping station", "2023:03:27 16:02:00", None, PHONE, 15,
                palette=((160, 170, 180), (110, 120, 100), (70, 70, 75))),
         "tessavar.jpg", [(3, "The only picture of the damage so far.")]),
]

# (incident, provision key, assessment, analysis, {element: (status, note, [(item, stance)])})
# Items are numbered from 1 in the order of ITEMS, as their refs are (E0001 …).
QUALIFICATIONS = [
    (0, "rs-8-2-e-i", "probable",
     "Repeated mortar fire on a busy market with no military objective nearby.",
     {1: ("supported", "Six rounds on the market within about fifteen minutes.",
          [(1, "supports"), (2, "supports")]),
      2: ("supported", "A market in use by civilians; no fighters or positions reported.",
          [(1, "supports")]),
      3: ("supported", "Fire continued after the first impact, as people fled.",
          [(1, "supports"), (2, "context")]),
      4: ("supported", "Mortar fire during the hostilities between the two groups.",
          [(2, "supports")]),
      5: ("supported", "The front line ran 6 km from the market.", [(2, "supports")])}),
    (0, "cihl-11", "probable", "Area fire with mortars into a dense town centre.", {}),
    (0, "api-51-4", "excluded",
     "Additional Protocol I governs international armed conflicts; this one is classified "
     "non-international, hence the applicability warning and its suggestions. Customary rule 11 "
     "is used instead.", {}),
    (1, "rs-8-2-e-i", "alleged", "Cluster munitions fired into a residential quarter.",
     {1: ("supported", "Submunitions spread over the quarter; fragment analysed.",
          [(3, "supports"), (4, "supports"), (5, "supports")]),
      2: ("supported", "Impacts in courtyards, a school yard and the lane.", [(3, "supports")]),
      3: ("not_assessed", "Not yet assessed: nothing in the file speaks to what was intended.",
          []),
      4: ("supported", "A munition type used in the hostilities in Orvel Vale.",
          [(5, "supports")]),
      5: ("supported", "A munition type used in the hostilities in Orvel Vale.",
          [(5, "supports")])}),
    (1, "cihl-71", "probable",
     "Cluster munitions fired into a populated area strike civilians and military objectives "
     "without distinction.", {}),
    (1, "ccm-1", "alleged",
     "The Convention binds its States Parties; the responsible party here is a non-state armed "
     "group, so this matters for the State that supplied the munitions, not named in this case.",
     {}),
    (2, "rs-8-2-e-iv", "probable", "A precise strike on a marked, functioning hospital.",
     {1: ("supported", "A single munition on the surgical wing.",
          [(8, "supports"), (9, "supports")]),
      2: ("contested", "The hospital was functioning; the responsible party claims its grounds "
                       "were a firing position, which staff deny.",
          [(6, "supports"), (7, "supports"), (10, "contradicts")]),
      3: ("supported", "A precise strike on the clearly marked surgical wing.", [(9, "supports")]),
      4: ("supported", "The responsible party claims the strike as its own operation.",
          [(10, "supports")]),
      5: ("supported", "The responsible party's statement refers to the hostilities.",
          [(10, "supports")])}),
    (2, "rs-8-2-e-ii", "alleged", "The roof carried a large red cross emblem.",
     {1: ("supported", "Emblem about 6 m across on the roof.", [(7, "supports"), (9, "supports")]),
      2: ("contested", "A precise strike on the marked wing; the party says it aimed at a "
                       "mortar position.", [(9, "supports"), (10, "contradicts")]),
      3: ("supported", "Claimed by the responsible party as one of its operations.",
          [(10, "supports")]),
      4: ("supported", "The statement refers to the fighting with the Lakeshore units.",
          [(10, "supports")])}),
]


def _as_shown_above(session, key: str, incident_no: int) -> dict:
    """Findings for a qualification the demo gives only an analysis: each element of the
    provision supported by the items cited for element 1 of the incident's first (war-crime)
    qualification, so that the case keeps its one deliberate gap."""
    first = next(f for n, _, _, _, f in QUALIFICATIONS if n == incident_no and f)
    cited = [(item, "supports") for item, _ in first[1][2]]
    elements = provisions.elements_of(session, provisions.get_provision(session, key))
    return {e.number: ("supported", "Shown by the items cited for the war-crime "
                                    "qualification of this incident.", cited)
            for e in elements}


@dataclass
class DemoReport:
    case_ref: str
    incidents: int = 0
    evidence: int = 0
    files: int = 0
    custody_events: int = 0
    qualifications: int = 0
    findings: int = 0
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # email, role, password


def load_demo(session: Session, *, store: EvidenceStore, actor: str) -> DemoReport:
    """Load the illustrative case into a database that has no case yet (flushes, no commit).

    Creates the demo accounts (`actor` is who the audit log says created them); the case and
    its records are then created by those accounts, as the pages would do it."""
    if session.exec(select(func.count()).select_from(Case)).one():
        raise Conflict(REFUSAL)
    report = DemoReport(CASE_REF)
    users = _create_accounts(session, report, actor)
    investigator, lawyer = users[Role.investigator], users[Role.legal]
    case = cases.create_case(session, CaseCreate.model_validate(CASE), actor=investigator)
    cases.add_member(session, case, lawyer.email, actor=investigator)
    filed = [incidents.create_incident(session, case, IncidentCreate.model_validate(data),
                                       actor=investigator) for data in INCIDENTS]
    report.incidents = len(filed)
    # The witness named in the market narrative is protected in court and public editions.
    protection.add_term(session, case, kind="name", match="text", term="Teodor Vantz",
                        note="witness of the market shelling (invented)", actor=investigator)
    items = [_register(session, case, filed, item, investigator, store, report) for item in ITEMS]
    for incident_no, key, assessment, analysis, findings in QUALIFICATIONS:
        qualification = qualifications.add_qualification(
            session, filed[incident_no], key, assessment, analysis, actor=lawyer)
        findings = findings or _as_shown_above(session, key, incident_no)
        for number, (status, note, cited) in findings.items():
            qualifications.set_finding(session, qualification, number, status, note,
                                       [(items[i - 1].ref, stance) for i, stance in cited],
                                       actor=lawyer)
        report.qualifications += 1
        report.findings += len(findings)
    for position, steps in WORKFLOW.items():
        for status, role in steps:
            incident = filed[position]
            incidents.change_status(session, incident, status, expected_version=incident.version,
                                    actor=users[role], note=APPROVAL_NOTES.get(position, "")
                                    if status == "approved" else "")
    return report


def _create_accounts(session: Session, report: DemoReport, actor: str) -> dict[str, User]:
    users = {}
    for email, role, name in ACCOUNTS:
        password = auth.generate_password()
        users[role] = auth.create_user(session, email, role, password, name=name, actor=actor)
        report.accounts.append((email, role.value, password))
    return users


def _register(session, case, filed, item: Item, investigator: User, store: EvidenceStore,
              report: DemoReport):
    data = EvidenceCreate.model_validate(item.record)
    incoming = None
    if item.content is not None:
        incoming = store.incoming()
        incoming.write(_bytes_of(item.content))
        incoming.seek(0)
        report.files += 1
    try:
        first, relevance = item.links[0]
        evidence = evidence_services.register_evidence(
            session, case, data, incoming, original_filename=item.filename, actor=investigator,
            store=store, max_bytes=MAX_BYTES, incident=filed[first], relevance=relevance)
    finally:
        if incoming is not None:
            incoming.discard()
    for position, relevance in item.links[1:]:
        evidence_services.link_evidence(session, filed[position], evidence, relevance,
                                        actor=investigator)
    for event in item.custody:
        values = {k: v.replace("{investigator}", investigator.email) if isinstance(v, str) else v
                  for k, v in event.items()}
        evidence_services.record_custody(session, evidence, CustodyEventCreate.model_validate(
            values), actor=investigator, store=store)
    report.evidence += 1
    report.custody_events += len(evidence_services.custody_chain(session, evidence))
    return evidence


def _bytes_of(content) -> bytes:
    if isinstance(content, Photo):
        return photo_jpeg(content)
    if isinstance(content, Post):
        return post_png(content)
    if isinstance(content, Report):
        return report_pdf(content)
    return transcript(content)


def _has_case(engine) -> bool:
    """Whether the database already holds a case (without creating or changing anything)."""
    import sqlalchemy as sa

    if not sa.inspect(engine).has_table("case"):
        return False
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(Case.__table__)
                                  ).scalar_one() > 0


@click.command("demo")
@with_appcontext
def demo_command():
    """Load an illustrative case (invented places, people and parties) into an empty database."""
    from ihl_docs.auth.services import DEFAULT_ADMIN_EMAIL
    from ihl_docs.core.db import get_session
    from ihl_docs.core.schema import upgrade
    from ihl_docs.provisions import catalogue

    engine = current_app.extensions["ihl_engine"]
    if _has_case(engine):
        raise click.ClickException(REFUSAL)
    before, after = upgrade(engine)
    if before != after:
        click.echo(f"Schema upgraded from {before or 'nothing'} to revision {after}.")
    session = get_session()
    try:
        loaded = catalogue.load_bundled(session, actor="ihl demo")
        admin_password = auth.create_first_admin(session, DEFAULT_ADMIN_EMAIL, actor="ihl demo")
        report = load_demo(session, store=current_app.extensions["ihl_store"], actor="ihl demo")
        session.commit()
    except DomainError as exc:
        session.rollback()
        raise click.ClickException(exc.message) from None
    if loaded.added:
        click.echo(f"Legal catalogue: {loaded.summary()}")
    _print_report(report, admin_password, DEFAULT_ADMIN_EMAIL)


def where_to_look() -> str:
    """Where the running server of this instance listens, as `ihl serve` wrote it, if any."""
    from ihl_docs.core.commands import address_file
    from ihl_docs.core.server import serving_address

    address = serving_address(address_file(current_app))
    if address:
        return f"open {address}/ (where this instance's server listens now),"
    return ("start the application (`make run`, or `ihl serve` beside `ihl worker`), open the "
            "address it prints (http://127.0.0.1:5000/ unless told otherwise),")


def _print_report(report: DemoReport, admin_password: str | None, admin_email: str) -> None:
    echo = click.echo
    echo(f"Loaded the illustrative case {report.case_ref} ({MARK}):")
    echo(f"  {report.incidents} incidents, {report.evidence} evidence items ({report.files} "
         f"generated files, {report.evidence - report.files} physical item), "
         f"{report.custody_events} custody events, {report.qualifications} qualifications with "
         f"{report.findings} element findings.")
    echo("")
    echo("Demo accounts (passwords are shown only now; deactivate these accounts before real use):")
    for email, role, password in report.accounts:
        echo(f"  {role:<13} {email:<31} {password}")
    if admin_password:
        echo(f"  {'admin':<13} {admin_email:<31} {admin_password}  "
             "(one-time: change it at first log-in)")
    echo("")
    echo(f"To see it: {where_to_look()} log in with one of these accounts and open case "
         f"{report.case_ref}: its incidents, evidence, custody chains and proof matrix.")
    echo(f"A dossier: `ihl dossier {report.case_ref} -o demo-dossier.pdf`, or from the case page.")
