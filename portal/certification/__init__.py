"""Certification: the rule and "what's left" (`rule`, pure; `evidence` gathers what it reads
from the attendance, exams and assessment areas), certificates with codes anyone can verify
(`certificates`), the PDF (`pdf`), the Open Badges 3.0 credential and its keys (`badge`), the
celebration page, and the public /verify pages.

The blueprint of the area; `routes` registers on it, `tasks` issues due certificates."""

from flask import Blueprint

bp = Blueprint("certification", __name__)

from portal.certification import routes, tasks  # noqa: E402, F401


@bp.app_context_processor
def _certification_globals():
    from portal.certification.pages import status_of

    return {"certification_status_of": status_of}


@bp.app_template_filter("certificate_date")
def _certificate_date(value):
    from portal.certification.certificates import certificate_date

    return certificate_date(value)
