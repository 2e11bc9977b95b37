"""Column types shared by the models and the migrations."""

import json
from datetime import UTC, datetime

import sqlalchemy as sa


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC time is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONList(sa.types.TypeDecorator):
    """A list of strings kept as canonical JSON text (portable across SQLite and PostgreSQL)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return json.dumps(list(value or []), ensure_ascii=False)

    def process_result_value(self, value, dialect):
        return json.loads(value) if value else []


def utcnow() -> datetime:
    return datetime.now(UTC)
