"""Forms of the provision pages: the catalogue's filters and a provision's correction."""

import re

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Form,
    IntegerField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ihl_docs.core.forms_support import (
    REQUIRED,
    ChoiceField,
    enum_options,
    options,
    strip,
    unix_newlines,
)
from ihl_docs.core.models import Applicability, IncidentType

ANY = [("", "Any")]
APPLIES_TO_WORDS = {Applicability.IAC: "International armed conflict",
                    Applicability.NIAC: "Non-international armed conflict",
                    Applicability.both: "Both kinds of armed conflict"}
VERIFICATION = ["verified", "partially verified"]
BINDS_WORDS = {"states": "States (parties to the instrument)",
               "parties_to_conflict": "Every party to the conflict, armed groups included",
               "individuals": "Individuals (criminal responsibility)"}
ELEMENT_KINDS = ("conduct", "circumstance", "consequence", "mental", "context", "attribution")
# An element's line in the form: "[kind] text", the kind optional.
ELEMENT_LINE = re.compile(r"^\[([^\]]*)\]\s*(.*)$")


def element_line(text: str, kind: str) -> str:
    return f"[{kind}] {text}" if kind else text


def parse_element_line(line: str) -> tuple[str, str]:
    """(text, kind) of a line "[kind] text" (or of a line without a kind)."""
    found = ELEMENT_LINE.match(line.strip())
    if not found:
        return line.strip(), ""
    return found.group(2).strip(), found.group(1).strip().lower()


