from tests.builders import login, make_case, make_incident, make_user


def test_login_and_home(client, db):
    user = make_user(db, "investigator")
    case = make_case(db, user)
    make_incident(db, case, user)
    response = login(client, user)
    assert response.status_code == 302
    assert client.get("/").status_code == 200
