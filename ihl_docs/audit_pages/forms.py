"""The audit log's filters, read from the query string."""

from wtforms import DateField, Form, IntegerField, StringField, ValidationError
from wtforms.validators import Length, NumberRange, Optional, Regexp

from ihl_docs.core.forms_support import ChoiceField, options, strip

BAD_DATE = "Enter a date as YYYY-MM-DD."
# No control characters: a filter value is compared in SQL, and PostgreSQL refuses NUL in text.
PLAIN_TEXT = Regexp(r"^[^\x00-\x1f\x7f]*$", message="Remove the control characters.")
NAME = Regexp(r"^[a-z][a-z0-9_]*$", message="Use a name from the list, e.g. incident.")


class AuditFilterForm(Form):
    """Which entries to show; a wrong value is named next to its field and ignored."""

    case_ref = StringField("Case", [Optional(), Length(max=40), PLAIN_TEXT], filters=[strip],
                           description="A case reference, e.g. NK-2020-001.")
    actor = StringField("Actor", [Optional(), Length(max=300), PLAIN_TEXT], filters=[strip],
                        description="Who acted: an e-mail address, or a command's name.")
    entity = StringField("Record type", [Optional(), Length(max=40), NAME], filters=[strip],
                         render_kw={"list": "audit-entities"})
    action = StringField("Action", [Optional(), Length(max=40),
                                    Regexp(r"^[a-z][a-z0-9_]*$",
                                           message="Use an action from the list, e.g. update.")],
                         filters=[strip], render_kw={"list": "audit-actions"})
    date_from = DateField("From", [Optional()], invalid_value_message=BAD_DATE)
    date_to = DateField("To", [Optional()], invalid_value_message=BAD_DATE,
                        description="Both days included (UTC).")
    order = ChoiceField("Order", [Optional()],
                        choices=options([("newest", "Newest first"), ("seq", "Oldest first")]))
    page = IntegerField("Page", [Optional(), NumberRange(min=1)])

    def validate_date_to(self, field):
        start = self.date_from.data
        if field.data and start and not self.date_from.errors and field.data < start:
            raise ValidationError("The end comes before the start.")

    def valid(self, name: str):
        """The field's value, or None if it was refused."""
        return None if self[name].errors else self[name].data or None
