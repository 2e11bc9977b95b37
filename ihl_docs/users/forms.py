"""Forms of user administration."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ihl_docs.core.forms_support import REQUIRED, ChoiceField, enum_options
from ihl_docs.core.models import Role

ROLE_HELP = ("Investigators open cases and file incidents; lawyers review them; auditors read "
             "everything and change nothing; administrators manage users.")


class UserForm(FlaskForm):
    email = EmailField("E-mail", [InputRequired(REQUIRED), Length(max=254)])
    name = StringField("Name", [Length(max=200)])
    role = ChoiceField("Role", choices=enum_options(Role),
                       default=Role.investigator.value, description=ROLE_HELP)
    password = PasswordField(
        "Initial password", [Optional(), Length(max=1000)],
        description="At least 12 characters. Leave empty to generate one, shown once.",
        render_kw={"autocomplete": "new-password"},
    )
    must_change_password = BooleanField("They must choose their own password at first log-in",
                                        default=True)
