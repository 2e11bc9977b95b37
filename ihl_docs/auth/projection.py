"""Accounts and API tokens as the audit log records them (held against the log by
verification): a role raised, an account re-activated, a password hash or a token slipped into
the database without the application all differ from the log."""

from ihl_docs.core.audit.replay import Projection, table_rows
from ihl_docs.core.models import ApiToken, User


def user_rows(session, _case):
    return table_rows(session, User, lambda v: v["email"])


def token_rows(session, _case):
    return table_rows(session, ApiToken, lambda v: str(v["id"]))


USER = Projection("user", "account", user_rows, in_cases=False, tables=("user",))
TOKEN = Projection("api_token", "API token", token_rows, in_cases=False, tables=("api_token",),
                   label_of=lambda key: f"#{key}")
