"""What a feature adds to a case dossier: a section of its own, after the built-in ones.

A part says, for every audience, whether its records are shown, described or withheld — an
audience it does not name is refused, never given a default. What it collects is plain JSON-ready
data, kept in the dossier's content under the part's name, so the case fingerprint covers it; a
part with nothing to show adds nothing, and a withheld part is named (not shown) on the summary.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlmodel import Session

from ihl_docs.core.errors import InvalidInput
from ihl_docs.core.models import Case
from ihl_docs.dossiers.audiences import AudiencePolicy, Show


@dataclass(frozen=True)
class DossierPart:
    """A feature's section of the dossier."""

    name: str                  # its key in the dossier's content, e.g. "persons"
    title: str                 # its entry in the contents and its bookmark
    collect: Callable[[Session, Case, AudiencePolicy, Show], object]  # JSON-ready; empty: none
    shown_to: Mapping[str, Show]  # audience name -> how this edition treats the part's records
    template: str = ""         # the Jinja template, rendered with `data` and the content `c`
    source: str = ""           # or the template's text itself, for a small part

    def show_for(self, policy: AudiencePolicy) -> Show:
        if policy.name not in self.shown_to:
            raise InvalidInput(f"The dossier part {self.title!r} does not say what the "
                               f"{policy.name} edition shows of it.",
                               fields={"audience": "not covered by every dossier part"})
        return self.shown_to[policy.name]


def register_dossier_part(app, part: DossierPart) -> None:
    """Add a section to the dossiers built by this application (after those before it)."""
    app.extensions.setdefault("ihl_dossier_parts", []).append(part)


def dossier_parts(app) -> tuple[DossierPart, ...]:
    return tuple(app.extensions.get("ihl_dossier_parts", ()))


def collect_parts(session: Session, case: Case, policy: AudiencePolicy,
                  parts: tuple[DossierPart, ...]) -> tuple[dict, list[str]]:
    """name -> {title, data} of the parts with something to show, and the titles withheld."""
    collected, withheld = {}, []
    for part in parts:
        show = part.show_for(policy)
        if show == Show.withheld:
            withheld.append(part.title)
            continue
        data = part.collect(session, case, policy, show)
        if data:
            collected[part.name] = {"title": part.title, "data": data}
    return collected, withheld
