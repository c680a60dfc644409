"""Certificates: codes, issuing (automatically or on a facilitator's approval), revoking,
reissuing, looking a code up, the trainee's choices and the cohort's settings. No Flask here;
callers commit. Every issue, approval, revocation, reissue and settings change is audited.

Codes: 20 symbols from an alphabet of 23 letters and digits without look-alikes (no 0/O, 1/I/L,
2/Z, 5/S, 8/B, U/V), written in groups of four: 20 * log2(23) = 90 bits from `secrets`.
A code typed with any case, spaces or dashes is the same code (`normalise`).
"""

from __future__ import annotations

import functools
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Integer, bindparam
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.certification import evidence
from portal.certification.rule import Verdict
from portal.extensions import db
from portal.models import (
    Certificate,
    CertificateStatus,
    CertificationChoice,
    CertificationSettings,
    Cohort,
    CohortSession,
    CohortStatus,
    Enrollment,
    EnrollmentStatus,
    User,
    utcnow,
)

ALPHABET = "ACDEFGHJKMNPQRTWXY34679"
CODE_LENGTH = 20
GROUP = 4
PROGRAMME = "Digital Peer Support Certification (12-hour live programme)"


class CertificationError(ValueError):
    """Refused; the message is for people."""


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise(typed: str | None) -> str:
    """Upper case, without spaces, dashes or other separators."""
    return re.sub(r"[^A-Z0-9]", "", (typed or "").upper())[:64]


def certificate_date(value: datetime | None) -> str:
    """A certificate's dates (issued, revoked, replaced) as one calendar date in UTC, the same on
    the page, the PDF and the verification page whoever reads them (no zone: it is a date)."""
    if value is None:
        return ""
    day = value.astimezone(UTC)
    return f"{day.day} {day:%B %Y}"


def display_code(code: str) -> str:
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


# --- the trainee's choices -----------------------------------------------------------------------


def choice_of(user_id: int, cohort_id: int) -> CertificationChoice | None:
    return db.session.execute(
        db.select(CertificationChoice).where(
            CertificationChoice.user_id == user_id, CertificationChoice.cohort_id == cohort_id
        )
    ).scalar_one_or_none()


def save_choice(user: User, cohort_id: int, certificate_name: str | None, celebrate: bool, message: str | None):
    """The name for a certificate not yet issued (after issue, an admin reissues), and the
    celebration opt-in (any time; opting out hides the person at once)."""
    row = choice_of(user.id, cohort_id)
    if row is None:
        row = CertificationChoice(user_id=user.id, cohort_id=cohort_id)
        db.session.add(row)
    if current_certificate(user.id, cohort_id) is None:
        row.certificate_name = certificate_name or None
    row.celebrate = bool(celebrate)
    row.message = (message or None) if celebrate else None
    row.updated_at = utcnow()
    db.session.flush()
    return row


def name_for(user: User, cohort_id: int) -> str:
    choice = choice_of(user.id, cohort_id)
    return (choice.certificate_name if choice and choice.certificate_name else None) or user.display_name


# --- reading -------------------------------------------------------------------------------------


def current_certificate(user_id: int, cohort_id: int) -> Certificate | None:
    return db.session.execute(
        _current_certificate_statement(), {"uid": user_id, "cohort_id": cohort_id}
    ).scalar_one_or_none()


@functools.cache
def _current_certificate_statement():
    """Built once (every trainee's dashboard asks): the person and the cohort are parameters."""
    return db.select(Certificate).where(
        Certificate.user_id == bindparam("uid", type_=Integer),
        Certificate.cohort_id == bindparam("cohort_id", type_=Integer),
        Certificate.status == CertificateStatus.VALID,
    )


def certificates_of(user_id: int) -> list[Certificate]:
    return list(
        db.session.execute(
            db.select(Certificate).where(Certificate.user_id == user_id).order_by(Certificate.issued_at.desc())
        ).scalars()
    )


def holds_certificate(user_id: int) -> bool:
    return (
        db.session.execute(
            db.select(Certificate.id)
            .where(Certificate.user_id == user_id, Certificate.status == CertificateStatus.VALID)
            .limit(1)
        ).first()
        is not None
    )


