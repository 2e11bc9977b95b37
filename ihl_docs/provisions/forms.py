"""Forms of the provision pages: the catalogue's filters and a provision's correction."""

import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, IntegerField, StringField, TextAreaField, ValidationError
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
                    "Findings already recorded stay with their element number.")
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

    def correction_data(self) -> dict:
        """The fields as ProvisionCorrection takes them."""
        elements = (self.elements.data or "").strip()
        return {
            "article": self.article.data or "", "title": self.title.data or "",
            "summary": (self.summary.data or "").strip(), "applies_to": self.applies_to.data,
            "category": self.category.data or "", "source_url": self.source_url.data or "",
            "verification": self.verification.data or "", "notes": (self.notes.data or "").strip(),
            "related": [k for k in re.split(r"[\s,;]+", self.related.data or "") if k],
            "elements": elements.split("\n") if elements else [],
        }

    @staticmethod
    def initial(read: dict) -> dict:
        """What the form shows for a stored provision (a provision_read)."""
        data = {name: read[name] for name in ("article", "title", "summary", "applies_to",
                                              "category", "source_url", "verification",
                                              "notes", "version")}
        data["related"] = " ".join(read["related"])
        data["elements"] = "\n".join(e["text"] for e in read["elements"])
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
