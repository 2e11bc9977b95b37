"""Searching the legal catalogue the way lawyers type.

- Article notation: "51(4)(c)", "51 (4) (c)", "art. 51(4)(c)", "8(2)(b)(iv)", "rule 71", "r. 71"
  find the provision with that article, ranked first; "51(4)" also finds its sub-paragraphs.
  "rule"/"r." keeps to customary rules, "§" to sections of a code, "art."/"article" to articles.
- Words in any form: each word is reduced to its stem (English Snowball), so "attacks on
  civilians" finds "attacking civilians"; small words ("on", "the", "of" …) are dropped; every
  remaining word must be found (AND) in the key, article, title, summary, notes, instrument or
  element texts. The last word, from three letters, also matches the start of longer words.
- Related terms from `ihl_docs/data/search_terms.json` ("DPICM" also finds "cluster munition").
- Ranking: the key typed in full, then article matches, then words found in the title, then
  words found as typed elsewhere (rather than through a related term or as the start of a
  longer word), then related terms found in the title; ties in catalogue order.

The catalogue is small (a few hundred provisions and elements): it is indexed in memory and the
index rebuilt whenever the catalogue changes (see `_signature`).
"""

import json
import re
import threading
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import snowballstemmer
import sqlalchemy as sa
from sqlmodel import Session, select

from ihl_docs.core.models import Instrument, Provision, ProvisionElement

TERMS_FILE = Path(__file__).resolve().parent.parent / "data" / "search_terms.json"
MAX_TERMS = 16  # words beyond these are ignored, as in the incident search

STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "has", "have", "in", "into",
    "is", "it", "its", "of", "on", "or", "that", "the", "their", "this", "to", "was", "were",
    "which", "with", "against"})

# An article reference: an optional "art."/"article"/"rule"/"r."/"§", a number, and any
# parenthesised parts: "51(4)(c)", "art. 8 (2) (b) (iv)", "Rule 129(A)", "§ 11".
ARTICLE = re.compile(
    r"(?<![\w-])(?:(?P<prefix>articles?|arts?|rules?|r(?=\.)|§)\.?\s*)?"
    r"(?P<number>\d+[a-z]?)(?P<parts>(?:\s*\(\s*[0-9a-z]+\s*\))*)(?![\w-])")
WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Case and Latin diacritics dropped: "Célébrité" -> "celebrite"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_stemmer = threading.local()


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    if not hasattr(_stemmer, "english"):  # a Snowball stemmer is not safe across threads
        _stemmer.english = snowballstemmer.stemmer("english")
    return _stemmer.english.stemWord(word)


def words_of(text: str) -> list[str]:
    return WORD.findall(fold(text))


# How an article is numbered: a customary rule ("Rule 71"), a section of a code ("§ 11"), or a
# treaty article ("51(4)(c)").
RULE, SECTION, ARTICLE_KIND = "rule", "section", "article"


def article_of(article: str) -> tuple[str, str]:
    """A provision's article as the search compares it, and its kind: "Rule 129(A)" ->
    ("129(a)", "rule"), "51 (4)(c)" -> ("51(4)(c)", "article"), "§ 11" -> ("11", "section")."""
    text = re.sub(r"\s+", "", fold(article))
    kind = RULE if text.startswith("rule") else SECTION if text.startswith("§") else ARTICLE_KIND
    return re.sub(r"^(rule|articles?|arts?\.?|§)", "", text), kind


def _kind_of_prefix(prefix: str) -> str | None:
    """Which kind of article a query's "rule", "r.", "§" or "art." asks for (None: any)."""
    if not prefix:
        return None
    return RULE if prefix.startswith("r") else SECTION if prefix == "§" else ARTICLE_KIND


# ---- the index ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One provision as the search sees it."""

    id: int
    key: str
    article: str           # as article_of gives it
    kind: str              # RULE, SECTION or ARTICLE_KIND
    title: frozenset       # stems of the title
    stems: frozenset       # stems of every field
    words: tuple           # every field's words as written (folded), for the last word's prefix


