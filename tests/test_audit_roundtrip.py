"""Whatever a change holds, its entry verifies after a round trip through the database."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ihl_docs.core.audit import log as audit
from ihl_docs.core.db import open_session

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_characters="\x00", exclude_categories=("Cs",))),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(st.characters(exclude_characters="\x00",
                                            exclude_categories=("Cs",)), max_size=8),
                      children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=json_values, after=json_values, entity_id=st.text(
    st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), min_size=1, max_size=40))
def test_any_change_round_trips_and_verifies(app, before, after, entity_id):
    engine = app.extensions["ihl_engine"]
    with open_session(engine) as session:
        audit.record(session, actor="tester@example.org", action="update", entity="probe",
                     entity_id=entity_id, before={"v": before}, after={"v": after})
        session.commit()
    with open_session(engine, write=False) as session:
        count, problems = audit.verify_chain(session)
    assert problems == []
    assert count >= 1
