"""Certification pages: the trainee's own (what's left, choices, certificates), a certificate
(printable page, PDF, Open Badges credential), admin revoke/reissue, the facilitator's cohort
page (approve), the admin's rule settings, the celebration page and public verification."""

from __future__ import annotations

import time

from flask import abort, current_app, jsonify, make_response, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from portal.authz import current_enrollment, require
from portal.certification import badge, bp, certificates, evidence
from portal.certification import pdf as certificate_pdf
from portal.certification.certificates import CertificationError, display_code
from portal.certification.forms import ApproveForm, ChoiceForm, ReissueForm, RevokeForm, SettingsForm, VerifyForm
from portal.certification.pages import key_folder, whats_left_links
from portal.extensions import db, limiter
from portal.models import Certificate, CertificateStatus, Cohort, Enrollment, EnrollmentStatus, User
from portal.web import get_or_404, redirect_to, render_page, say_here


def _private(response, *, store: bool = False):
    response.headers["Cache-Control"] = "private, no-store" if not store else "private, max-age=0"
    return response


# --- the trainee's own page ---------------------------------------------------------------------


@bp.get("/certification")
@login_required
def mine():
    require("own_certification")
    return _mine_page()


def _mine_page(form=None, status=200):
    enrollment = current_enrollment(current_user)
    verdict = cert = choice = None
    if enrollment is not None:
        verdict = evidence.verdict_for(current_user.id, enrollment.cohort_id)
        cert = certificates.current_certificate(current_user.id, enrollment.cohort_id)
        choice = certificates.choice_of(current_user.id, enrollment.cohort_id)
    if form is None:
        form = ChoiceForm(formdata=None, obj=choice) if choice else ChoiceForm(formdata=None)
    return _private(
        render_page(
            "certification/mine.html",
            enrollment=enrollment,
            verdict=verdict,
            certificate=cert,
            history=certificates.certificates_of(current_user.id),
            form=form,
            links=whats_left_links("self", enrollment.cohort_id if enrollment else None, current_user.id),
            needs_approval=evidence.settings_for(enrollment.cohort_id).needs_approval if enrollment else False,
            status=status,
        )
    )


@bp.post("/certification/<int:cohort_id>/choices")
@login_required
def choices(cohort_id: int):
    cohort = get_or_404(Cohort, cohort_id)
    require("certification_choices", cohort)
    form = ChoiceForm()
    if not form.validate_on_submit():
        return _mine_page(form, 422)
    certificates.save_choice(
        current_user,
        cohort.id,
        (form.certificate_name.data or "").strip() or None,
        form.celebrate.data,
        (form.message.data or "").strip() or None,
    )
    db.session.commit()
    say_here("choices", "Your choices are saved.")
    return redirect_to(url_for("certification.mine", _anchor="choices"))


# --- a certificate ------------------------------------------------------------------------------


def _certificate(certificate_id: int, action: str = "view_certificate") -> Certificate:
    cert = get_or_404(Certificate, certificate_id)
    require(action, cert)
    return cert


def verify_url(cert: Certificate) -> str:
    from portal.web import external_url

    return external_url("certification.verify", code=cert.code)


@bp.get("/certificates/<int:certificate_id>")
@login_required
def certificate(certificate_id: int):
    cert = _certificate(certificate_id)
    return _certificate_page(cert)


def _certificate_page(cert, revoke_form=None, reissue_form=None, status=200):
    return _private(
        render_page(
            "certification/certificate.html",
            cert=cert,
            code=display_code(cert.code),
            verify_link=verify_url(cert),
            replaced_by=db.session.get(Certificate, cert.replaced_by_id) if cert.replaced_by_id else None,
            revoke_form=revoke_form or RevokeForm(formdata=None, prefix="revoke"),
            reissue_form=reissue_form or ReissueForm(formdata=None, prefix="reissue", holder_name=cert.holder_name),
            status=status,
        )
    )


@bp.get("/certificates/<int:certificate_id>/certificate.pdf")
@login_required
def pdf(certificate_id: int):
    cert = _certificate(certificate_id)
    if cert.status != CertificateStatus.VALID:
        abort(404)
    response = make_response(certificate_pdf.render(cert, verify_url(cert)))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="certificate-{cert.code}.pdf"'
    return _private(response)


