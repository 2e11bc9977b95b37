"""Forms of the dossier pages: requesting a dossier, and the list's page number."""

import re

from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, HiddenField, IntegerField, StringField
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
    incidents = StringField(
        "Incidents", [Length(max=20_000)], filters=[strip],
        description="The refs of the incidents the dossier covers, separated by commas or "
                    "spaces. Left empty: every incident for the internal audience, the approved "
                    "ones for court and public.")

    full_images = StringField(
        "Images at full resolution", [Length(max=20_000)], filters=[strip],
        description="The refs of image items to annex at full resolution (Annex D), separated "
                    "by commas or spaces. Left empty: thumbnails only.")
    # Court and public editions: the disclosure check shown, and the lawyer's confirmation of it.
    disclosure_check = HiddenField("Disclosure check")
    confirm_disclosure = BooleanField(
        "I have read the disclosure check: this edition may be handed over as it will print.")

    def chosen_images(self) -> list[str] | None:
        refs = [ref for ref in re.split(r"[\s,;]+", self.full_images.data or "") if ref]
        return refs or None

    def chosen_incidents(self) -> list[str] | None:
        """The refs typed, or None for the audience's default scope."""
        refs = [ref for ref in re.split(r"[\s,;]+", self.incidents.data or "") if ref]
        return refs or None


class DossierPageForm(Form):
    """The list's page number, from the query string; a wrong one shows the first page."""

    page = IntegerField("Page", [Optional(), NumberRange(min=1)])

    def valid_page(self) -> int:
        return 1 if self.page.errors else self.page.data or 1
