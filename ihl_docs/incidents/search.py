"""Word search over incidents: FTS5 on SQLite, a tsvector with a GIN index on PostgreSQL.

The text `q` is split at white space into words; an incident matches when every word is found
(in title, place, admin area, narrative, weapon, munition details or reference), the last word
also as the start of a longer word ("mark" finds "market"). A word made of several parts, such as
a reference NK-2020-001-I003 or "air_strike", must match as those parts in that order. Case and
diacritics on Latin letters are ignored ("cafe" finds "Café"); there is no stemming, as records
are in many languages. Whatever the user types is turned into a query of plain words: no
operators, no syntax errors.
"""

import unicodedata

import sqlalchemy as sa

from ihl_docs.core.models import Incident
from ihl_docs.core.schema import FTS_TABLE, PG_COLUMN

MAX_WORDS = 16
MIN_PREFIX = 2  # a shorter last word must match whole: one letter would match most incidents
FEW_CASES = 5
FEW_MATCHES = 10_000

# The search shadow objects, which the models do not describe (see migrations/env.py).


def _folded(char: str) -> str:
    """A Latin letter without its diacritics ("é" -> "e"), lower-case; others unchanged."""
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if len(base) == 1 and base.isascii() and base.isalpha() and base != char:
        return base.lower()
    return char


LATIN = [*range(0xC0, 0x250), *range(0x1E00, 0x1F00)]
LATIN_FOLD = str.maketrans({c: f for c in map(chr, LATIN) if (f := _folded(c)) != c})


def words(q: str | None) -> list[str]:
    """The words of `q` that hold at least one letter or digit, control characters removed."""
    text = "".join(c if c.isprintable() else " " for c in q or "")
    return [w for w in text.split() if any(_is_word_char(c) for c in w)][:MAX_WORDS]


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LNM"


def fts5_query(found: list[str]) -> str:
    """FTS5 MATCH text: each word a quoted string (the tokenizer splits it into a phrase)."""
    phrases = ['"' + w.replace('"', '""') + '"' for w in found]
    if phrases and _prefix_ok(found[-1]):
        phrases[-1] += "*"
    return " ".join(phrases)


def tsquery_text(found: list[str]) -> str:
    """to_tsquery text: each word a phrase of quoted lexemes (a:*, a <-> b), all joined by &."""
    phrases = []
    for word in found:
        parts = _parts(word.lower().translate(LATIN_FOLD))
        if parts:
            phrases.append(" <-> ".join(f"'{p}'" for p in parts))
    if phrases and _prefix_ok(found[-1]):
        phrases[-1] += ":*"
    return " & ".join(f"({p})" for p in phrases)


def _parts(word: str) -> list[str]:
    """A word split at anything not a letter, digit or mark, as PostgreSQL's parser splits the
    column's text (where migration 0007 turns "-./@_:+=?&#~<>" into spaces first)."""
    cleaned = "".join(c if _is_word_char(c) else " " for c in word)
    return cleaned.split()


def _prefix_ok(word: str) -> bool:
    parts = _parts(word)
    return bool(parts) and len(parts[-1]) >= MIN_PREFIX


def matching(session, q: str | None):
    """A WHERE clause for incidents matching `q`, or None when `q` holds no word."""
    found = words(q)
    if not found:
        return None
    if session.get_bind().dialect.name == "postgresql":
        return sa.literal_column(f"incident.{PG_COLUMN}").op("@@")(
            sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"),
                               sa.bindparam("tsquery", tsquery_text(found), type_=sa.Text)))
    fts = (sa.select(sa.literal_column("rowid")).select_from(sa.table(FTS_TABLE))
           .where(sa.literal_column(FTS_TABLE).op("MATCH")(
               sa.bindparam("fts_query", fts5_query(found), type_=sa.Text))))
    many = session.execute(sa.select(sa.func.count()).select_from(
        fts.limit(FEW_MATCHES + 1).subquery())).scalar_one() > FEW_MATCHES
    # Few matches: SQLite looks each one up. Many: with "id + 0" it walks a list index instead
    # (in the list's order, each entry holding the filtered columns) and stops at the page's end.
    return (Incident.id + sa.literal_column("0") if many else Incident.id).in_(fts)


def among_cases(dialect: str, case_ids: list[int]):
    """Incidents of these cases (the ones a user may see)."""
    if dialect == "sqlite" and len(case_ids) > FEW_CASES:
        # "+": SQLite then walks the list index in the list's order and stops at the page's
        # end, instead of collecting and sorting every incident of every case.
        return sa.literal_column("+incident.case_id").in_(case_ids)
    return Incident.case_id.in_(case_ids)
