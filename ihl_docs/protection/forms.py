"""Forms of the protected-terms page: adding an entry, withdrawing one, consenting to be named."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ihl_docs.core.forms_support import ChoiceField, options, strip
from ihl_docs.protection.matching import MAX_TERM
from ihl_docs.protection.services import KINDS


class TermForm(FlaskForm):
    kind = ChoiceField("Kind", choices=options(list(KINDS.items())), default="name")
    match = ChoiceField(
        "Matching", default="text",
        choices=options([("text", "Text: in any case, with or without accents and spacing"),
                         ("pattern", "Pattern: a regular expression")]),
        description="Phone numbers and e-mail addresses are protected without being listed; "
                    "list the ones written in unusual ways.")
    term = StringField("Term", [DataRequired(message="Give the term to protect."),
                                Length(max=MAX_TERM)], filters=[strip],
                       description="A name, number, address, place or account handle, as "
                                   "written in the records.")
    note = TextAreaField("Note", [Length(max=2000)], filters=[strip],
                         description="Why it is protected (for the team; never printed).")


class WithdrawForm(FlaskForm):
    number = IntegerField("Entry", [DataRequired()])
    version = IntegerField("Version", [DataRequired()])


class NamedForm(FlaskForm):
    named = HiddenField("Named", [DataRequired()])
