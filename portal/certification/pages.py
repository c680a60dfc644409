"""What the certification pages share: where each missing item is resolved, for whoever looks,
and the folder of the signing keys."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, url_for


def key_folder() -> Path:
    return Path(current_app.config.get("CREDENTIAL_KEY_FOLDER") or Path(current_app.instance_path) / "credential-keys")


def whats_left_links(viewer: str, cohort_id: int | None, trainee_id: int) -> dict[str, str]:
    """`where` of a rule item -> the page that resolves it, for the trainee themselves
    ("self"), the cohort's facilitators ("facilitator") or the trainee's supervisor."""
    if cohort_id is None:
        return {}
    if viewer == "self":
        return {
            "attendance": url_for("attendance.progress", _anchor="makeups"),
            "oral_exam": url_for("assessment.mine"),
            "written_test": url_for("exams.index"),
            "competencies": url_for("assessment.mine"),
        }
    if viewer == "facilitator":
        return {
            "attendance": url_for("cohorts.show", cohort_id=cohort_id),
            "oral_exam": url_for("assessment.cohort_assessment", cohort_id=cohort_id),
            "written_test": url_for("exams.open_test", cohort_id=cohort_id),
            "competencies": url_for("assessment.cohort_assessment", cohort_id=cohort_id),
        }
    if viewer == "supervisor":
        return {"competencies": url_for("assessment.supervisee", trainee_id=trainee_id)}
    return {}


_UNKNOWN = object()


def status_of(person, cohort=_UNKNOWN, hours_summary=None) -> dict | None:
    """The "what's left" of a person in their current cohort, for the include
    certification/_whats_left.html (a template global): cohort, verdict, certificate, links,
    needs_approval. None when the person has no current cohort. The one who looks must be
    allowed to see the person's progress (the pages that include it check that).
    A page that knows the person's current cohort (with its sessions) and their hours in it
    passes them (the trainee's dashboard), else they are read here."""
    from flask_login import current_user

    from portal.authz import current_cohort, current_places, facilitates, is_admin
    from portal.certification import certificates, evidence
    from portal.certification.rule import decide

    if cohort is _UNKNOWN:
        cohort = current_cohort(current_places(person))
    if cohort is None:
        return None
    from portal.assessment.competencies import supervises

    if current_user.id == person.id:
        viewer = "self"
    elif is_admin(current_user) or facilitates(current_user, cohort):
        viewer = "facilitator"
    elif supervises(current_user.id, person.id):
        viewer = "supervisor"
    else:
        viewer = "other"  # e.g. a facilitator of another cohort of theirs: no links
    settings = evidence.settings_for(cohort.id)
    found = evidence.evidence_for(person.id, cohort.id, summary=hours_summary, cohort=cohort)
    return {
        "cohort": cohort,
        "verdict": decide(found, settings),
        "certificate": certificates.current_certificate(person.id, cohort.id),
        "links": whats_left_links(viewer, cohort.id, person.id),
        "needs_approval": settings.needs_approval,
        "viewer": viewer,
    }