def _entry(provision: Provision, instrument: Instrument, elements: list[str]) -> Entry:
    title = words_of(provision.title)
    others = words_of(" ".join([provision.key, provision.article, provision.summary,
                                provision.notes, instrument.short_name, instrument.name,
                                *elements]))
    article, kind = article_of(provision.article)
    everything = title + others
    return Entry(provision.id, provision.key.casefold(), article, kind,
                 frozenset(stem(w) for w in title), frozenset(stem(w) for w in everything),
                 tuple(sorted(set(everything))))


def build_index(session: Session) -> list[Entry]:
    """Every provision of the catalogue, in catalogue order."""
    texts: dict[int, list[str]] = {}
    for provision_id, text in session.exec(select(ProvisionElement.provision_id, ProvisionElement.text)
                                           .order_by(ProvisionElement.provision_id,
                                                     ProvisionElement.number)):
        texts.setdefault(provision_id, []).append(text)
    rows = session.exec(select(Provision, Instrument)
                        .join(Instrument, Instrument.id == Provision.instrument_id)
                        .order_by(Provision.id))
    return [_entry(p, i, texts.get(p.id, [])) for p, i in rows]


def _signature_query():
    """What changes whenever the catalogue does: counts, highest ids, the sum of the provisions'
    versions (every correction bumps one) and the length of the texts an update may rewrite."""
    def over(model, *columns):
        return sa.select(*columns).select_from(model).scalar_subquery()

    length, total = sa.func.length, sa.func.sum
    provision, element, instrument = (Provision.__table__.c, ProvisionElement.__table__.c,
                                      Instrument.__table__.c)
    return sa.select(
        over(Provision, sa.func.count()), over(Provision, sa.func.max(provision.id)),
        over(Provision, total(provision.version)),
        over(Provision, total(length(provision.title) + length(provision.summary)
                              + length(provision.notes) + length(provision.article))),
        over(ProvisionElement, sa.func.count()), over(ProvisionElement, sa.func.max(element.id)),
        over(ProvisionElement, total(length(element.text))),
        over(Instrument, total(length(instrument.short_name) + length(instrument.name))))


SIGNATURE = _signature_query()  # built once: the search runs it before every use of the index


# database URL -> (signature, index). A process serves one database; tests and tools that open
# several keep the indexes of the last few only.
_indexes: dict[str, tuple[tuple, list[Entry]]] = {}
KEPT_INDEXES = 4


def catalogue_index(session: Session) -> list[Entry]:
    """The index of this database's catalogue, rebuilt when the catalogue has changed."""
    database = session.get_bind().url.render_as_string(hide_password=True)
    signature = tuple(session.connection().execute(SIGNATURE).one())
    cached = _indexes.get(database)
    if cached is None or cached[0] != signature:
        cached = (signature, build_index(session))
        _indexes.pop(database, None)
        _indexes[database] = cached
        for oldest in list(_indexes)[:-KEPT_INDEXES]:
            _indexes.pop(oldest, None)
    return cached[1]


# ---- related terms ------------------------------------------------------------------------------

def _phrase(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in words_of(text) if w not in STOP_WORDS)


@lru_cache(maxsize=4)
def related_terms(path: Path = TERMS_FILE) -> dict[tuple, list[tuple]]:
    """The mapping of search_terms.json, by stems: ("cluster", "bomb") -> [("cluster", "munit")]."""
    raw = json.loads(path.read_text(encoding="utf-8"))["terms"]
    return {_phrase(typed): [_phrase(other) for other in also] for typed, also in raw.items()}


# ---- the query ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ArticleTerm:
    article: str         # "51(4)(c)"
    kind: str | None     # RULE, SECTION, ARTICLE_KIND, or None: any
    bare: bool           # a number alone ("1949"), which may also be a word of the text


@dataclass(frozen=True)
class WordTerm:
    alternatives: tuple  # of frozensets of stems; one of them must be found whole
    prefix: str = ""     # the word as typed, when it may also be the start of a longer word


