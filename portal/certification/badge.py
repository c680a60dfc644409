"""Open Badges 3.0: a certificate as an `OpenBadgeCredential`, signed as a VC-JWT (EdDSA,
Ed25519) with the issuer's key; the public keys at /.well-known/jwks.json.

Keys live in files, never in the database (so never in its dumps):
  * `CREDENTIAL_KEY_FILE` (config): a PEM Ed25519 private key the operator provides; it signs.
  * otherwise the newest `*.pem` of `<instance>/credential-keys/`, created on first use.
Every key in that folder (private `*.pem` or public-only `*.pub.pem`, kept after a rotation)
and the configured one are published, so credentials signed earlier still verify. A key's
`kid` is its RFC 7638 thumbprint.

No Flask requests here: callers pass the folder, the configured file and the site's base URL.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from portal.models import Certificate

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ALGORITHM = "EdDSA"
ISSUER_NAME = "Digital Peer Support Certification programme"
ACHIEVEMENT_CRITERIA = (
    "Attended the six weekly live sessions of the 12-hour programme (a missed week made up in the same week "
    "of another cohort), passed the group oral examination, scored at least the passing score on the 40-item "
    "written test, and had the required digital peer support competencies confirmed by a supervisor."
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_jwk(public: Ed25519PublicKey) -> dict:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    jwk = {"crv": "Ed25519", "kty": "OKP", "x": _b64(raw)}
    thumbprint = hashlib.sha256(json.dumps(jwk, separators=(",", ":"), sort_keys=True).encode()).digest()
    return {**jwk, "kid": _b64(thumbprint), "alg": ALGORITHM, "use": "sig"}


def _load_private(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def _create(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    from portal.models import utcnow

    path = folder / f"{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(4)}.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return path


def _private_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.pem") if not p.name.endswith(".pub.pem"))


def signing_key(folder: Path, configured: str | None = None) -> Ed25519PrivateKey:
    """The key that signs: the configured file, or the newest of the folder (made when none)."""
    if configured:
        return _load_private(Path(configured))
    files = _private_files(folder)
    return _load_private(files[-1] if files else _create(folder))


def published_keys(folder: Path, configured: str | None = None) -> dict:
    """The JWK Set: every key that signs or ever signed."""
    keys, seen = [], set()
    publics = []
    if configured:
        publics.append(_load_private(Path(configured)).public_key())
    publics += [_load_private(p).public_key() for p in _private_files(folder)]
    if folder.is_dir():
        for p in sorted(folder.glob("*.pub.pem")):
            key = serialization.load_pem_public_key(p.read_bytes())
            if isinstance(key, Ed25519PublicKey):
                publics.append(key)
    for public in publics:
        jwk = public_jwk(public)
        if jwk["kid"] not in seen:
            seen.add(jwk["kid"])
            keys.append(jwk)
    return {"keys": keys}


def identity_hash(email: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def _iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def credential(cert: Certificate, email: str, base_url: str) -> dict:
    """The OpenBadgeCredential of a certificate: the achievement is this certification; the
    recipient is identified by a salted hash of their email (not the email itself)."""
    base = base_url.rstrip("/")
    salt = hashlib.sha256(f"{cert.credential_uuid}:salt".encode()).hexdigest()[:16]
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": f"urn:uuid:{cert.credential_uuid}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": cert.programme,
        "issuer": {
            "id": f"{base}/",
            "type": ["Profile"],
            "name": ISSUER_NAME,
            "url": f"{base}/",
        },
        "validFrom": _iso(cert.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity_hash(email, salt),
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": salt,
                }
            ],
            "achievement": {
                "id": f"{base}/verify#digital-peer-support-certification",
                "type": ["Achievement"],
                "achievementType": "Certification",
                "name": cert.programme,
                "description": "Certification in digital peer support: supporting people over text, video, phone "
                "and games, safely and ethically.",
                "criteria": {"narrative": ACHIEVEMENT_CRITERIA},
                "creator": {"id": f"{base}/", "type": ["Profile"], "name": ISSUER_NAME},
            },
        },
        "evidence": [
            {
                "id": f"{base}/verify/{cert.code}",
                "type": ["Evidence"],
                "name": f"Certificate {cert.code}, {cert.holder_name}, {cert.cohort_name}",
            }
        ],
        "credentialStatus": {"id": f"{base}/credentials/revocations", "type": "1EdTechRevocationList"},
    }


def sign(payload: dict, key: Ed25519PrivateKey, base_url: str) -> str:
    """A VC-JWT: the credential is the payload, with the registered claims iss, jti, nbf."""
    from datetime import datetime

    claims = dict(payload)
    claims["iss"] = payload["issuer"]["id"]
    claims["jti"] = payload["id"]
    claims["nbf"] = int(datetime.fromisoformat(payload["validFrom"].replace("Z", "+00:00")).timestamp())
    jwk = public_jwk(key.public_key())
    # OB 3.0 VC-JWT: the credential's members are the payload (no "vc" wrapper); the header
    # names the key (kid, in /.well-known/jwks.json) and carries the public key itself (jwk).
    public = {k: jwk[k] for k in ("kty", "crv", "x")}
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": jwk["kid"], "typ": "vc+jwt", "jwk": public})


def verify(token: str, jwks: dict) -> dict:
    """The credential of a VC-JWT whose signature one of the published keys checks (raises
    jwt.InvalidTokenError otherwise)."""
    kid = jwt.get_unverified_header(token).get("kid")
    jwk = next((k for k in jwks["keys"] if k["kid"] == kid), None)
    if jwk is None:
        raise jwt.InvalidTokenError("unknown key")
    public = jwt.PyJWK(jwk).key
    return jwt.decode(token, public, algorithms=[ALGORITHM], options={"verify_aud": False})
