"""Forms of the case pages: a case with its parties, and adding a member."""

from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length
from wtforms.widgets import HiddenInput

from ihl_docs.core.forms_support import (
    REQUIRED,
    ChoiceField,
    enum_options,
    options,
    strip,
    unix_newlines,
    values_of,
)
from ihl_docs.core.models import Attribution, ConflictClassification, PartyKind

PARTY_ROWS = 6


class PartyRow(Form):
    """One party to the conflict; a row left empty is ignored."""

    name = StringField("Name", filters=[strip])
    kind = ChoiceField("Kind", choices=options([(PartyKind.state.value, "State"),
                                                (PartyKind.non_state.value, "Non-state armed group")]),
                       default=PartyKind.state.value)
    state_code = StringField("State code", filters=[strip],
                             render_kw={"list": "countries", "autocomplete": "off", "size": 5})

    def is_blank(self) -> bool:
        return not (self.name.data or self.state_code.data)


class CaseForm(FlaskForm):
    """Open a case."""

    ref = StringField("Reference", [InputRequired(REQUIRED)], filters=[strip],
                      description="Capital letters, digits and hyphens, e.g. NK-2020-001. "
                                  "It cannot be changed later.")
    title = StringField("Title", [InputRequired(REQUIRED)], filters=[strip])
    summary = TextAreaField("Summary", filters=[unix_newlines], render_kw={"rows": 5},
                            description="What the case is about, in a few sentences.")
    conflict_classification = ChoiceField(
        "Classification of the conflict",
        choices=enum_options(ConflictClassification),
        default=ConflictClassification.undetermined.value,
        description="Decides which body of law applies: international or non-international "
                    "armed conflict.",
    )
    parties = FieldList(FormField(PartyRow), "Parties to the conflict",
                        min_entries=PARTY_ROWS, max_entries=50)

    def case_data(self) -> dict:
        """The fields as CaseCreate/CaseUpdate take them; empty party rows left out."""
        data = values_of(self, ["title", "summary", "conflict_classification"])
        if "ref" in self:
            data["ref"] = self.ref.data
        data["parties"] = [
            {"name": row.form.name.data or "", "kind": row.form.kind.data,
             "state_code": row.form.state_code.data or None}
            for row in self.parties if not row.form.is_blank()
        ]
        return data


class CaseEditForm(CaseForm):
    """Change a case; `version` is the one the form was opened on."""

    ref = None
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])

    @classmethod
    def initial(cls, case, parties) -> dict:
        rows = [{"name": p.name, "kind": p.kind, "state_code": p.state_code or ""}
                for p in parties]
        return {"title": case.title, "summary": case.summary,
                "conflict_classification": case.conflict_classification,
                "parties": rows, "version": case.version}


class MemberForm(FlaskForm):
    email = EmailField("E-mail of the person to add", [InputRequired(REQUIRED), Length(max=254)],
                       description="They join with the rights of their role.")


ATTRIBUTION_CHOICES = options([
    ("", "None: the party's conduct is its own"),
    (Attribution.acts_for.value, "Acts for the state (an organ of it, or on its instructions)"),
    (Attribution.overall_control.value, "Under the state's overall control"),
    (Attribution.effective_control.value, "Under the state's effective control"),
])


class AttributionForm(FlaskForm):
    """Record that a non-state party is alleged to act for, or under the control of, a state."""

    party = ChoiceField("Party", [InputRequired(REQUIRED)])
    attribution = ChoiceField("How its conduct is alleged to be the state's",
                              choices=ATTRIBUTION_CHOICES, default="")
    attributed_state = StringField(
        "State", filters=[strip], render_kw={"list": "countries", "autocomplete": "off",
                                             "size": 5},
        description="The ISO 3166-1 alpha-3 code (e.g. RUS), or the name of a state party of "
                    "this case. Treaty checks then follow this state, and say so.")
    attribution_note = TextAreaField("Note", filters=[unix_newlines], render_kw={"rows": 4},
                                     description="What the allegation rests on.")
    attribution_evidence = SelectMultipleField("Evidence", choices=[], validate_choice=False,
                                               description="Items of this case that support it.")
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