def parse(query: str) -> tuple[str, list]:
    """The query folded, and its terms (article references first, then the words)."""
    text = fold(query).strip()
    terms: list = []
    for match in ARTICLE.finditer(text):
        prefix, parts = match["prefix"] or "", re.sub(r"\s+", "", match["parts"])
        terms.append(ArticleTerm(match["number"] + parts, _kind_of_prefix(prefix),
                                 not prefix and not parts))
    rest = ARTICLE.sub(" ", text)
    terms += _word_terms(words_of(rest)[:MAX_TERMS * 2])  # small words among them go
    unique = list(dict.fromkeys(terms))
    return text, unique[:MAX_TERMS]


def _word_terms(words: list[str]) -> list[WordTerm]:
    """Words to terms: a phrase of the related-terms mapping becomes one term with its
    alternatives; stop words go."""
    related = related_terms()
    stems = [stem(w) for w in words]
    longest = max((len(k) for k in related), default=1)
    terms, i = [], 0
    while i < len(words):
        for size in range(min(longest, len(words) - i), 0, -1):
            phrase = tuple(s for w, s in zip(words[i:i + size], stems[i:i + size], strict=True)
                           if w not in STOP_WORDS)
            if phrase and phrase in related:
                terms.append(WordTerm(tuple(frozenset(p) for p in (phrase, *related[phrase]))))
                i += size
                break
        else:
            if words[i] not in STOP_WORDS:
                last = i == len(words) - 1 and len(words[i]) >= 3
                terms.append(WordTerm((frozenset({stems[i]}),), words[i] if last else ""))
            i += 1
    return terms


# ---- matching and ranking -----------------------------------------------------------------------

def _article_rank(entry: Entry, term: ArticleTerm) -> int:
    """2: that very article; 1: one of its sub-paragraphs; 0: neither."""
    if term.kind is not None and term.kind != entry.kind:
        return 0
    if entry.article == term.article:
        return 2
    return 1 if entry.article.startswith(term.article + "(") else 0


def _word_place(entry: Entry, term: WordTerm) -> str | None:
    """Where a word term is found: the words as typed in the "title", or elsewhere ("text"),
    or only a related term, in the title ("related title") or elsewhere, or the start of a
    longer word ("related"); None: nowhere."""
    typed, *related = term.alternatives
    if typed <= entry.title:
        return "title"
    if typed <= entry.stems:
        return "text"
    if any(alt <= entry.title for alt in related):
        return "related title"
    if any(alt <= entry.stems for alt in related):
        return "related"
    if term.prefix and _has_prefix(entry.words, term.prefix):
        return "related"
    return None


def _has_prefix(words: tuple, prefix: str) -> bool:
    """Whether a word of the sorted `words` starts with `prefix`."""
    at = bisect_left(words, prefix)
    return at < len(words) and words[at].startswith(prefix)


def rank(entry: Entry, folded_query: str, terms: list) -> tuple | None:
    """The entry's rank for the query (higher first), or None when a term is not found."""
    article = title = typed = related_title = 0
    for term in terms:
        if isinstance(term, ArticleTerm):
            found = _article_rank(entry, term)
            if found:
                article += found
                continue
            if not term.bare:
                return None
            term = WordTerm((frozenset({term.article}),))
        place = _word_place(entry, term)
        if place is None:
            return None
        title += place == "title"
        typed += place in ("title", "text")
        related_title += place == "related title"
    return (folded_query == entry.key, article, title, typed, related_title)


def search(session: Session, query: str, among: set[int] | None = None) -> list[int]:
    """Ids of the provisions matching the query, best first; `among`: only these ids.
    A query with no term (empty, or only small words) matches every provision."""
    folded, terms = parse(query)
    ranked = []
    for entry in catalogue_index(session):
        if among is not None and entry.id not in among:
            continue
        if folded == entry.key:
            ranked.append(((True, 0, 0, 0, 0), entry.id))
            continue
        found = rank(entry, folded, terms)
        if found is not None:
            ranked.append((found, entry.id))
    ranked.sort(key=lambda r: (tuple(-int(x) for x in r[0]), r[1]))
    return [entry_id for _, entry_id in ranked]
