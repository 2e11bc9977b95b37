"""Forms of the evidence pages: adding an item, linking it, custody events, the list's filters."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, Form, IntegerField, StringField, TextAreaField, ValidationError
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ihl_docs.core.dbtypes import utcnow
from ihl_docs.core.forms_support import (
    REQUIRED,
    ChoiceField,
    TimeOfDayField,
    enum_options,
    moment,
    options,
    strip,
    unix_newlines,
    values_of,
)
from ihl_docs.core.models import CustodyAction, EvidenceKind, Sensitivity
from ihl_docs.evidence.services import RECORDABLE_ACTIONS

BAD_DATE = "Enter a date as YYYY-MM-DD."
IN_FUTURE = "This cannot be in the future."
NO_FILE = "Choose a file to upload."
EMPTY_FILE = "The file is empty."
PHYSICAL_WITH_FILE = "A physical item has no file; record it without one, or choose another kind."
ANY = options([("", "Any")])
RELEVANCE_LENGTH = Length(max=20_000, message="Use at most 20,000 characters.")

# The Admiralty (NATO) grading, as the evidence pages show it.
RELIABILITY = [("A", "A — completely reliable"), ("B", "B — usually reliable"),
               ("C", "C — fairly reliable"), ("D", "D — not usually reliable"),
               ("E", "E — unreliable"), ("F", "F — reliability cannot be judged")]
CREDIBILITY = [("1", "1 — confirmed by other sources"), ("2", "2 — probably true"),
               ("3", "3 — possibly true"), ("4", "4 — doubtful"), ("5", "5 — improbable"),
               ("6", "6 — truth cannot be judged")]
ACTION_WORDS = {CustodyAction.transferred: "Transferred (from one custodian to another)",
                CustodyAction.received: "Received", CustodyAction.sealed: "Sealed",
                CustodyAction.stored: "Stored", CustodyAction.copied: "Copied",
                CustodyAction.analysed: "Analysed", CustodyAction.released: "Released"}
# Fields that go to EvidenceCreate as the form holds them.
PLAIN_FIELDS = ["kind", "title", "description", "source_url", "source_platform", "source_author",
                "acquired_by", "acquisition_method", "sensitivity"]


def _with_date(form, field):
    """An inline check for `<date>_time`: a time of day means nothing without its date."""
    day = form[field.name.removesuffix("_time")]
    if field.data is not None and day.data is None and not day.errors:
        raise ValidationError("Give the date as well, or leave the time empty.")


def _not_in_future(form, field):
    """An inline check for a date, taken with its `<date>_time`: it must not be later than now."""
    at = form[f"{field.name}_time"].data
    if field.data is not None and moment(field.data, at) > utcnow():
        raise ValidationError(IN_FUTURE)


class EvidenceForm(FlaskForm):
    """Every field of an item of evidence, its file, and (optionally) the incident it shows."""

    file = FileField("File", description="The original, exactly as obtained; it is kept "
                     "unchanged and its SHA-256 is recorded. Leave empty for a physical item.")
    kind = ChoiceField("Kind", [InputRequired(REQUIRED)],
                       choices=options([("", "— choose —")]) + enum_options(EvidenceKind),
                       description="A physical item (e.g. a munition remnant) has no file but "
                                   "the same record and chain of custody.")
    title = StringField("Title", [InputRequired(REQUIRED)], filters=[strip],
                        description="A short factual name, e.g. “Photo of the crater, east side”.")
    description = TextAreaField("Description", filters=[unix_newlines], render_kw={"rows": 4},
                                description="What the item shows or contains.")
    source_url = StringField("Source URL", filters=[strip],
                             description="Where it was published, for an open-source item.")
    source_platform = StringField("Platform", filters=[strip],
                                  description="e.g. Telegram, X, YouTube, a news site.")
    source_author = StringField("Author or account", filters=[strip],
                                description="Who published or made it, as the source names them.")
    published_at = DateField("Publication date", [Optional(), _not_in_future],
                             invalid_value_message=BAD_DATE)
    published_at_time = TimeOfDayField("Publication time (UTC)", [Optional(), _with_date],
                                       description="Leave empty if not known.")
    acquired_at = DateField("Date acquired", [Optional(), _not_in_future],
                            invalid_value_message=BAD_DATE,
                            description="When it was collected or obtained; this starts the "
                                        "chain of custody.")
    acquired_at_time = TimeOfDayField("Time acquired (UTC)", [Optional(), _with_date])
    acquired_by = StringField("Acquired by", filters=[strip],
                              description="The person or team who collected or obtained it.")
    acquisition_method = TextAreaField(
        "How it was acquired", filters=[unix_newlines], render_kw={"rows": 3},
        description="e.g. handed over by a witness on a USB stick; saved from the post with "
                    "its page archived.")
    sensitivity = ChoiceField(
        "Sensitivity", choices=enum_options(Sensitivity), default=Sensitivity.restricted.value,
        description="Confidential: it may identify a witness. Decides what dossiers and "
                    "exports include.")
    reliability = ChoiceField("Source reliability", [Optional()],
                              choices=options([("", "— not graded —")] + RELIABILITY))
    credibility = ChoiceField("Information credibility", [Optional()],
                              choices=options([("", "— not graded —")] + CREDIBILITY))
    incident = ChoiceField("Link to incident", [Optional()],
                           description="The incident this item documents, if any.")
    relevance = TextAreaField("Relevance to that incident", [RELEVANCE_LENGTH],
                              filters=[unix_newlines],
                              render_kw={"rows": 2},
                              description="Why it matters, e.g. “shows the impact crater”.")

    def __init__(self, *args, incidents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.incident.choices = options([("", "— none —")] + incident_choices(incidents))

    def validate_file(self, field):
        physical = self.kind.data == EvidenceKind.physical_item
        if physical and field.data is not None:
            raise ValidationError(PHYSICAL_WITH_FILE)
        if not physical and self.kind.data and field.data is None:
            raise ValidationError(NO_FILE)
        if field.data is not None and getattr(field.data.stream, "size", None) == 0:
            raise ValidationError(EMPTY_FILE)

    def validate_relevance(self, field):
        if field.data and not self.incident.data:
            raise ValidationError("Choose the incident this note is about, or leave it empty.")

    def evidence_data(self) -> dict:
        """The fields as EvidenceCreate takes them; dates and times become aware UTC datetimes."""
        data = values_of(self, PLAIN_FIELDS)
        data["published_at"] = moment(self.published_at.data, self.published_at_time.data)
        data["acquired_at"] = moment(self.acquired_at.data, self.acquired_at_time.data)
        data["reliability"] = self.reliability.data or None
        data["credibility"] = self.credibility.data or None
        return data


def incident_choices(incidents) -> list[tuple[str, str]]:
    """Incidents as the options of a select: value the ref, shown with the title."""
    return [(i.ref, f"{i.ref} — {i.title}") for i in incidents]


class LinkForm(FlaskForm):
    """Link this item to an incident of its case."""

    incident = ChoiceField("Incident", [InputRequired("Choose the incident.")])
    relevance = TextAreaField("Relevance", [RELEVANCE_LENGTH], filters=[unix_newlines],
                              render_kw={"rows": 2},
                              description="Why this item matters for the incident.")

    def __init__(self, *args, incidents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.incident.choices = options([("", "— choose —")] + incident_choices(incidents))


class IncidentLinkForm(FlaskForm):
    """From an incident's page: link an item of the case that is not yet linked to it."""

    evidence_ref = ChoiceField("Item of evidence", [InputRequired("Choose an item.")])
    relevance = TextAreaField("Relevance", [RELEVANCE_LENGTH], filters=[unix_newlines],
                              render_kw={"rows": 2},
                              description="Why this item matters for the incident.")

    def __init__(self, *args, evidence=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.evidence_ref.choices = options(
            [("", "— choose —")] + [(e.ref, f"{e.ref} — {e.title}") for e in evidence])


class CustodyForm(FlaskForm):
    """One step in the chain of custody; the date and time offered are now."""

    action = ChoiceField("What happened", [InputRequired(REQUIRED)],
                         choices=options([(a.value, ACTION_WORDS[a]) for a in RECORDABLE_ACTIONS]),
                         default=CustodyAction.transferred.value)
    occurred_at = DateField("Date", [InputRequired(REQUIRED)], invalid_value_message=BAD_DATE,
                            default=lambda: utcnow().date())
    occurred_at_time = TimeOfDayField("Time (UTC)", [InputRequired(REQUIRED)],
                                      default=lambda: utcnow().time().replace(microsecond=0))
    custodian_from = StringField("From", filters=[strip],
                                 description="Who handed the item over (for a transfer).")
    custodian_to = StringField("To", filters=[strip],
                               description="Who holds the item afterwards.")
    place = StringField("Place", filters=[strip], description="Where it happened.")
    purpose = StringField("Purpose", filters=[strip],
                          description="e.g. forensic analysis, secure storage.")
    notes = TextAreaField("Notes", filters=[unix_newlines], render_kw={"rows": 2},
                          description="Seal numbers, condition of the item, witnesses present.")

    def custody_data(self) -> dict:
        """The fields as CustodyEventCreate takes them."""
        data = values_of(self, ["action", "custodian_from", "custodian_to", "place", "purpose",
                                "notes"])
        data["occurred_at"] = moment(self.occurred_at.data, self.occurred_at_time.data)
        return data


class EvidenceFilterForm(Form):
    """The list's filters, read from the query string; a wrong value is named and ignored."""

    kind = ChoiceField("Kind", [Optional()], choices=ANY + enum_options(EvidenceKind))
    sensitivity = ChoiceField("Sensitivity", [Optional()], choices=ANY + enum_options(Sensitivity))
    incident = ChoiceField("Linked to incident", [Optional()])
    page = IntegerField("Page", [Optional(), NumberRange(min=1)])

    def __init__(self, *args, incidents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.incident.choices = ANY + options(incident_choices(incidents))

    def valid(self, name: str):
        """The field's value, or None if it was refused."""
        return None if self[name].errors else self[name].data or None
