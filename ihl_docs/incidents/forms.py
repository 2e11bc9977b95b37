"""Forms of the incident pages: filing and editing, the workflow step, the list's filters."""

from datetime import UTC

from flask_wtf import FlaskForm
from wtforms import DateField, Form, IntegerField, StringField, TextAreaField, ValidationError
from wtforms.fields.core import UnboundField
from wtforms.validators import InputRequired, NumberRange, Optional
from wtforms.widgets import HiddenInput

from ihl_docs.core import localtime
from ihl_docs.core.forms_support import (
    REQUIRED,
    ChoiceField,
    MultiCheckboxField,
    NumberField,
    OffsetField,
    TimeOfDayField,
    day_and_time,
    enum_options,
    moment,
    options,
    strip,
    unix_newlines,
    values_of,
)
from ihl_docs.core.models import (
    CivilianObject,
    DatePrecision,
    IncidentCreate,
    IncidentType,
    VerificationStatus,
    WorkflowStatus,
    label,
)

BAD_DATE = "Enter a date as YYYY-MM-DD."
BAD_TIME = "Enter a time as HH:MM (24-hour, local time)."
WHOLE_NUMBER = "Enter a whole number, e.g. 3."
ANY = options([("", "Any")])
# The zone choices besides the zones themselves: the country's zone (or the offset given; with
# neither, UTC), and no zone at all (the times are then UTC, or at the offset given).
FROM_COUNTRY, NO_ZONE = "", "unknown"
ZONE_OPTIONS = options([(FROM_COUNTRY, "— the country's, or the offset given (else UTC) —"),
                        (NO_ZONE, "Not known (times in UTC, or at the offset given)")]
                       + [(name, name) for name in localtime.zone_choices()])


def _count(text: str, description: str = "") -> IntegerField:
    return IntegerField(text, [Optional()], invalid_value_message=WHOLE_NUMBER,
                        description=description, render_kw={"min": 0})


