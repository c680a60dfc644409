"""The Open Badges 3.0 credential: valid against 1EdTech's published JSON Schema
(tests/data/ob_v3p0_achievementcredential_schema.json, source in tests/data/README.md), signed
with a key published at /.well-known/jwks.json, broken by any change, still verifiable after a
key rotation, and its revocation visible to a verifier."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import jsonschema
import jwt
import pytest

from portal.certification import badge, certificates
from portal.extensions import db
from portal.models import Certificate
from tests.test_certification import Programme

SCHEMA = json.loads((Path(__file__).parent / "data" / "ob_v3p0_achievementcredential_schema.json").read_text())


@pytest.fixture
def keys(app, tmp_path):
    folder = tmp_path / "keys"
    before = app.config.get("CREDENTIAL_KEY_FOLDER")
    app.config["CREDENTIAL_KEY_FOLDER"] = str(folder)
    yield folder
    app.config["CREDENTIAL_KEY_FOLDER"] = before


@pytest.fixture
def certified(app, make_user, make_cohort):
    programme = Programme(app, make_user, make_cohort, n=1, key="badge")
    programme.complete(programme.trainees[0])
    with app.app_context():
        certificates.issue_due()
    return programme, programme.certificate_of(programme.trainees[0])


def download(client, auth, programme, cert) -> str:
    auth.login_as(programme.trainees[0])
    response = client.get(f"/certificates/{cert.id}/credential.jwt")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vc+jwt")
    return response.get_data(as_text=True)


def test_the_credential_validates_against_1edtechs_schema(app, client, auth, keys, certified):
    programme, cert = certified
    token = download(client, auth, programme, cert)
    payload = jwt.decode(token, options={"verify_signature": False})
    validator = jsonschema.Draft201909Validator(SCHEMA, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(payload), key=str)
    assert not errors, "\n".join(e.message for e in errors)
    assert payload["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert payload["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert payload["credentialSubject"]["achievement"]["criteria"]["narrative"]
    assert payload["credentialStatus"] == {"id": "http://localhost/credentials/revocations",
                                           "type": "1EdTechRevocationList"}
    identifier = payload["credentialSubject"]["identifier"][0]
    assert identifier["hashed"] is True
    assert identifier["identityHash"] == badge.identity_hash(programme.trainees[0].email, identifier["salt"])
    assert programme.trainees[0].email not in token and programme.trainees[0].email not in json.dumps(payload)
    # The control: the schema does refuse a credential without its subject.
    broken = {k: v for k, v in payload.items() if k != "credentialSubject"}
    assert list(validator.iter_errors(broken))


def test_the_signature_verifies_with_the_published_key_and_breaks_on_any_change(app, client, auth, keys, certified):
    programme, cert = certified
    token = download(client, auth, programme, cert)
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert jwks["keys"] and all("d" not in k for k in jwks["keys"]), "public keys only"
    payload = badge.verify(token, jwks)
    assert payload["id"] == f"urn:uuid:{cert.credential_uuid}"
    header, body, signature = token.split(".")
    changed = dict(payload, name="Certificate of something else")
    forged_body = base64.urlsafe_b64encode(json.dumps(changed).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        badge.verify(f"{header}.{forged_body}.{signature}", jwks)


def test_earlier_credentials_still_verify_after_a_new_key(app, client, auth, keys, certified):
    import time

    programme, cert = certified
    first = download(client, auth, programme, cert)
    time.sleep(1.1)  # key files are named by their creation time
    with app.app_context():
        badge._create(keys)
    second = download(client, auth, programme, cert)
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert len(jwks["keys"]) == 2
    assert jwt.get_unverified_header(first)["kid"] != jwt.get_unverified_header(second)["kid"]
    for token in (first, second):
        assert badge.verify(token, jwks)["id"] == f"urn:uuid:{cert.credential_uuid}"


def test_a_configured_key_file_signs(app, client, auth, keys, certified, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    programme, cert = certified
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "issuer.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    app.config["CREDENTIAL_KEY_FILE"] = str(path)
    try:
        token = download(client, auth, programme, cert)
        assert jwt.get_unverified_header(token)["kid"] == badge.public_jwk(key.public_key())["kid"]
        assert badge.verify(token, client.get("/.well-known/jwks.json").get_json())
    finally:
        app.config.pop("CREDENTIAL_KEY_FILE")
    assert not list(keys.glob("*.pem")), "no key made in the folder when one is configured"


def test_a_revoked_credential_is_on_the_revocation_list(app, client, auth, keys, certified):
    programme, cert = certified
    assert client.get("/credentials/revocations").get_json()["revokedCredentials"] == []
    auth.login_as(programme.ada)
    client.post(f"/certificates/{cert.id}/revoke", data={"revoke-reason": "Issued in error"})
    listed = client.get("/credentials/revocations").get_json()
    assert listed["revokedCredentials"] == [{"id": f"urn:uuid:{cert.credential_uuid}"}]
    assert "Issued in error" not in json.dumps(listed)
    with app.app_context():
        assert db.session.get(Certificate, cert.id).status == "revoked"
    auth.login_as(programme.trainees[0])
    assert client.get(f"/certificates/{cert.id}/credential.jwt").status_code == 404


def test_the_key_is_created_once_outside_the_database_and_private(app, keys):
    with app.app_context():
        first = badge.signing_key(keys)
        again = badge.signing_key(keys)
    assert badge.public_jwk(first.public_key()) == badge.public_jwk(again.public_key())
    [path] = keys.glob("*.pem")
    assert path.stat().st_mode & 0o077 == 0


def test_a_replaced_credential_is_on_the_revocation_list_and_its_successor_is_not(app, client, auth, keys, certified):
    programme, cert = certified
    auth.login_as(programme.ada)
    response = client.post(f"/certificates/{cert.id}/reissue",
                           data={"reissue-holder_name": "Tina Zero", "reissue-reason": "Name change"})
    assert response.status_code == 303
    new = programme.certificate_of(programme.trainees[0])
    listed = client.get("/credentials/revocations").get_json()["revokedCredentials"]
    assert listed == [{"id": f"urn:uuid:{cert.credential_uuid}"}]
    assert new.credential_uuid != cert.credential_uuid