class ProvisionFilterForm(Form):
    """The catalogue's filters, read from the query string; a wrong value is named and ignored."""

    q = StringField("Text", filters=[strip],
                    description="Every word, in any form, in the article, title, summary, notes "
                                "or elements; or an article: “51(4)(c)”, “rule 71”, "
                                "“8(2)(b)(iv)”.")
    instrument = ChoiceField("Instrument", [Optional()])
    category = ChoiceField("Category", [Optional()])
    applies_to = ChoiceField("Applies in", [Optional()], choices=options(
        ANY + [(Applicability.IAC.value, APPLIES_TO_WORDS[Applicability.IAC]),
               (Applicability.NIAC.value, APPLIES_TO_WORDS[Applicability.NIAC])]),
        description="Provisions that govern this kind of conflict (including those for both).")
    page = IntegerField("Page", [Optional(), NumberRange(min=1)])

    def __init__(self, *args, instruments=(), categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument.choices = options(ANY + [(i.short_name, i.short_name) for i in instruments])
        self.category.choices = options(ANY + [(c, c[:1].upper() + c[1:]) for c in categories])

    def valid(self, name: str):
        """The field's value, or None if it was refused."""
        return None if self[name].errors else self[name].data or None


def _official_url(form, field):
    if field.data and not re.match(r"^https?://[^\s/]+", field.data):
        raise ValidationError("Give the address of the official text, starting with https://.")


class ProvisionForm(FlaskForm):
    """What a lawyer or administrator corrects; elements and related keys as plain text."""

    article = StringField("Article", [InputRequired(REQUIRED)], filters=[strip],
                          description="As the instrument numbers it, e.g. 51(4) or Rule 11.")
    title = StringField("Title", [InputRequired(REQUIRED)], filters=[strip])
    summary = TextAreaField("Summary", filters=[unix_newlines], render_kw={"rows": 5},
                            description="Our own paraphrase, never the treaty's words.")
    applies_to = ChoiceField("Applies in", [InputRequired(REQUIRED)], choices=options(
        [(a.value, APPLIES_TO_WORDS[a]) for a in Applicability]))
    category = StringField("Category", filters=[strip],
                           description="Start typing to reuse a category of the catalogue.",
                           render_kw={"list": "categories", "autocomplete": "off"})
    elements = TextAreaField(
        "Elements", filters=[unix_newlines], render_kw={"rows": 8},
        description="One element per line, in order; they are numbered 1, 2, 3 … as listed. "
                    "Start a line with its kind in brackets — [conduct], [circumstance], "
                    "[consequence], [mental], [context] or [attribution] — e.g. “[mental] The "
                    "perpetrator intended …”. Findings already recorded stay with their "
                    "element number.")
    binds = ChoiceField("Binds", [Optional()], choices=options(
        [("", "Not stated")] + list(BINDS_WORDS.items())),
        description="Whom the provision binds.")
    jurisdiction_note = TextAreaField(
        "Who is bound, and before which court", filters=[unix_newlines], render_kw={"rows": 3},
        description="e.g. the preconditions of the ICC's jurisdiction, or which customary rule "
                    "binds a state not party.")
    inoperative = BooleanField("Inoperative: cannot be applied today (say why in the notes)")
    related = TextAreaField(
        "Related provisions", filters=[unix_newlines], render_kw={"rows": 2},
        description="Keys of the catalogue separated by spaces or commas, e.g. cihl-11 api-51-4.")
    source_url = StringField("Official text", [_official_url], filters=[strip],
                             description="The address of the official text (https://…).")
    verification = ChoiceField("Verification", choices=options(
        [(v, v[:1].upper() + v[1:]) for v in VERIFICATION]))
    notes = TextAreaField("Notes", filters=[unix_newlines], render_kw={"rows": 4},
                          description="What is uncertain or still to be checked, and why.")
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    def __init__(self, *args, verification: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if verification and verification not in VERIFICATION:  # a value loaded from a file
            self.verification.choices = self.verification.choices + options(
                [(verification, verification)])

    def validate_elements(self, field):
        lines = (field.data or "").strip().split("\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip() and len(lines) > 1:
                raise ValidationError(
                    f"Line {number} is empty. Write the element, or remove the line (the "
                    f"elements after it then move up one number).")
            text, kind = parse_element_line(line)
            if kind and kind not in ELEMENT_KINDS:
                raise ValidationError(
                    f"Line {number}: “{kind}” is not a kind of element. Use one of "
                    f"{', '.join(ELEMENT_KINDS)}, or leave the brackets out.")
            if line.strip() and not text:
                raise ValidationError(f"Line {number} has a kind but no text.")

    def correction_data(self) -> dict:
        """The fields as ProvisionCorrection takes them."""
        elements = (self.elements.data or "").strip()
        return {
            "article": self.article.data or "", "title": self.title.data or "",
            "summary": (self.summary.data or "").strip(), "applies_to": self.applies_to.data,
            "category": self.category.data or "", "source_url": self.source_url.data or "",
            "verification": self.verification.data or "", "notes": (self.notes.data or "").strip(),
            "related": [k for k in re.split(r"[\s,;]+", self.related.data or "") if k],
            "elements": [dict(zip(("text", "kind"), parse_element_line(line)))
                         for line in elements.split("\n")] if elements else [],
            "binds": self.binds.data or "",
            "jurisdiction_note": (self.jurisdiction_note.data or "").strip(),
            "inoperative": bool(self.inoperative.data),
        }

    @staticmethod
    def initial(read: dict) -> dict:
        """What the form shows for a stored provision (a provision_read)."""
        data = {name: read[name] for name in ("article", "title", "summary", "applies_to",
                                              "category", "source_url", "verification",
                                              "notes", "version", "binds",
                                              "jurisdiction_note", "inoperative")}
        data["related"] = " ".join(read["related"])
        data["elements"] = "\n".join(element_line(e["text"], e["kind"])
                                     for e in read["elements"])
        return data


class SuggestionRuleForm(FlaskForm):
    """A line of the suggestion mapping: incidents of this type (and weapon word) → provision."""

    incident_type = ChoiceField("Incident type", [Optional()],
                                choices=options([("", "Any type")]) + enum_options(IncidentType))
    weapon_keyword = StringField("Weapon word", [Length(max=100)], filters=[strip],
                                 description="Suggest only when the weapon details contain this "
                                             "word, e.g. “cluster”. Leave empty for any weapon.")
    requires_civilian_objects = BooleanField("Only when civilian objects were affected")
    provision_key = StringField("Provision key", [InputRequired("Give the provision's key."),
                                                  Length(max=60)], filters=[strip],
                                description="e.g. ccm-1 or cihl-11", render_kw={"list": "provision-keys"})
    reason = StringField("Reason shown to the lawyer", [Length(max=500)], filters=[strip])


BAD_DATE = "Enter a date as YYYY-MM-DD."
PARTICIPATION_STATUSES = [("party", "Party"), ("not_party", "Not a party"),
                          ("signatory", "Signatory only (not bound)"),
                          ("withdrawn", "Withdrawn"), ("unknown", "Unknown")]
CONFIDENCE_CHOICES = [("high", "High: the depositary or treaty body seen"),
                      ("medium", "Medium: a reliable secondary source seen"),
                      ("low", "Low: not seen, from knowledge")]


class TreatyFilterForm(Form):
    """The treaties list's filters, from the query string."""

    state = StringField("State code", [Optional(), Length(max=3)], filters=[strip],
                        description="ISO 3166 alpha-3, e.g. UKR")
    instrument = ChoiceField("Instrument", [Optional()])

    def __init__(self, *args, instruments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument.choices = options(ANY + [(i.short_name, i.short_name) for i in instruments])


class ParticipationForm(FlaskForm):
    """A state's participation in one instrument, as the legal team enters it."""

    status = ChoiceField("Status", [InputRequired(REQUIRED)], choices=options(PARTICIPATION_STATUSES))
    deposit = StringField("Deposit", [Length(max=10)], filters=[strip],
                          description="The year (YYYY) or date (YYYY-MM-DD) the instrument of "
                                      "ratification, accession or succession was deposited.")
    action = StringField("Action", [Length(max=40)], filters=[strip],
                         description="ratification, accession, succession, acceptance …")
    signature = StringField("Signature", [Length(max=10)], filters=[strip],
                            description="YYYY or YYYY-MM-DD, if signed.")
    in_force_for_state = DateField("In force for the state from", [Optional()],
                                   invalid_value_message=BAD_DATE,
                                   description="By the treaty's own rule (e.g. six months after "
                                               "deposit for the Geneva Conventions).")
    withdrawal_effective = DateField("Withdrawal effective", [Optional()],
                                     invalid_value_message=BAD_DATE)
    source = TextAreaField("Source", filters=[unix_newlines], render_kw={"rows": 2},
                           description="Where this was seen: the depositary's page, with its address.")
    confidence = ChoiceField("Confidence", [InputRequired(REQUIRED)],
                             choices=options(CONFIDENCE_CHOICES))
    notes = TextAreaField("Notes", filters=[unix_newlines], render_kw={"rows": 3})
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    def data_for_service(self) -> dict:
        return {"status": self.status.data, "deposit": self.deposit.data or None,
                "action": self.action.data or "", "signature": self.signature.data or None,
                "in_force_for_state": self.in_force_for_state.data,
                "withdrawal_effective": self.withdrawal_effective.data,
                "source": (self.source.data or "").strip(), "confidence": self.confidence.data,
                "notes": (self.notes.data or "").strip()}


class IccFactForm(FlaskForm):
    """An ICC jurisdiction fact: a declaration, a referral or a withdrawal."""

    kind = ChoiceField("Kind", [InputRequired(REQUIRED)], choices=options(
        [("declaration", "Art. 12(3) declaration"), ("referral", "Security Council referral"),
         ("withdrawal", "Withdrawal (art. 127)")]))
    lodged_on = DateField("Lodged, adopted or notified on", [InputRequired(REQUIRED)],
                          invalid_value_message=BAD_DATE)
    period_from = DateField("From", [Optional()], invalid_value_message=BAD_DATE,
                            description="A declaration: the start of the period it covers; a "
                                        "referral: jurisdiction from; a withdrawal: effective on.")
    period_to = DateField("To", [Optional()], invalid_value_message=BAD_DATE,
                          description="A declaration: the end of the period it covers (may be "
                                      "in the future).")
    in_effect = BooleanField("In effect (untick for a declaration without legal effect or a "
                             "revoked withdrawal)", default=True)
    situation = StringField("Situation", [Length(max=300)], filters=[strip])
    reference = StringField("Reference", [Length(max=300)], filters=[strip],
                            description="e.g. S/RES/1593 (2005)")
    status = StringField("Status", [Length(max=40)], filters=[strip])
    source = TextAreaField("Source", filters=[unix_newlines], render_kw={"rows": 2})
    confidence = ChoiceField("Confidence", [InputRequired(REQUIRED)],
                             choices=options(CONFIDENCE_CHOICES))
    notes = TextAreaField("Notes", filters=[unix_newlines], render_kw={"rows": 3})
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    def data_for_service(self, state: str) -> dict:
        return {"kind": self.kind.data, "state": state, "lodged_on": self.lodged_on.data,
                "period_from": self.period_from.data, "period_to": self.period_to.data,
                "in_effect": bool(self.in_effect.data), "situation": self.situation.data or "",
                "reference": self.reference.data or "", "status": self.status.data or "",
                "source": (self.source.data or "").strip(), "confidence": self.confidence.data,
                "notes": (self.notes.data or "").strip()}