class IncidentForm(FlaskForm):
    """Every fact of an incident; `parties` are the case's, for the responsible party."""

    title = StringField("Title", [InputRequired(REQUIRED)], filters=[strip],
                        description="A short factual name, e.g. “Shelling of the central market”.")
    incident_type = ChoiceField("Type of incident", [InputRequired(REQUIRED)],
                                choices=options([("", "— choose —")]) + enum_options(IncidentType))
    time_zone = ChoiceField(
        "Time zone", choices=ZONE_OPTIONS, default=FROM_COUNTRY,
        invalid_choice_message="Choose a time zone of the list (IANA names, e.g. Asia/Baku).",
        description="Where the incident happened; dates and times below are local times there. "
                    "A country with one zone gives it; one with several, the zone at the "
                    "coordinates.")
    utc_offset_minutes = OffsetField(
        "UTC offset", description="Only if the zone is not known: local time's offset, "
                                  "e.g. +04:00.")
    occurred_from = DateField("Start date", [InputRequired(REQUIRED)],
                              invalid_value_message=BAD_DATE)
    occurred_from_time = TimeOfDayField("Start time (local)", [Optional()],
                                        invalid_value_message=BAD_TIME,
                                        description="Leave empty if not known.")
    occurred_to = DateField("End date", [Optional()], invalid_value_message=BAD_DATE,
                            description="For an incident that lasted; leave empty otherwise.")
    occurred_to_time = TimeOfDayField("End time (local)", [Optional()],
                                      invalid_value_message=BAD_TIME)
    date_precision = ChoiceField("How precise the date is", choices=enum_options(DatePrecision),
                                 default=DatePrecision.day.value)
    place_name = StringField("Place", filters=[strip],
                             description="Town, village or site, e.g. “Old town market”.")
    admin_area = StringField("Administrative area", filters=[strip],
                             description="Region, province or district.")
    country = StringField("Country", filters=[strip],
                          description="ISO 3166-1 alpha-3 code, e.g. UKR; start typing the name.",
                          render_kw={"list": "countries", "autocomplete": "off", "size": 5})
    latitude = NumberField("Latitude", [Optional()], description="Decimal degrees, -90 to 90.")
    longitude = NumberField("Longitude", [Optional()],
                            description="Decimal degrees, -180 to 180.")
    location_precision_m = IntegerField(
        "Location precision (metres)", [Optional()], invalid_value_message=WHOLE_NUMBER,
        description="How far the true place may be from these coordinates.",
        render_kw={"min": 0})
    weapon_type = StringField("Weapon type", filters=[strip],
                              description="e.g. 122 mm rocket, 152 mm artillery shell.")
    munition_details = TextAreaField("Munition details", filters=[unix_newlines],
                                     render_kw={"rows": 3},
                                     description="Markings, lot numbers, submunition type.")
    responsible_party = ChoiceField("Alleged responsible party")
    narrative = TextAreaField("Narrative", filters=[unix_newlines], render_kw={"rows": 8},
                              description="What happened, as established so far, with sources.")
    killed_min = _count("Civilians killed: at least")
    killed_max = _count("Civilians killed: at most", "Leave empty if it is an exact count.")
    children_killed = _count("Of whom children killed")
    injured_min = _count("Civilians injured: at least")
    injured_max = _count("Civilians injured: at most", "Leave empty if it is an exact count.")
    children_injured = _count("Of whom children injured")
    civilian_objects = MultiCheckboxField("Civilian objects affected",
                                          choices=enum_options(CivilianObject))
    military_objective_notes = TextAreaField(
        "Military objectives nearby", filters=[unix_newlines], render_kw={"rows": 3},
        description="Any military objective at or near the place (for proportionality).")
    verification_status = ChoiceField("Verification status",
                                      choices=enum_options(VerificationStatus),
                                      default=VerificationStatus.unverified.value)

    def __init__(self, *args, parties=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.responsible_party.choices = options(
            [("", "— not known —")] + [(p.name, f"{p.name} ({label(p.kind)})") for p in parties])

    def layout(self) -> list[tuple[str, list[list]]]:
        """The fieldsets and their rows of fields, as the page lays them out."""
        return layout_of(self)

    def alone(self) -> list:
        """The fields shown full width after the fieldsets."""
        return [self[name] for name in ALONE]

    def validate_occurred_to_time(self, field):
        if field.data is not None and self.occurred_to.data is None and not self.occurred_to.errors:
            raise ValidationError("Give the end date as well, or leave the end time empty.")

    def validate_time_zone(self, field):
        """Ask for the zone of a country that has several, unless an offset is given or the
        coordinates settle it (no country: the times are UTC, the zone not known)."""
        if field.data != FROM_COUNTRY or self.utc_offset_minutes.data is not None:
            return
        country = (self.country.data or "").upper()
        zones = localtime.country_zones(country)
        if len(zones) > 1 and not self._zone_from_country():
            raise ValidationError(f"{country} has several time zones ({', '.join(zones)}): "
                                  f"choose the one where the incident happened, or “Not known”.")

    def local_zone(self) -> tuple[str, int | None]:
        """The zone and offset the dates and times are entered in ("" and None: UTC)."""
        offset = self.utc_offset_minutes.data if not self.utc_offset_minutes.errors else None
        choice = self.time_zone.data or FROM_COUNTRY
        if choice == NO_ZONE or self.time_zone.errors:
            return "", offset
        if choice == FROM_COUNTRY:
            return ("" if offset is not None else self._zone_from_country()), offset
        return choice, offset

    def _zone_from_country(self) -> str:
        """The country's only zone, or of its several the one at the coordinates, or ""."""
        position = [None if f.errors else f.data for f in (self.latitude, self.longitude)]
        return localtime.default_zone(self.country.data, *position)

    def incident_data(self) -> dict:
        """The fields as IncidentCreate takes them; dates and times, entered in local time,
        become aware datetimes in their zone (the service keeps them in UTC)."""
        data = values_of(self, PLAIN_FIELDS)
        data["time_zone"], data["utc_offset_minutes"] = self.local_zone()
        zone = localtime.incident_zone(data["time_zone"], data["utc_offset_minutes"]) or UTC
        data["occurred_from"] = moment(self.occurred_from.data, self.occurred_from_time.data,
                                       zone=zone)
        data["occurred_to"] = moment(self.occurred_to.data, self.occurred_to_time.data, end=True,
                                     zone=zone)
        data["country"] = self.country.data or None
        data["responsible_party"] = self.responsible_party.data or None
        return data

    @staticmethod
    def initial(incident, responsible_party: str | None) -> dict:
        """What the form shows for a stored incident: its dates and times in its local time."""
        data = {name: getattr(incident, name) for name in PLAIN_FIELDS}
        zone = localtime.incident_zone(incident.time_zone, incident.utc_offset_minutes) or UTC
        data["occurred_from"], data["occurred_from_time"] = day_and_time(incident.occurred_from,
                                                                         zone=zone)
        data["occurred_to"], data["occurred_to_time"] = day_and_time(incident.occurred_to,
                                                                     end=True, zone=zone)
        data.update(time_zone=incident.time_zone or NO_ZONE,
                    utc_offset_minutes=incident.utc_offset_minutes, country=incident.country or "",
                    responsible_party=responsible_party or "", version=incident.version)
        return data


# Fields IncidentCreate takes from the form as it holds them; the rest are put together from
# several fields (a date and a time) or read differently (no party: None).
COMPOSED = {"occurred_from", "occurred_to", "time_zone", "utc_offset_minutes", "country",
            "responsible_party"}
PLAIN_FIELDS = [name for name in IncidentCreate.model_fields
                if name not in COMPOSED and isinstance(getattr(IncidentForm, name, None),
                                                       UnboundField)]

# How the form is laid out: fieldsets of rows of fields side by side. A field of the form that
# no row names is shown under "Other facts", so a new field needs no template change.
LAYOUT = [
    ("What happened", [["title"], ["incident_type"], ["weapon_type"], ["munition_details"]]),
    ("When", [["time_zone", "utc_offset_minutes"], ["occurred_from", "occurred_from_time"],
              ["occurred_to", "occurred_to_time"], ["date_precision"]]),
    ("Where", [["place_name"], ["admin_area", "country"],
               ["latitude", "longitude", "location_precision_m"]]),
    ("Civilian harm", [["killed_min", "killed_max", "children_killed"],
                       ["injured_min", "injured_max", "children_injured"],
                       ["civilian_objects"]]),
    ("Responsibility and assessment", [["responsible_party"], ["military_objective_notes"],
                                       ["verification_status"]]),
]
ALONE = ["narrative"]  # after the fieldsets, full width
NOT_FACTS = {"csrf_token", "version"}


def layout_of(form) -> list[tuple[str, list[list]]]:
    """The form's fieldsets with their rows of bound fields, the unplaced ones last."""
    placed = {name for _, rows in LAYOUT for row in rows for name in row} | set(ALONE)
    others = [[field] for field in form if field.name not in placed | NOT_FACTS]
    fieldsets = [(legend, [[form[name] for name in row] for row in rows])
                 for legend, rows in LAYOUT]
    return fieldsets + ([("Other facts", others)] if others else [])


class IncidentEditForm(IncidentForm):
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class StatusForm(FlaskForm):
    """One workflow step; the version is the one the page showed."""

    to = StringField(validators=[InputRequired()])
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    note = TextAreaField("Approval note", filters=[strip], render_kw={"rows": 3},
                         description="Needed to approve while elements lack supporting evidence "
                                     "or the facts are not verified: say why.")


class IncidentFilterForm(Form):
    """The list's filters, read from the query string; a wrong value is named and ignored."""

    q = StringField("Text", filters=[strip],
                    description="Every word, in the title, place, narrative, weapon or "
                                "reference; the last word may be the start of one.")
    incident_type = ChoiceField("Type", [Optional()],
                                choices=ANY + enum_options(IncidentType))
    verification_status = ChoiceField("Verification", [Optional()],
                                      choices=ANY + enum_options(VerificationStatus))
    workflow_status = ChoiceField("Workflow", [Optional()],
                                  choices=ANY + enum_options(WorkflowStatus))
    # The days of the filter are UTC days: an incident at 00:30 on 4 October in Baku (20:30
    # UTC on the 3rd) is found from 3 October. Its local date is not kept as a column.
    date_from = DateField("From", [Optional()], invalid_value_message=BAD_DATE,
                          description="A UTC date.")
    date_to = DateField("To", [Optional()], invalid_value_message=BAD_DATE,
                        description="A UTC date.")
    page = IntegerField("Page", [Optional(), NumberRange(min=1)])

    def valid(self, name: str):
        """The field's value, or None if it was refused."""
        return None if self[name].errors else self[name].data or None


# How each audited field is named on the pages (the history, conflicts).
FIELD_LABELS = {name: unbound.args[0] for name, unbound in vars(IncidentForm).items()
                if isinstance(unbound, UnboundField) and unbound.args}
FIELD_LABELS["workflow_status"] = "Workflow status"
FIELD_LABELS["approval_note"] = "Approval note"
FIELD_LABELS.update(occurred_from="Start", occurred_to="End",
                    utc_offset_minutes="UTC offset (minutes)")
