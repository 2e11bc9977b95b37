"""Forms of the verification pages: starting a run, acknowledging a finding, the list's page."""

from flask_wtf import FlaskForm
from wtforms import Form, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ihl_docs.core.forms_support import ChoiceField, options, strip, unix_newlines
from ihl_docs.verification.runs import NOTE_MAX

EVERYTHING = ""


class VerificationForm(FlaskForm):
    """What to verify: everything, or one case (its files, dossiers and custody records; the
    audit chain is always checked whole)."""

    scope = ChoiceField("What to verify", [Optional()], choices=[],
                        description="One case: its evidence files, dossiers and custody events, "
                                    "and the whole audit log (a case's entries are links of the "
                                    "one chain).")

    def with_cases(self, refs: list[str]) -> "VerificationForm":
        self.scope.choices = options(
            [(EVERYTHING, "Everything: every case and the whole audit log")]
            + [(ref, f"Case {ref}") for ref in refs])
        return self


class AcknowledgeForm(FlaskForm):
    note = TextAreaField("Note", [InputRequired(message="Write a note: what was found out, what "
                                                        "was done."),
                                  Length(max=NOTE_MAX)], filters=[strip, unix_newlines],
                         description="What you found out about this problem and what was done. "
                                     "The note is kept with the finding and in the audit log.")


class RunPageForm(Form):
    """The list's page number, from the query string; a wrong one shows the first page."""

    page = IntegerField("Page", [Optional(), NumberRange(min=1)])

    def valid_page(self) -> int:
        return 1 if self.page.errors else self.page.data or 1