@dataclass(frozen=True)
class Lookup:
    """What /verify says about a code: the certificate's own printed fields, nothing else."""

    state: str  # valid, revoked, replaced, unknown
    code: str
    holder_name: str | None = None
    programme: str | None = None
    cohort_name: str | None = None
    issued_at: datetime | None = None
    revoked_at: datetime | None = None
    replaced_at: datetime | None = None


def lookup(typed: str | None) -> Lookup:
    """One indexed query whatever the code (known or not): the answer takes the same path."""
    code = normalise(typed)
    row = db.session.execute(
        db.select(
            Certificate.status,
            Certificate.holder_name,
            Certificate.programme,
            Certificate.cohort_name,
            Certificate.issued_at,
            Certificate.revoked_at,
            Certificate.replaced_at,
        ).where(Certificate.code == (code if len(code) == CODE_LENGTH else "-"))
    ).first()
    if row is None:
        return Lookup("unknown", code)
    return Lookup(
        row.status,
        code,
        row.holder_name,
        row.programme,
        row.cohort_name,
        row.issued_at,
        row.revoked_at,
        row.replaced_at,
    )


# --- issuing -------------------------------------------------------------------------------------


def _enrolled(user_id: int, cohort_id: int) -> bool:
    return (
        db.session.execute(
            db.select(Enrollment.id).where(
                Enrollment.user_id == user_id,
                Enrollment.cohort_id == cohort_id,
                Enrollment.status == EnrollmentStatus.ENROLLED.value,
            )
        ).first()
        is not None
    )


def _new_certificate(user: User, cohort: Cohort, name: str, by: User | None, replaces: Certificate | None = None):
    for _ in range(5):  # a clash of 90-bit codes will not happen; if it does, draw again
        cert = Certificate(
            code=new_code(),
            credential_uuid=str(uuid.uuid4()),
            user_id=user.id,
            cohort_id=cohort.id,
            holder_name=name,
            programme=PROGRAMME,
            cohort_name=cohort.name,
            issued_at=utcnow(),
            issued_by_id=by.id if by is not None else None,
            status=CertificateStatus.VALID,
            replaces_id=replaces.id if replaces is not None else None,
        )
        try:
            with db.session.begin_nested():
                db.session.add(cert)
        except IntegrityError:
            if current_certificate(user.id, cohort.id) is not None:
                raise CertificationError(f"{user.display_name} already holds a certificate of this cohort.") from None
            continue
        return cert
    raise CertificationError("Could not draw a free code: try again.")


def issue(user: User, cohort: Cohort, by: User | None = None, verdict: Verdict | None = None) -> Certificate:
    """Issue when every requirement is met. `by` None: issued automatically (the cohort does not
    need approval); otherwise `by` is the facilitator or admin approving it."""
    if not _enrolled(user.id, cohort.id):
        raise CertificationError(f"{user.display_name} is not enrolled in {cohort.name}.")
    existing = current_certificate(user.id, cohort.id)
    if existing is not None:
        raise CertificationError(f"{user.display_name} already holds a certificate of this cohort.")
    if any_certificate(user.id, cohort.id):
        # Revoked stays revoked: only an admin's decision (a reissue) brings a certificate back.
        raise CertificationError(f"{user.display_name}'s certificate of this cohort was revoked.")
    verdict = verdict or evidence.verdict_for(user.id, cohort.id)
    if not verdict.certified:
        raise CertificationError(f"{user.display_name} does not meet every requirement yet.")
    if by is None and evidence.settings_for(cohort.id).needs_approval:
        raise CertificationError("This cohort's certificates are issued when a facilitator approves them.")
    cert = _new_certificate(user, cohort, name_for(user, cohort.id), by)
    audit.record(
        by,
        "certificate.approved" if by is not None else "certificate.issued",
        cert,
        user_id=user.id,
        cohort_id=cohort.id,
        code=cert.code,
    )
    _tell_holder(user, cert)
    return cert