@bp.get("/certificates/<int:certificate_id>/credential.jwt")
@login_required
def credential(certificate_id: int):
    """The Open Badges 3.0 credential, signed (VC-JWT), for a digital wallet."""
    cert = _certificate(certificate_id)
    if cert.status != CertificateStatus.VALID:
        abort(404)
    holder = db.session.get(User, cert.user_id)
    base = current_app.config["PUBLIC_BASE_URL"]
    token = badge.sign(
        badge.credential(cert, holder.email, base),
        badge.signing_key(key_folder(), current_app.config.get("CREDENTIAL_KEY_FILE")),
        base,
    )
    response = make_response(token)
    response.headers["Content-Type"] = "application/vc+jwt"
    response.headers["Content-Disposition"] = f'attachment; filename="open-badge-{cert.code}.jwt"'
    return _private(response)


@bp.post("/certificates/<int:certificate_id>/revoke")
@login_required
def revoke(certificate_id: int):
    cert = _certificate(certificate_id, "manage_certificate")
    form = RevokeForm(prefix="revoke")
    if not form.validate_on_submit():
        return _certificate_page(cert, revoke_form=form, status=422)
    try:
        certificates.revoke(cert, form.reason.data, current_user)
    except CertificationError as error:
        form.reason.errors.append(str(error))
        return _certificate_page(cert, revoke_form=form, status=422)
    db.session.commit()
    say_here("revoke", "The certificate is revoked: its code now says so.")
    return redirect_to(url_for("certification.certificate", certificate_id=cert.id, _anchor="revoke"))


@bp.post("/certificates/<int:certificate_id>/reissue")
@login_required
def reissue(certificate_id: int):
    cert = _certificate(certificate_id, "manage_certificate")
    form = ReissueForm(prefix="reissue")
    if not form.validate_on_submit():
        return _certificate_page(cert, reissue_form=form, status=422)
    try:
        new = certificates.reissue(cert, form.holder_name.data, form.reason.data, current_user)
    except CertificationError as error:
        form.reason.errors.append(str(error))
        return _certificate_page(cert, reissue_form=form, status=422)
    db.session.commit()
    say_here("certificate", "Reissued: this is the new certificate; the old code now says replaced.")
    return redirect_to(url_for("certification.certificate", certificate_id=new.id, _anchor="certificate"))


# --- a cohort: facilitators and admins ------------------------------------------------------------


def _cohort(cohort_id: int, action: str) -> Cohort:
    cohort = get_or_404(Cohort, cohort_id)
    require(action, cohort)
    return cohort


@bp.get("/cohorts/<int:cohort_id>/certification")
@login_required
def cohort_page(cohort_id: int):
    cohort = _cohort(cohort_id, "view_cohort_certification")
    verdicts = certificates.cohort_verdicts(cohort.id)
    people = (
        {u.id: u for u in db.session.execute(db.select(User).where(User.id.in_(list(verdicts)))).scalars()}
        if verdicts
        else {}
    )
    held = {
        c.user_id: c
        for c in db.session.execute(
            db.select(Certificate).where(
                Certificate.cohort_id == cohort.id, Certificate.status == CertificateStatus.VALID
            )
        ).scalars()
    }
    rows = sorted(verdicts.items(), key=lambda kv: (people[kv[0]].display_name, kv[0]))
    return _private(
        render_page(
            "certification/cohort.html",
            cohort=cohort,
            rows=[(people[uid], verdict, held.get(uid)) for uid, verdict in rows],
            settings=evidence.settings_for(cohort.id),
            links={uid: whats_left_links("facilitator", cohort.id, uid) for uid in verdicts},
            form=ApproveForm(formdata=None),
        )
    )


@bp.post("/cohorts/<int:cohort_id>/certification/<int:trainee_id>/approve")
@login_required
def approve(cohort_id: int, trainee_id: int):
    cohort = get_or_404(Cohort, cohort_id)
    trainee = get_or_404(User, trainee_id)
    require("approve_certificate", (cohort, trainee))
    enrolled = db.session.execute(
        db.select(Enrollment.id).where(
            Enrollment.cohort_id == cohort.id,
            Enrollment.user_id == trainee.id,
            Enrollment.status == EnrollmentStatus.ENROLLED.value,
        )
    ).first()
    if enrolled is None:
        abort(404)
    form = ApproveForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        certificates.issue(trainee, cohort, by=current_user)
    except CertificationError as error:
        say_here(f"trainee-{trainee.id}", str(error), "error")
    else:
        db.session.commit()
        say_here(f"trainee-{trainee.id}", f"Certificate issued to {trainee.display_name}.")
    return redirect_to(url_for("certification.cohort_page", cohort_id=cohort.id, _anchor=f"trainee-{trainee.id}"))


