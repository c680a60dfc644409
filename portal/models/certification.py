"""Certification: each cohort's rule settings, the certificates issued (with their history:
a revoked certificate keeps its row, a reissue makes a new row and marks the old one
"replaced"), and each trainee's own choices (the name on the certificate, the celebration)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db
from portal.models.base import UTCDateTime, utcnow


class CertificationSettings(db.Model):
    """The rule's settings for one cohort (no row: the programme's defaults)."""

    __tablename__ = "certification_settings"
    __table_args__ = (
        CheckConstraint("min_weeks BETWEEN 0 AND 6", name="weeks_range"),
        CheckConstraint("min_hours BETWEEN 0 AND 12", name="hours_range"),
        CheckConstraint("pass_percent BETWEEN 1 AND 100", name="percent_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), unique=True)
    min_weeks: Mapped[int] = mapped_column(default=6)
    min_hours: Mapped[int] = mapped_column(default=0)
    required_competencies: Mapped[list] = mapped_column(JSON, default=lambda: list(range(1, 9)))
    pass_percent: Mapped[int] = mapped_column(default=80)
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CertificateStatus:
    VALID = "valid"
    REVOKED = "revoked"
    REPLACED = "replaced"


class Certificate(db.Model):
    """One certificate as printed. Never deleted nor edited after issue except its status:
    revoking sets revoked_*, reissuing adds a new row and points the old one at it."""

    __tablename__ = "certificates"
    __table_args__ = (
        CheckConstraint("status IN ('valid', 'revoked', 'replaced')", name="status_known"),
        # One valid certificate per person and cohort.
        Index(
            "uq_certificates_one_valid",
            "user_id",
            "cohort_id",
            unique=True,
            sqlite_where=text("status = 'valid'"),
            postgresql_where=text("status = 'valid'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # normalised: letters and digits only
    credential_uuid: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    programme: Mapped[str] = mapped_column(String(200))
    cohort_name: Mapped[str] = mapped_column(String(120))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: issued automatically
    status: Mapped[str] = mapped_column(String(10), default=CertificateStatus.VALID)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"))
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    holder = relationship("User", foreign_keys=[user_id])


class CertificationChoice(db.Model):
    """What the trainee chooses for their certificate of a cohort: the name printed on it,
    and whether (and with what short message) they appear on the cohort's celebration page."""

    __tablename__ = "certification_choices"
    __table_args__ = (UniqueConstraint("user_id", "cohort_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), index=True)
    certificate_name: Mapped[str | None] = mapped_column(String(200))
    celebrate: Mapped[bool] = mapped_column(Boolean, default=False)
    message: Mapped[str | None] = mapped_column(String(280))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