def _tell_holder(user: User, cert: Certificate) -> None:
    from portal import mail
    from portal.web import external_url  # links in a mail: the one place this module meets Flask

    mail.send(
        user.email,
        "You are certified in digital peer support",
        "mail/certificate_issued.txt",
        user=user,
        cert=cert,
        code=display_code(cert.code),
        link=external_url("certification.certificate", certificate_id=cert.id),
        verify=external_url("certification.verify", code=cert.code),
    )


def any_certificate(user_id: int, cohort_id: int) -> bool:
    """Was a certificate of this cohort ever issued to the person (valid, replaced or revoked)?"""
    return (
        db.session.execute(
            db.select(Certificate.id).where(Certificate.user_id == user_id, Certificate.cohort_id == cohort_id).limit(1)
        ).first()
        is not None
    )


def ready_for_approval(cohort_id: int) -> list[int]:
    """Trainee ids of the cohort who meet every requirement and were never issued a
    certificate of it (a revoked one is not issued again by itself)."""
    issued = set(db.session.execute(db.select(Certificate.user_id).where(Certificate.cohort_id == cohort_id)).scalars())
    return [uid for uid, verdict in cohort_verdicts(cohort_id).items() if verdict.certified and uid not in issued]


def cohort_verdicts(cohort_id: int) -> dict[int, Verdict]:
    ids = list(
        db.session.execute(
            db.select(Enrollment.user_id).where(
                Enrollment.cohort_id == cohort_id, Enrollment.status == EnrollmentStatus.ENROLLED.value
            )
        ).scalars()
    )
    return {uid: evidence.verdict_for(uid, cohort_id) for uid in ids}


def issue_due(now: datetime | None = None) -> int:
    """The job: issue every certificate now due in cohorts that issue automatically (not
    archived, week 6 reached). Returns how many were issued; commits."""
    now = now or utcnow()
    approval = db.select(CertificationSettings.cohort_id).where(CertificationSettings.needs_approval.is_(True))
    week_six_started = db.select(CohortSession.cohort_id).where(CohortSession.week == 6, CohortSession.starts_at <= now)
    cohorts = db.session.execute(
        db.select(Cohort).where(
            Cohort.status != CohortStatus.ARCHIVED.value, Cohort.id.not_in(approval), Cohort.id.in_(week_six_started)
        )
    ).scalars()
    issued = 0
    for cohort in list(cohorts):
        for uid in ready_for_approval(cohort.id):
            user = db.session.get(User, uid)
            if user.deactivated_at is not None:
                continue
            try:
                issue(user, cohort)
            except CertificationError:
                continue
            issued += 1
    db.session.commit()
    return issued


# --- revoking and reissuing ----------------------------------------------------------------------


def revoke(cert: Certificate, reason: str, by: User) -> Certificate:
    if cert.status != CertificateStatus.VALID:
        raise CertificationError("Only a valid certificate can be revoked.")
    if not (reason or "").strip():
        raise CertificationError("Give the reason for revoking.")
    cert.status, cert.revoked_at, cert.revoked_reason, cert.revoked_by_id = (
        CertificateStatus.REVOKED,
        utcnow(),
        reason.strip(),
        by.id,
    )
    db.session.flush()
    audit.record(
        by,
        "certificate.revoked",
        cert,
        user_id=cert.user_id,
        cohort_id=cert.cohort_id,
        code=cert.code,
        reason=reason.strip(),
    )
    _tell_of_change(cert, None, reason.strip())
    return cert


