"""Who a dossier is for, as data: per audience, what its edition shows, describes or withholds.

Every rule an edition follows is a field of its `AudiencePolicy`, and every field must be given:
a new audience states each rule instead of inheriting one. Content collection and the templates
read the policy; nothing else in the dossier code looks at the audience's name.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

from ihl_docs.core.errors import InvalidInput
from ihl_docs.core.models import Sensitivity, WorkflowStatus


class Show(StrEnum):
    """What an edition does with an item."""

    shown = "shown"
    described = "described"  # by reference, kind, sensitivity, hash and size: nothing of its content
    withheld = "withheld"    # counted, never named


# What a described item keeps: enough to prove it exists and is unchanged, nothing it says.
DESCRIBED_FIELDS = ("ref", "kind", "sensitivity", "sha256", "size")
# Evidence fields through which a witness could be identified: the author of a testimony, where
# a file came from and its name, where it was filmed and the phone that filmed it.
WITNESS_SOURCE = frozenset({"source_author", "source_url", "original_filename"})
CAPTURE_POSITION = frozenset({"capture_latitude", "capture_longitude"})
CAPTURE_DEVICE = frozenset({"capture_device"})
# Custody fields saying where and why an item moved, which can point to a witness.
CUSTODY_DETAILS = frozenset({"place", "purpose", "notes"})
# Who held an item and who recorded each step: staff, and their offices.
CUSTODIANS = frozenset({"custodian_from", "custodian_to", "actor"})
# How, when and by whom an item was acquired.
ACQUISITION = frozenset({"acquired_at", "acquired_by", "acquisition_method"})
# What a public source (an open-source post marked public) keeps in every edition: where it was
# published and by whom is what makes it checkable, and it is public already.
PUBLIC_SOURCE = frozenset({"source_url", "source_author"})
EVERY_INCIDENT = frozenset(WorkflowStatus)
APPROVED_ONLY = frozenset({WorkflowStatus.approved})


@dataclass(frozen=True)
class AudiencePolicy:
    """What one audience's edition shows, describes or withholds."""

    name: str
    marking: str                                 # at the top of every page
    note: str                                    # on the cover: what this edition leaves out
    incidents: frozenset[WorkflowStatus]         # the incidents shown, by workflow status
    default_scope: frozenset[WorkflowStatus]     # the incidents covered when none are chosen
    evidence: Mapping[Sensitivity, Show]         # each evidence item, by its sensitivity
    hidden_fields: frozenset[str]                # evidence fields emptied on the items shown
    distance_flags: bool                         # warnings that give the capture position away
    hidden_custody: Mapping[Show, frozenset[str]]  # custody fields emptied, by how the item shows
    # Court and public: every text is run through the case's protected-terms register (names,
    # numbers, places, handles; phone numbers and e-mail addresses), and staff are named by
    # role and pseudonym unless they consented to be named (ihl_docs/protection).
    protects: bool

    def __post_init__(self):
        if set(self.evidence) != set(Sensitivity):
            raise ValueError(f"audience {self.name}: say what happens to every sensitivity")
        if set(self.hidden_custody) != set(self.evidence.values()) - {Show.withheld}:
            raise ValueError(f"audience {self.name}: say which custody details each item shown "
                             f"or described keeps")
        # read-only, so a policy cannot be changed once registered
        object.__setattr__(self, "evidence", MappingProxyType(dict(self.evidence)))
        object.__setattr__(self, "hidden_custody", MappingProxyType(dict(self.hidden_custody)))

    def show(self, sensitivity: Sensitivity | str) -> Show:
        """How an item of this sensitivity appears in the edition."""
        return self.evidence[Sensitivity(sensitivity)]


INTERNAL = AudiencePolicy(
    name="internal",
    marking="CONFIDENTIAL — INTERNAL",
    note="Internal edition: every record and evidence item of the case.",
    incidents=EVERY_INCIDENT,
    default_scope=EVERY_INCIDENT,
    evidence={Sensitivity.public: Show.shown, Sensitivity.restricted: Show.shown,
              Sensitivity.confidential: Show.shown},
    hidden_fields=frozenset(),
    distance_flags=True,
    hidden_custody={Show.shown: frozenset()},
    protects=False,
)
COURT = AudiencePolicy(
    name="court",
    marking="CONFIDENTIAL — FOR THE COURT",
    note="Court edition: confidential items are described by reference, kind and hash but not "
         "shown; fields that could identify a witness are removed, protected terms are replaced "
         "and staff are named by role.",
    incidents=EVERY_INCIDENT,
    default_scope=APPROVED_ONLY,
    evidence={Sensitivity.public: Show.shown, Sensitivity.restricted: Show.shown,
              Sensitivity.confidential: Show.described},
    hidden_fields=WITNESS_SOURCE,
    distance_flags=True,
    hidden_custody={Show.shown: frozenset(), Show.described: CUSTODY_DETAILS},
    protects=True,
)
PUBLIC = AudiencePolicy(
    name="public",
    marking="PUBLIC",
    note="Public edition: only items marked public; restricted and confidential items are "
         "withheld, fields that could identify a witness are removed, protected terms are "
         "replaced, and acquisition details, custodians and places of custody are not shown.",
    incidents=EVERY_INCIDENT,
    default_scope=APPROVED_ONLY,
    evidence={Sensitivity.public: Show.shown, Sensitivity.restricted: Show.withheld,
              Sensitivity.confidential: Show.withheld},
    hidden_fields=WITNESS_SOURCE | CAPTURE_POSITION | CAPTURE_DEVICE | ACQUISITION,
    distance_flags=False,
    hidden_custody={Show.shown: CUSTODIANS | CUSTODY_DETAILS},
    protects=True,
)

# The audiences a dossier can be built for, by name, in the order they are offered.
AUDIENCES: dict[str, AudiencePolicy] = {p.name: p for p in (INTERNAL, COURT, PUBLIC)}


class UnknownAudience(InvalidInput):
    """An audience the table does not list."""

    def __init__(self, name: object):
        super().__init__(f"Unknown audience {name!r}: choose {choices()}.",
                         {"audience": f"choose {choices()}"})


def policy_for(name: str) -> AudiencePolicy:
    """The policy of the audience `name`; an audience not in the table is refused."""
    policy = AUDIENCES.get(name) if isinstance(name, str) else None
    if policy is None:
        raise UnknownAudience(name)
    return policy


def choices() -> str:
    """The audiences in words, e.g. "internal, court or public"."""
    names = list(AUDIENCES)
    return " or ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