@bp.route("/cohorts/<int:cohort_id>/certification/settings", methods=["GET", "POST"])
@login_required
def settings(cohort_id: int):
    cohort = _cohort(cohort_id, "certification_settings")
    row = certificates.settings_row(cohort.id)
    if request.method == "GET":
        form = SettingsForm(formdata=None, obj=row)
        form.required.data = [str(n) for n in row.required_competencies or []]
    else:
        form = SettingsForm()
    if form.validate_on_submit():
        try:
            changed = certificates.change_settings(
                cohort,
                current_user,
                min_weeks=form.min_weeks.data,
                min_hours=form.min_hours.data,
                required=[int(n) for n in form.required.data or []],
                pass_percent=form.pass_percent.data,
                needs_approval=form.needs_approval.data,
            )
        except CertificationError as error:
            say_here("settings", str(error), "error")
        else:
            db.session.commit()
            say_here("settings", "The rule is changed for this cohort." if changed else "Nothing changed.")
            return redirect_to(url_for("certification.settings", cohort_id=cohort.id, _anchor="settings"))
    status = 422 if request.method == "POST" else 200
    return render_page(
        "certification/settings.html",
        cohort=cohort,
        form=form,
        completed=cohort.current_status().value in ("completed", "archived"),
        status=status,
    )


@bp.get("/cohorts/<int:cohort_id>/celebration")
@login_required
def celebration(cohort_id: int):
    cohort = _cohort(cohort_id, "view_celebration")
    return _private(
        render_page("certification/celebration.html", cohort=cohort, graduates=certificates.celebrants(cohort.id))
    )


# --- public verification -----------------------------------------------------------------------------


def _verify_limit() -> str:
    return current_app.config.get("VERIFY_LIMIT_PER_ADDRESS", "30 per 10 minutes")


MIN_SECONDS = 0.15  # every answer takes at least this long: known and unknown codes alike


def _steady(started: float) -> None:
    left = MIN_SECONDS - (time.perf_counter() - started)
    if left > 0:
        time.sleep(left)


@bp.get("/verify")
@limiter.limit(_verify_limit, key_func=get_remote_address, scope="verify")
def verify_form():
    """Public: a form (GET, no account). With ?code= it sends the person to /verify/<code>."""
    form = VerifyForm(request.args)
    if request.args and form.validate():
        return redirect_to(url_for("certification.verify", code=certificates.normalise(form.code.data)))
    status = 422 if request.args and form.errors else 200
    return _private(render_page("certification/verify.html", form=form, result=None, status=status))


@bp.get("/verify/<code>")
@limiter.limit(_verify_limit, key_func=get_remote_address, scope="verify")
def verify(code: str):
    started = time.perf_counter()
    result = certificates.lookup(code)
    _steady(started)
    form = VerifyForm(formdata=None, code=display_code(result.code) if result.code else "")
    response = render_page("certification/verify.html", form=form, result=result, shown=display_code(result.code))
    return _private(response)


@bp.get("/.well-known/jwks.json")
def jwks():
    """Public: the keys that verify the Open Badges credentials (current and earlier)."""
    response = jsonify(badge.published_keys(key_folder(), current_app.config.get("CREDENTIAL_KEY_FILE")))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/credentials/revocations")
def revocations():
    """Public: the 1EdTech revocation list the credentials' credentialStatus points at (only
    the opaque ids of credentials no longer valid, no names, no reasons): revoked ones, and
    replaced ones (a reissue makes a new credential; the old one must not still verify)."""
    ids = db.session.execute(
        db.select(Certificate.credential_uuid)
        .where(Certificate.status.in_([CertificateStatus.REVOKED, CertificateStatus.REPLACED]))
        .order_by(Certificate.id)
    ).scalars()
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    response = jsonify(
        {"id": f"{base}/credentials/revocations", "revokedCredentials": [{"id": f"urn:uuid:{i}"} for i in ids]}
    )
    response.headers["Cache-Control"] = "no-cache"
    return response
