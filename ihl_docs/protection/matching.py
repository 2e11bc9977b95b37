"""Finding protected terms in text.

A term matches in any case, with or without diacritics, and whatever separates its words: "Jane
Doe" finds "JANE DOE", "Jane-Doe" and "Jané  Doe"; "+374 555 0101" finds "+374-555-0101" and
"(374) 5550101". A term matches whole words only, so "Ann" does not find "Annex". Patterns given
by the team are regular expressions (the `regex` module, with a time limit, so no pattern can
stall a build). Phone numbers and e-mail addresses are found without being listed: by Google's
phone-number library for the case's countries, by the international form (+ and at least seven
digits), after a word such as "phone" or "tel", and by the shape of an address.
"""

import unicodedata
from dataclasses import dataclass

import phonenumbers
import regex

MIN_CHARACTERS = 3  # letters and digits in a term: fewer would hit ordinary words
MAX_TERM = 300
PATTERN_TIMEOUT = 0.5  # seconds a pattern may spend on one text

EMAIL = regex.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", regex.UNICODE)
INTERNATIONAL_PHONE = regex.compile(r"(?<![\w+])\+\d(?:[\s().-]{0,3}\d){6,16}(?!\d)")
NAMED_PHONE = regex.compile(
    r"(?i)\b(?:phone|tel|telephone|mobile|mob|cell|whatsapp|viber|signal|telegram)\b\W{0,5}"
    r"(\+?\(?\d(?:[\s().-]{0,3}\d){5,16})(?!\d)")
CANDIDATE = regex.compile(r"\+?\(?\d(?:[\s().-]{0,3}\d){5,16}")
ISO_DATE = regex.compile(r"\d{4}-\d{2}-\d{2}(?:$|\D)")
# Ordinary text a pattern must leave mostly alone: one that takes more is refused.
PROBE = ("On 4 October 2020 at about 00:30 local time several rockets struck a residential "
         "street near the central market. Three civilians were killed and five injured; the "
         "remnants were photographed by the investigator and sealed as evidence.")


class TermRefused(ValueError):
    """A term or pattern the register does not take: the message says why, in words."""


def fold(text: str) -> tuple[str, list[int] | None]:
    """The text in lower case without diacritics, and for each of its characters the index of
    the character of `text` it comes from (so a match can be cut from the original); None for
    the index when it is the same (ASCII text, the usual case, folded at C speed)."""
    if text.isascii():
        return text.lower(), None
    out, where = [], []
    for index, char in enumerate(text):
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(part):
                continue
            for folded in part.casefold():
                out.append(folded)
                where.append(index)
    return "".join(out), where


def words(term: str) -> list[str]:
    """The letters-and-digits runs of a term, folded."""
    return regex.findall(r"[^\W_]+", fold(term)[0])


def text_pattern(term: str) -> regex.Pattern:
    """The folded term as a pattern: its words in order, anything but letters and digits (or
    nothing) between them, whole words only."""
    parts = words(term)
    body = r"[\W_]*".join(regex.escape(part) for part in parts)
    return regex.compile(rf"(?<![^\W_]){body}(?![^\W_])")


def check_text(term: str) -> str:
    """The term, cleaned; refused if too short or too long."""
    term = " ".join(term.split())
    if len(term) > MAX_TERM:
        raise TermRefused(f"A term has at most {MAX_TERM} characters.")
    if sum(len(w) for w in words(term)) < MIN_CHARACTERS:
        raise TermRefused(f"A term needs at least {MIN_CHARACTERS} letters or digits: a shorter "
                          f"one would replace parts of ordinary words and figures.")
    return term


def check_pattern(pattern: str) -> regex.Pattern:
    """The pattern compiled; refused if it is not a valid regular expression, matches empty
    text, or matches most of an ordinary sentence."""
    if len(pattern) > MAX_TERM:
        raise TermRefused(f"A pattern has at most {MAX_TERM} characters.")
    try:
        compiled = regex.compile(pattern, regex.IGNORECASE | regex.UNICODE)
    except regex.error as exc:
        raise TermRefused(f"Not a valid regular expression: {exc}.") from None
    try:
        if compiled.search("", timeout=PATTERN_TIMEOUT) is not None:
            raise TermRefused("This pattern matches empty text, so it matches everything: make "
                              "it match only what must be protected.")
        taken = sum(len(m.group()) for m in compiled.finditer(PROBE, timeout=PATTERN_TIMEOUT))
    except TimeoutError:
        raise TermRefused("This pattern takes too long to search ordinary text: simplify "
                          "it.") from None
    if taken * 5 > len(PROBE):
        raise TermRefused("This pattern matches most of an ordinary sentence, so it would hide "
                          "the dossier's text: make it match only what must be protected.")
    return compiled


