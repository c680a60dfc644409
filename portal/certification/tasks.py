"""The certification area's background work: issuing certificates that became due."""

from __future__ import annotations

from datetime import timedelta

from portal.certification import certificates
from portal.jobs import periodic


@periodic(timedelta(minutes=10), minute="*/10")
def issue_due_certificates() -> None:
    """Every ten minutes: in cohorts that issue automatically, issue the certificate of each
    enrolled trainee who now meets every requirement (audited as certificate.issued)."""
    certificates.issue_due()
