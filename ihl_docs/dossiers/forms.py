"""Forms of the dossier pages: requesting a dossier, and the list's page number."""

from flask_wtf import FlaskForm
from wtforms import Form, IntegerField, StringField
from wtforms.validators import Length, NumberRange, Optional

from ihl_docs.core.forms_support import ChoiceField, enum_options, strip
from ihl_docs.core.models import DossierAudience
from ihl_docs.dossiers.audiences import AUDIENCES

AUDIENCE_HELP = " ".join(policy.note for policy in AUDIENCES.values())


class DossierForm(FlaskForm):
    audience = ChoiceField("Audience", choices=enum_options(DossierAudience),
                           default=DossierAudience.internal.value, description=AUDIENCE_HELP)
    prepared_by = StringField("Prepared by", [Length(max=200)], filters=[strip],
                              description="Printed on the cover. Left empty, it is your name.")


class DossierPageForm(Form):
    """The list's page number, from the query string; a wrong one shows the first page."""

    page = IntegerField("Page", [Optional(), NumberRange(min=1)])

    def valid_page(self) -> int:
        return 1 if self.page.errors else self.page.data or 1