@dataclass(frozen=True)
class Finder:
    """One thing to find: a label for the disclosure check, and the spans it finds in a text."""

    key: str           # what numbers the placeholder: "T3" for entry 3, "phone", "email", "staff:…"
    label: str         # "entry 3 (name)", "phone number", "staff member"
    kind: str          # text, pattern, phone, email, staff
    pattern: object = None  # a compiled regex (text terms: on the folded text)
    regions: tuple = ()

    def spans(self, text: str, folded: tuple[str, list[int]] | None = None) -> list[tuple[int, int]]:
        if self.kind in ("text", "staff"):
            value, where = folded or fold(text)
            if where is None:
                return [m.span() for m in self.pattern.finditer(value)]
            return [(where[m.start()], where[m.end() - 1] + 1) for m in self.pattern.finditer(value)]
        if self.kind == "pattern":
            try:
                return [m.span() for m in self.pattern.finditer(text, timeout=PATTERN_TIMEOUT)
                        if m.end() > m.start()]
            except TimeoutError:
                # a pattern that stalls on this text protects the whole of it
                return [(0, len(text))] if text else []
        if self.kind == "email":
            return [m.span() for m in EMAIL.finditer(text)]
        if self.kind == "phone":
            return phone_spans(text, self.regions)
        return []


def phone_spans(text: str, regions: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where phone numbers are in `text`: valid numbers of the given regions, numbers in the
    international form, and numbers after a word such as "phone"."""
    if not any(c.isdigit() for c in text):
        return []
    spans = [m.span() for m in INTERNATIONAL_PHONE.finditer(text)]
    spans += [m.span(1) for m in NAMED_PHONE.finditer(text)]
    if regions:
        # The library reads only where six digits or more stand together (a date is no number):
        # it is slow on long texts, and most texts hold no such run at all.
        for candidate in CANDIDATE.finditer(text):
            if ISO_DATE.match(candidate.group()):
                continue
            start = max(0, candidate.start() - 2)
            piece = text[start:candidate.end() + 1]
            for region in regions:
                spans += [(start + m.start, start + m.end) for m in phonenumbers.PhoneNumberMatcher(
                    piece, region, leniency=phonenumbers.Leniency.VALID)]
    return spans


def text_finder(key: str, label: str, term: str, kind: str = "text") -> Finder:
    return Finder(key, label, kind, text_pattern(term))


def pattern_finder(key: str, label: str, pattern: str) -> Finder:
    return Finder(key, label, "pattern", regex.compile(pattern, regex.IGNORECASE | regex.UNICODE))


class Finders:
    """Several finders searched together: every text term in one pattern (one pass over the
    folded text), the others one by one."""

    def __init__(self, finders: list[Finder]):
        # the longest first: at one place, "Jane Doe" is preferred to "Jane"
        self.terms = sorted((f for f in finders if f.kind in ("text", "staff")),
                            key=lambda f: -len(f.pattern.pattern))
        self.others = [f for f in finders if f.kind not in ("text", "staff")]
        self.pattern = (regex.compile("|".join(f"(?P<t{n}>{f.pattern.pattern})"
                                               for n, f in enumerate(self.terms)))
                        if self.terms else None)

    def without(self, kinds: tuple[str, ...]) -> "Finders":
        subset = Finders([])
        subset.terms, subset.pattern = self.terms, self.pattern
        subset.others = [f for f in self.others if f.kind not in kinds]
        return subset

    def spans(self, text: str) -> list[tuple[int, int, Finder]]:
        hits = []
        if self.pattern is not None:
            value, where = fold(text)
            for match in self.pattern.finditer(value):
                finder = self.terms[int(match.lastgroup[1:])]
                start, end = match.span()
                hits.append((start, end, finder) if where is None
                            else (where[start], where[end - 1] + 1, finder))
        for finder in self.others:
            hits += [(start, end, finder) for start, end in finder.spans(text)]
        return hits


def find(finders: "list[Finder] | Finders", text: str) -> list[tuple[int, int, Finder]]:
    """Every hit in `text`, left to right, the longest where two overlap."""
    if not text:
        return []
    if not isinstance(finders, Finders):
        finders = Finders(finders)
    hits = [hit for hit in finders.spans(text) if hit[1] > hit[0]]
    hits.sort(key=lambda hit: (hit[0], -(hit[1] - hit[0])))
    kept, reach = [], 0
    for start, end, finder in hits:
        if start >= reach:
            kept.append((start, end, finder))
            reach = end
        elif end > reach and kept:  # overlapping hits are protected together
            first = kept[-1]
            kept[-1] = (first[0], end, first[2])
            reach = end
    return kept


def value_key(text: str) -> str:
    """Two matches of a pattern are the same value when their letters and digits agree."""
    return "".join(words(text))
