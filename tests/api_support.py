"""Helpers shared by the API tests: the refs of the `world` fixture's case and incident, bearer
headers, tokens, uploads and error bodies. (The fixtures themselves live in conftest.py.)"""

import io

from ihl_docs.auth import services as auth
from tests.builders import jpeg_with_exif

CASE_REF = "NK-2020-001"
INCIDENT_REF = "NK-2020-001-I001"
UPLOAD_URL = f"/api/v1/cases/{CASE_REF}/evidence"
PHOTO = jpeg_with_exif()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def token_for(db, user) -> str:
    token = auth.create_token(db, user.email, actor="test")
    db.commit()
    return token


def upload(client, headers, data: bytes | None = PHOTO, filename="IMG_0001.JPG", url=UPLOAD_URL,
           **fields):
    form = {"kind": "photo", "title": "Crater near the market", **fields}
    if data is not None:
        form["file"] = (io.BytesIO(data), filename)
    return client.post(url, headers=headers, data=form, content_type="multipart/form-data")


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    return response.get_json()["error"]