def reissue(cert: Certificate, holder_name: str, reason: str, by: User) -> Certificate:
    """A new certificate (new code) with the corrected name; the old code then says replaced."""
    if cert.status != CertificateStatus.VALID:
        raise CertificationError("Only a valid certificate can be reissued.")
    if not (holder_name or "").strip() or not (reason or "").strip():
        raise CertificationError("Give the name to print and the reason for reissuing.")
    cert.status, cert.replaced_at = CertificateStatus.REPLACED, utcnow()
    db.session.flush()
    user, cohort = db.session.get(User, cert.user_id), db.session.get(Cohort, cert.cohort_id)
    new = _new_certificate(user, cohort, holder_name.strip(), by, replaces=cert)
    new.issued_at = utcnow()
    cert.replaced_by_id = new.id
    choice = choice_of(user.id, cohort.id) or CertificationChoice(user_id=user.id, cohort_id=cohort.id)
    choice.certificate_name = holder_name.strip()
    db.session.add(choice)
    db.session.flush()
    audit.record(
        by,
        "certificate.reissued",
        new,
        user_id=cert.user_id,
        cohort_id=cert.cohort_id,
        replaces=cert.id,
        old_code=cert.code,
        code=new.code,
        reason=reason.strip(),
    )
    _tell_of_change(cert, new, reason.strip())
    return new


def _tell_of_change(cert: Certificate, new: Certificate | None, reason: str) -> None:
    """Mail the holder that their certificate was reissued (`new`) or revoked (no `new`)."""
    from portal import mail
    from portal.web import external_url

    user = db.session.get(User, cert.user_id)
    if new is not None:
        mail.send(
            user.email,
            "Your certificate has been reissued",
            "mail/certificate_changed.txt",
            user=user,
            cert=cert,
            new=new,
            reason=reason,
            code=display_code(new.code),
            link=external_url("certification.certificate", certificate_id=new.id),
            verify=external_url("certification.verify", code=new.code),
        )
    else:
        mail.send(
            user.email,
            "Your certificate has been revoked",
            "mail/certificate_changed.txt",
            user=user,
            cert=cert,
            new=None,
            reason=reason,
            code=display_code(cert.code),
        )


# --- settings -----------------------------------------------------------------------------------


def settings_row(cohort_id: int) -> CertificationSettings:
    row = db.session.execute(
        db.select(CertificationSettings).where(CertificationSettings.cohort_id == cohort_id)
    ).scalar_one_or_none()
    return row or CertificationSettings(
        cohort_id=cohort_id,
        min_weeks=6,
        min_hours=0,
        required_competencies=list(range(1, 9)),
        pass_percent=80,
        needs_approval=False,
    )


def change_settings(
    cohort: Cohort,
    by: User,
    *,
    min_weeks: int,
    min_hours: int,
    required: list[int],
    pass_percent: int,
    needs_approval: bool,
) -> bool:
    """Only for cohorts not yet completed; audited with what changed. True when something did."""
    if cohort.current_status() in (CohortStatus.COMPLETED, CohortStatus.ARCHIVED):
        raise CertificationError("This cohort is completed: its rule can no longer change.")
    row = settings_row(cohort.id)
    new = {
        "min_weeks": min_weeks,
        "min_hours": min_hours,
        "required_competencies": sorted(set(required)),
        "pass_percent": pass_percent,
        "needs_approval": bool(needs_approval),
    }
    old = {k: getattr(row, k) for k in new}
    old["required_competencies"] = sorted(int(n) for n in old["required_competencies"] or [])
    changed = {k: [old[k], v] for k, v in new.items() if old[k] != v}
    if not changed and row.id is not None:
        return False
    for k, v in new.items():
        setattr(row, k, v)
    row.updated_at, row.updated_by_id = utcnow(), by.id
    db.session.add(row)
    db.session.flush()
    audit.record(by, "certification.settings_changed", cohort, changes=changed)
    return True


# --- celebration ---------------------------------------------------------------------------------


def celebrants(cohort_id: int) -> list[tuple[str, str | None]]:
    """(name, message) of the cohort's certified graduates who opted in, by name."""
    rows = db.session.execute(
        db.select(Certificate.holder_name, CertificationChoice.message)
        .join(
            CertificationChoice,
            (CertificationChoice.user_id == Certificate.user_id)
            & (CertificationChoice.cohort_id == Certificate.cohort_id),
        )
        .where(
            Certificate.cohort_id == cohort_id,
            Certificate.status == CertificateStatus.VALID,
            CertificationChoice.celebrate.is_(True),
        )
        .order_by(Certificate.holder_name)
    ).all()
    return [(r.holder_name, r.message) for r in rows]
