"""commit_form: a form's service call committed, or refused with its errors on the form."""

import pytest
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from sqlalchemy import event
from sqlmodel import select
from wtforms import IntegerField, StringField

from ihl_docs.cases import services as cases
from ihl_docs.core.db import get_session
from ihl_docs.core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    StaleVersion,
    TooLarge,
)
from ihl_docs.core.models import Case, CaseCreate, User
from ihl_docs.core.web import commit_form
from tests.builders import make_user


class NoteForm(FlaskForm):
    title = StringField("Title")
    version = IntegerField("Version")


def posted(app, **data):
    """A POST request's context, with the form's fields as sent."""
    return app.test_request_context("/", method="POST", data=data)


def open_case(user_id: int, ref: str) -> Case:
    """A real write on the request's session (a case, its parties, its member, audit entries)."""
    session = get_session()
    return cases.create_case(session, CaseCreate.model_validate(
        {"ref": ref, "title": "Shelling of the old town",
         "conflict_classification": "international",
         "parties": [{"name": "State A armed forces", "kind": "state", "state_code": "ARM"}]}),
        actor=session.get(User, user_id))


def count_commits(session) -> list:
    commits = []
    event.listen(session, "after_commit", commits.append)
    return commits


def stored_refs(db) -> list[str]:
    return list(db.exec(select(Case.ref)))


def test_a_refused_call_commits_nothing_and_puts_its_message_on_the_field(app, db):
    user_id = make_user(db).id

    def action():
        open_case(user_id, "WF-1")
        raise InvalidInput("The title is too short.", {"title": "Use at least 5 characters."})

    with posted(app, title="Tiny", version="1"):
        commits = count_commits(get_session())
        form = NoteForm()
        post = commit_form(form, action)
        flashed = get_flashed_messages(with_categories=True)
        seen_after = list(get_session().exec(select(Case.ref)))  # rolled back, not just unsaved
    assert not post.saved
    assert post.status == 422
    assert post.conflict is None
    assert isinstance(post.error, InvalidInput)
    assert form.title.errors == ["Use at least 5 characters."]
    assert flashed == []
    assert commits == []
    assert seen_after == []
    assert stored_refs(db) == []


def test_a_stale_version_rolls_back_and_gives_the_conflict_with_409(app, db):
    user_id = make_user(db).id
    change = {"field": "title", "by": "other@example.org", "at": "2026-01-05T10:00:00+00:00",
              "from": "Old title", "to": "Their title"}

    def action():
        open_case(user_id, "WF-2")
        raise StaleVersion("Changed by someone else since you opened it.", current_version=3,
                           changes=[change])

    with posted(app, title="My title", version="1"):
        form = NoteForm()
        post = commit_form(form, action, refused=(StaleVersion, InvalidInput))
        seen_after = list(get_session().exec(select(Case.ref)))
    assert not post.saved
    assert post.status == 409
    assert post.conflict["message"] == "Changed by someone else since you opened it."
    assert [(row["field"], row["by"], row["to"]) for row in post.conflict["rows"]] == [
        ("Title", "other@example.org", "Their title")]
    assert form.version.data == 3  # a deliberate second save is based on the stored version
    assert form.title.data == "My title"  # the user's input is kept
    assert form.title.errors == [
        "Changed by other@example.org since you opened this form; it is now: Their title."]
    assert seen_after == []
    assert stored_refs(db) == []


def test_a_stale_version_conflict_can_be_built_by_the_view(app):
    def action():
        raise StaleVersion("Stale.", current_version=2, changes=[])

    with posted(app, version="1"):
        form = NoteForm()
        post = commit_form(form, action, refused=(StaleVersion,),
                           stale=lambda form, exc: {"message": exc.message, "mine": True})
    assert post.conflict == {"message": "Stale.", "mine": True}
    assert form.version.data == 1


