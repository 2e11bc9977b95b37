"""Replace what must be protected in every text of a dossier's content, and say what was found.

The content is plain JSON-ready data (dossiers/content.py). Every string in it is searched,
whatever record or field it comes from — a witness named in a custody note is found as surely
as one named in a narrative — except the structural values a reader checks the dossier by:
refs, hashes, status words and the times the dossier computes itself. Each hit becomes a
stable placeholder: "[protected 3]" for entry 3 of the register, "[protected phone 1]" for the
first phone number found, "Investigator 2" for a member of staff. The same content and register
give the same placeholders, so the edition stays reproducible.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from ihl_docs.core.audit.chain import canonical_json
from ihl_docs.protection.matching import Finder, Finders, find, value_key

# Values a reader checks the dossier by, or that the dossier computes: never changed.
STRUCTURAL = frozenset({
    "ref", "refs", "parent_ref", "sha256", "sha256_observed", "incidents", "scope", "format",
    "audience", "kind", "sensitivity", "size", "media_type", "workflow_status", "status",
    "action", "provision_key", "key", "number", "stance", "assessment", "hash_matched",
    "marking", "audience_note", "catalogue_version", "occurred_text", "recorded_text",
    "occurred_from", "occurred_to", "date_precision", "hash_text", "code", "page",
    "time_zone", "utc_offset_minutes", "country", "state_code", "conflict_classification",
    "reliability", "credibility", "source_platform", "elements_source", "provision_title",
})
# Web addresses keep their digits: a number in a URL is not a phone number.
ADDRESS_FIELDS = frozenset({"source_url", "url"})
CONTEXT = 40  # characters each side of a hit in the disclosure check


def structural(key: str) -> bool:
    return key in STRUCTURAL or key.endswith(("_at", "_ref", "_refs", "sha256"))


@dataclass
class Hit:
    where: str        # "AM-2020-I001 · narrative"
    found: str        # the text found
    becomes: str      # its placeholder
    what: str         # what found it: "entry 3 (name)", "phone number", "Investigator"
    before: str       # the words around it, as they were
    after: str        # the same words, as the edition prints them


@dataclass
class Redactor:
    """Replaces hits with placeholders, numbering each value the first time it is met."""

    finders: list[Finder]
    hits: list[Hit] = field(default_factory=list)
    _all: Finders | None = None
    _no_numbers: Finders | None = None
    _found: dict = field(default_factory=dict)  # (text, key kind) -> its hits: texts repeat
    _placeholders: dict = field(default_factory=dict)
    _counters: dict = field(default_factory=lambda: defaultdict(int))

    def placeholder(self, finder: Finder, found: str) -> str:
        if finder.kind == "text":
            return f"[protected {finder.key[1:]}]"
        key = (finder.key if finder.kind == "staff" else (finder.key, value_key(found)))
        if key not in self._placeholders:
            counter = finder.label if finder.kind == "staff" else finder.key
            self._counters[counter] += 1
            number = self._counters[counter]
            self._placeholders[key] = (
                f"{finder.label} {number}" if finder.kind == "staff"
                else f"[protected phone {number}]" if finder.kind == "phone"
                else f"[protected e-mail {number}]" if finder.kind == "email"
                else f"[protected {finder.key[1:]}.{number}]")
        return self._placeholders[key]

    def text(self, text: str, where: str, key: str) -> str:
        if self._all is None:
            self._all = Finders(self.finders)
            self._no_numbers = self._all.without(("phone", "email"))
        address = key in ADDRESS_FIELDS
        memo = (text, address)
        if memo not in self._found:
            self._found[memo] = find(self._no_numbers if address else self._all, text)
        hits = self._found[memo]
        if not hits:
            return text
        out, last = [], 0
        for start, end, finder in hits:
            becomes = self.placeholder(finder, text[start:end])
            out += [text[last:start], becomes]
            lo, hi = max(0, start - CONTEXT), min(len(text), end + CONTEXT)
            self.hits.append(Hit(where, text[start:end], becomes, finder.label,
                                 text[lo:hi], text[lo:start] + becomes + text[end:hi]))
            last = end
        out.append(text[last:])
        return "".join(out)

    def walk(self, value, where: str, key: str):
        """`value` with every text outside the structural fields protected; `where` names the
        record and field it belongs to, for the disclosure check."""
        if isinstance(value, str):
            return value if structural(key) else self.text(value, where or "dossier", key)
        if isinstance(value, list):
            if structural(key) and all(isinstance(item, str) for item in value):
                return value  # a list of refs
            return [self.walk(item, where, key) for item in value]
        if isinstance(value, dict):
            place = where
            if isinstance(value.get("ref"), str):
                place = value["ref"]
            elif isinstance(value.get("provision_key"), str):
                place = _join(where, value["provision_key"])
            elif isinstance(value.get("number"), int) and not isinstance(value["number"], bool):
                place = _join(where, f"element {value['number']}")
            return {k: self.walk(v, _join(place, k), k) for k, v in value.items()}
        return value


def _join(where: str, part: str) -> str:
    part = part.replace("_", " ")
    return f"{where} · {part}" if where else part


def redact(content: dict, finders: list[Finder]) -> tuple[dict, list[Hit]]:
    """The content with every protected text replaced, and each replacement made. Keys are
    visited in sorted order, so the numbering does not depend on how the content was built."""
    redactor = Redactor(finders)
    result = {key: redactor.walk(content[key], "", key) for key in sorted(content)}
    return {key: result[key] for key in content}, redactor.hits


def digest(hits: list[Hit]) -> str:
    """What a lawyer confirmed, as a hash: the check changes when any hit does."""
    rows = [[h.where, h.found, h.becomes] for h in hits]
    return hashlib.sha256(canonical_json(rows).encode("utf-8")).hexdigest()
