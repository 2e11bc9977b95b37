"""The case's own record file in a case export: the case, its parties and its members."""

from sqlmodel import Session, select

from ihl_docs.cases.services import case_snapshot
from ihl_docs.core.audit.log import jsonable
from ihl_docs.core.case_records import Collecting, RecordPart, Restoring, row_fields, row_values
from ihl_docs.core.models import Case, CaseMember, Party


def collect(ctx: Collecting) -> dict:
    session, case, emails = ctx.session, ctx.case, ctx.emails
    parties = session.exec(select(Party).where(Party.case_id == case.id).order_by(Party.name))
    members = session.exec(select(CaseMember).where(CaseMember.case_id == case.id))
    return {
        "case": {**row_fields(case, "id", "created_by_id"),
                 "created_by": emails.get(case.created_by_id)},
        "parties": [row_fields(p, "id", "case_id") for p in parties],
        "members": sorted(({"email": emails[m.user_id], "added_at": jsonable(m.added_at),
                            "added_by": emails.get(m.added_by_id)} for m in members),
                          key=lambda m: m["email"]),
    }


def restore(ctx: Restoring, records: dict) -> None:
    """The case and its parties, then its members who have an account here (by e-mail)."""
    session, data = ctx.session, records["case"]
    ctx.case = Case(**row_values(Case, data, "id", "created_by_id"),
                    created_by_id=ctx.author_id(data.get("created_by")))
    session.add(ctx.case)
    session.flush()
    for party in records["parties"]:
        session.add(Party(**row_values(Party, party, "id", "case_id"), case_id=ctx.case.id))
    session.flush()
    ctx.record("case", ctx.case.ref,
               {**case_snapshot(session, ctx.case), "imported_from": ctx.source})
    for member in records["members"]:
        _restore_member(ctx, member)


def _restore_member(ctx: Restoring, member: dict) -> None:
    user = ctx.users.get(member["email"])
    if user is None:
        ctx.unknown_members.append(member["email"])
        return
    if not ctx.vouched:  # membership opens the case: not on the word of an unvouched bag
        ctx.withheld_members.append(member["email"])
        return
    ctx.session.add(CaseMember(**row_values(CaseMember, member, "case_id", "user_id",
                                            "added_by_id"),
                               case_id=ctx.case.id, user_id=user.id,
                               added_by_id=ctx.author_id(member.get("added_by"))))
    ctx.session.flush()
    ctx.record("case_member", f"{ctx.case.ref}:{user.email}",
               {"case": ctx.case.ref, "user": user.email, "role": user.role})
    ctx.count("members")


def refusal(session: Session, records: dict) -> str | None:
    ref = records["case"]["ref"]
    if session.exec(select(Case.id).where(Case.ref == ref)).first() is not None:
        return f"A case {ref} already exists here; nothing was imported."
    return None


PART = RecordPart("case.json", collect, restore, refusal=refusal)
