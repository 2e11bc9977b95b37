"""Forms of the qualification page: adding a provision, the assessment, one element's finding."""

from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, SelectChoice, TextAreaField
from wtforms.utils import unset_value
from wtforms.validators import InputRequired
from wtforms.widgets import HiddenInput

from ihl_docs.core.forms_support import ChoiceField, enum_options, options, unix_newlines
from ihl_docs.core.models import Assessment, ElementStatus, Stance, label

STANCE_CHOICES = options([("", "Not cited")] + [(s.value, label(s.value)) for s in Stance])
# How a stance reads in the matrix and the lists: a symbol for the eye, a word for everyone.
STANCE_SYMBOLS = {Stance.supports: "✓", Stance.contradicts: "✗", Stance.context: "○"}


class QualificationForm(FlaskForm):
    """A provision the incident may breach, with the assessment and a first analysis."""

    provision_key = ChoiceField("Provision", [InputRequired("Choose a provision.")],
                                validate_choice=False,  # the service names an unknown key
                                description="Grouped by instrument. The provision's page "
                                            "shows its elements and where it applies.")
    assessment = ChoiceField("Assessment", choices=enum_options(Assessment),
                             default=Assessment.alleged.value)
    analysis = TextAreaField("Analysis", filters=[unix_newlines], render_kw={"rows": 4},
                             description="Why this provision may apply; you can add to it later.")

    def offer(self, provisions) -> "QualificationForm":
        """The provisions to choose from: (Provision, instrument short name) pairs."""
        self.provision_key.choices = options([("", "— choose a provision —")]) + list(
            _grouped(provisions))
        return self


def _grouped(provisions):
    """One option per provision, grouped by instrument (a select's optgroups)."""
    for provision, instrument in sorted(provisions, key=lambda p: (p[1], p[0].id)):
        yield SelectChoice(provision.key,
                           f"{provision.article} — {provision.title} ({provision.key})",
                           optgroup=instrument)


class AssessmentForm(FlaskForm):
    """The assessment and analysis of one qualification, with the version the page showed."""

    assessment = ChoiceField("Assessment", choices=enum_options(Assessment))
    analysis = TextAreaField("Analysis", filters=[unix_newlines], render_kw={"rows": 5})
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class CitationsField(Field):
    """Evidence ref -> stance, from one select per linked item named `<field name>-<ref>`.

    Every such name in the submission is read, not only those the page offered, so that an
    item not linked to the incident is named by the service rather than silently dropped.
    """

    def process(self, formdata, data=unset_value, extra_filters=None):
        self.process_errors, self.raw_data = [], None
        self.data = {} if data is unset_value or data is None else dict(data)
        if formdata is not None:
            prefix = f"{self.name}-"
            self.data = {key[len(prefix):]: formdata.get(key) for key in formdata
                         if key.startswith(prefix) and formdata.get(key)}

    def citations(self) -> list[tuple[str, str]]:
        return sorted(self.data.items())


class FindingForm(FlaskForm):
    """One element's finding: status, note and the evidence cited, stance by stance."""

    status = ChoiceField("Finding", choices=enum_options(ElementStatus))
    note = TextAreaField("Note", filters=[unix_newlines], render_kw={"rows": 3},
                         description="How the evidence bears on this element.")
    evidence = CitationsField("Evidence cited")
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
