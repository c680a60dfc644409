"""Pairing into dyads: even and odd rosters, workplaces apart, swap, lock, repair."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from portal.cohorts.pairing import pair, repair
from portal.extensions import db
from portal.models import Dyad, DyadMember, Role
from tests.conftest import text_of


def _people(n, workplaces=None):
    return [(i, workplaces[i % len(workplaces)] if workplaces else None) for i in range(1, n + 1)]


@pytest.mark.parametrize("n", [2, 4, 6, 12, 40])
def test_an_even_roster_makes_pairs_only(n):
    groups = pair(_people(n), keep_workplaces_apart=False, rng=random.Random(n))
    assert sorted(len(g) for g in groups) == [2] * (n // 2)
    assert sorted(i for g in groups for i in g) == list(range(1, n + 1))


@pytest.mark.parametrize("n", [3, 5, 7, 13])
def test_an_odd_roster_gets_exactly_one_triad(n):
    groups = pair(_people(n), keep_workplaces_apart=True, rng=random.Random(n))
    assert Counter(len(g) for g in groups) == Counter({2: (n - 3) // 2, 3: 1})
    assert sorted(i for g in groups for i in g) == list(range(1, n + 1))


@pytest.mark.parametrize("seed", range(10))
def test_people_from_the_same_workplace_are_kept_apart(seed):
    people = _people(12, ["North", "South", "East", "North", "South", "West"])
    place = dict(people)
    groups = pair(people, keep_workplaces_apart=True, rng=random.Random(seed))
    assert all(len({place[i] for i in g}) == len(g) for g in groups)


def test_a_large_workplace_is_spread_as_far_as_it_can_be():
    people = [(i, "Big") for i in range(1, 7)] + [(i, f"Small {i}") for i in range(7, 11)]
    place = dict(people)
    groups = pair(people, keep_workplaces_apart=True, rng=random.Random(1))
    same = sum(1 for g in groups if len({place[i] for i in g}) < len(g))
    assert same == 1  # six from one workplace among ten: only one pair can't be mixed


def test_repair_keeps_intact_pairs_and_pairs_the_people_left_alone():
    groups = [[1, 2], [3, 4], [5, 6], [7, 8, 9]]
    # 2 and 4 withdrew; 10 arrived late.
    active = [(i, None) for i in (1, 3, 5, 6, 7, 8, 9, 10)]
    kept, new = repair(groups, active, rng=random.Random(3))
    assert sorted(map(sorted, kept)) == [[5, 6], [7, 8, 9]]
    assert sorted(i for g in new for i in g) == [1, 3, 10]
    assert len(new) == 1 and len(new[0]) == 3


def test_repair_puts_a_single_person_into_a_pair():
    kept, new = repair([[1, 2], [3, 4]], [(1, None), (3, None), (4, None)], rng=random.Random(1))
    assert kept == [] and sorted(new[0]) == [1, 3, 4]


def _dyads(app, cohort_id):
    with app.app_context():
        dyads = (
            db.session.execute(db.select(Dyad).where(Dyad.cohort_id == cohort_id, Dyad.dissolved_at.is_(None)))
            .scalars()
            .all()
        )
        return sorted(sorted(m.user_id for m in d.current_members) for d in dyads)


def test_facilitator_pairs_swaps_and_locks(app, client, auth, make_user, make_cohort, hx):
    fran = make_user(roles=[Role.FACILITATOR])
    people = [make_user(name=f"P{n}", organisation=f"Org {n % 2}") for n in range(5)]
    cohort = make_cohort(facilitators=[fran], trainees=people)
    auth.login_as(fran)
    response = client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "workplaces"}, headers=hx)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="dyads"') and "2 pairs formed (one is a group of three)" in html
    groups = _dyads(app, cohort.id)
    assert sorted(len(g) for g in groups) == [2, 3]
    a = groups[0][0]
    b = groups[1][0]
    swapped = client.post(f"/cohorts/{cohort.id}/dyads/swap", data={"first": a, "second": b}, headers=hx)
    assert "The two people swapped places" in swapped.get_data(as_text=True)
    after = _dyads(app, cohort.id)
    assert any(b in g and set(g) - {b} == set(groups[0]) - {a} for g in after)
    # Swapping formed new dyads; the old ones are kept, dissolved.
    with app.app_context():
        assert (
            db.session.execute(db.select(db.func.count(Dyad.id)).where(Dyad.dissolved_at.is_not(None))).scalar_one()
            == 2
        )
    client.post(f"/cohorts/{cohort.id}/dyads/lock", data={"locked": "yes"}, headers=hx)
    refused = client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"}, headers=hx)
    assert "The pairs are locked" in refused.get_data(as_text=True)
    assert _dyads(app, cohort.id) == after


def test_pairing_works_without_javascript(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    cohort = make_cohort(facilitators=[fran], trainees=[make_user() for _ in range(4)])
    auth.login_as(fran)
    response = client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#dyads-message")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    # The message is in the pairs section, at the anchor the redirect names.
    assert re.search(r'id="dyads-message"[^>]*>\s*<p class="flash flash-success" role="status">2 pairs formed\.', html)


def test_withdrawal_then_repair_keeps_the_other_pairs(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    people = [make_user(name=f"P{n}") for n in range(6)]
    cohort = make_cohort(facilitators=[fran], trainees=people)
    auth.login_as(fran)
    client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"})
    before = _dyads(app, cohort.id)
    leaving = before[0][0]
    enrollment = cohort.enrollment_ids[[p.id for p in people].index(leaving)]
    client.post(f"/cohorts/{cohort.id}/roster/{enrollment}/withdraw", data={"reason": "new job"})
    assert "needs a partner" in text_of(client.get(f"/cohorts/{cohort.id}"))
    client.post(f"/cohorts/{cohort.id}/dyads/repair")
    after = _dyads(app, cohort.id)
    assert before[1] in after or before[2] in after  # other pairs kept
    assert sum(len(g) for g in after) == 5 and all(leaving not in g for g in after)
    assert sorted(len(g) for g in after) == [2, 3]


def test_a_trainee_sees_their_partner(app, client, auth, make_user, make_cohort):
    fran = make_user(roles=[Role.FACILITATOR])
    ana, ben = make_user(name="Ana"), make_user(name="Ben")
    cohort = make_cohort(facilitators=[fran], trainees=[ana, ben])
    auth.login_as(fran)
    client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"})
    auth.login_as(ana)
    assert "Your practice partner Ben" in text_of(client.get("/dashboard/trainee"))
    assert "You practise with Ben" in text_of(client.get(f"/cohorts/{cohort.id}"))
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(DyadMember.id))).scalar_one() == 2


def test_only_dyad_members_and_their_facilitators_may_read_its_private_thread(app, client, auth, make_user, make_cohort):
    from portal.authz import can
    from portal.models import User

    fran = make_user(roles=[Role.FACILITATOR])
    ana, ben, cal, dee = (make_user(name=n) for n in ("Ana", "Ben", "Cal", "Dee"))
    cohort = make_cohort(facilitators=[fran], trainees=[ana, ben, cal, dee])
    auth.login_as(fran)
    client.post(f"/cohorts/{cohort.id}/dyads/pair", data={"mode": "random"})
    with app.app_context():
        dyads = db.session.execute(db.select(Dyad).where(Dyad.cohort_id == cohort.id)).scalars().all()
        for dyad in dyads:
            inside = {m.user_id for m in dyad.members}
            for person in (ana, ben, cal, dee, fran):
                user = db.session.get(User, person.id)
                # The boards issue: the cohort's facilitators read (and moderate) dyad threads.
                assert can(user, "view_dyad", dyad) == (person.id in inside or person is fran)


def test_a_deactivated_account_gets_no_partner(app, make_user, make_cohort):
    from portal.cohorts import dyads
    from portal.extensions import db
    from portal.models import Dyad, DyadMember, Role, User, utcnow

    admin = make_user(roles=[Role.ADMIN])
    people = [make_user(), make_user(), make_user()]
    cohort = make_cohort(trainees=people)
    with app.app_context():  # enrolled while active, deactivated since: keeps the place
        db.session.get(User, people[2].id).deactivated_at = utcnow()
        db.session.commit()
        dyads.pair_cohort(cohort.id, False, db.session.get(User, admin.id))
        db.session.commit()
        placed = set(
            db.session.execute(
                db.select(DyadMember.user_id)
                .join(Dyad, Dyad.id == DyadMember.dyad_id)
                .where(Dyad.dissolved_at.is_(None), DyadMember.left_at.is_(None))
            ).scalars()
        )
    assert placed == {people[0].id, people[1].id}