def test_a_stale_version_refused_only_as_a_conflict_gets_messages_not_a_conflict(app):
    def action():
        raise StaleVersion("Changed meanwhile.", current_version=2, changes=[])

    with posted(app):
        form = NoteForm()
        post = commit_form(form, action, refused=(Conflict,))
        flashed = get_flashed_messages(with_categories=True)
    assert post.conflict is None
    assert post.status == 409
    assert flashed == [("error", "Changed meanwhile.")]


def test_a_success_commits_once_and_gives_the_result(app, db):
    user_id = make_user(db).id
    with posted(app, title="Shelling", version="1"):
        commits = count_commits(get_session())
        form = NoteForm()
        post = commit_form(form, lambda: open_case(user_id, "WF-3"))
        flashed = get_flashed_messages()
    assert post.saved
    assert post.result.ref == "WF-3"
    assert post.conflict is None
    assert post.error is None
    assert len(commits) == 1
    assert flashed == []
    assert not form.title.errors
    assert stored_refs(db) == ["WF-3"]


@pytest.mark.parametrize("error", [Forbidden("Not for your role."), Conflict("Taken."),
                                   NotFound("No such thing.")])
def test_an_error_not_refused_goes_up_untouched(app, db, error):
    user_id = make_user(db).id

    def action():
        open_case(user_id, "WF-4")
        raise error

    with posted(app, title="Shelling"):
        commits = count_commits(get_session())
        form = NoteForm()
        with pytest.raises(type(error)) as raised:
            commit_form(form, action)
        flashed = get_flashed_messages()
    assert raised.value is error
    assert not form.title.errors
    assert flashed == []
    assert commits == []
    assert stored_refs(db) == []


@pytest.mark.parametrize(("error", "status"), [
    (InvalidInput("Wrong."), 422), (Conflict("Taken."), 409), (NotFound("Nobody."), 404),
    (TooLarge("Too big."), 413)])
def test_the_status_is_the_refused_errors_own(app, error, status):
    def action():
        raise error

    with posted(app):
        post = commit_form(NoteForm(), action, refused=(InvalidInput, Conflict, NotFound, TooLarge))
    assert post.status == status
    assert post.error is error


def test_full_messages_put_the_errors_sentence_on_each_field_it_names(app):
    def action():
        raise Conflict("A case with the reference WF-5 already exists.",
                       {"title": "already in use"})

    with posted(app):
        form = NoteForm()
        commit_form(form, action, refused=(Conflict,), full_messages=True)
    assert form.title.errors == ["A case with the reference WF-5 already exists."]


def test_full_messages_can_name_the_errors_they_are_for(app):
    def refuse(error):
        def action():
            raise error
        return action

    with posted(app):
        too_large, invalid = NoteForm(), NoteForm()
        kinds = {"refused": (TooLarge, InvalidInput), "full_messages": (TooLarge,)}
        commit_form(too_large, refuse(TooLarge("The file is too large.", {"title": "too large"})),
                    **kinds)
        commit_form(invalid, refuse(InvalidInput("Wrong.", {"title": "Use fewer words."})),
                    **kinds)
    assert too_large.title.errors == ["The file is too large."]
    assert invalid.title.errors == ["Use fewer words."]


def test_on_field_puts_the_errors_own_message_on_that_field(app):
    def action():
        raise Conflict("Already linked.", {"incident": "already linked"})

    with posted(app):
        form = NoteForm()
        commit_form(form, action, refused=(Conflict,), on_field="title")
        flashed = get_flashed_messages()
    assert form.title.errors == ["Already linked."]
    assert flashed == []


def test_messages_for_fields_the_form_lacks_are_flashed(app):
    def action():
        raise InvalidInput("You cannot deactivate your own account.")

    with posted(app):
        post = commit_form(FlaskForm(), action)
        flashed = get_flashed_messages(with_categories=True)
    assert not post.saved
    assert flashed == [("error", "You cannot deactivate your own account.")]
