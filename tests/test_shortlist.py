"""The shortlist and the comparison: session and account, merge at sign-in, only filed
institutions, and no star state in kept pages."""

import re

import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import Institution, Nature, ShortlistEntry, Status
from careapp.services.shortlist import MAX_ENTRIES

ORIGIN = {"Origin": "http://localhost"}


def star(client, institution_id, action="add", **headers):
    return client.post(
        f"/shortlist/{institution_id}",
        data={"action": action, "next": "/"},
        headers={**ORIGIN, **headers},
    )


def shortlist_text(client) -> str:
    return client.get("/shortlist").get_data(as_text=True)


def test_a_signed_out_visitor_keeps_a_shortlist_in_the_session(client, institution):
    first = institution("晋江市小橡树托育中心")
    second = institution("晋江市向日葵托育园")
    assert star(client, first).status_code == 302
    assert star(client, second).status_code == 302
    page = shortlist_text(client)
    assert "小橡树" in page
    assert "向日葵" in page
    star(client, first, "remove")
    page = shortlist_text(client)
    assert "小橡树" not in page.split("<main")[1].split("Remove from")[0] or "小橡树" not in page
    assert "向日葵" in page


def test_only_filed_institutions_can_be_starred(client, institution):
    draft = institution("晋江市草稿托育园", status=Status.UNDER_REVIEW)
    assert star(client, draft).status_code == 404
    assert "草稿" not in shortlist_text(client)


def test_a_deregistered_institution_drops_out_of_the_list_and_comparison(
    app, client, institution, user, auth
):
    kept = institution("晋江市小橡树托育中心")
    gone = institution("晋江市将注销托育园")
    star(client, kept), star(client, gone)
    with app.app_context():
        db.session.get(Institution, gone).status = Status.DEREGISTERED
        db.session.commit()
    page = shortlist_text(client)
    assert "将注销" not in page
    assert "小橡树" in page
    compared = client.get(f"/compare?ids={kept},{gone}")
    assert compared.status_code == 200
    assert "将注销" not in compared.get_data(as_text=True)
    auth.login(user())
    assert "将注销" not in shortlist_text(client)


def test_the_session_shortlist_stops_at_the_cap(client, institution):
    ids = [institution(f"晋江市第{n}托育园") for n in range(MAX_ENTRIES + 1)]
    for institution_id in ids[:MAX_ENTRIES]:
        star(client, institution_id)
    client.set_cookie("lang", "en")
    star(client, ids[-1])
    follow = client.get("/shortlist").get_data(as_text=True)
    assert f"第{MAX_ENTRIES}托育园" not in follow
    assert str(MAX_ENTRIES) in follow


def test_a_signed_in_parent_keeps_the_shortlist_on_the_account(
    app, client, institution, user, auth
):
    parent = user()
    auth.login(parent)
    found = institution("晋江市小橡树托育中心")
    star(client, found)
    star(client, found)  # twice is once
    with app.app_context():
        rows = db.session.scalars(sa.select(ShortlistEntry)).all()
        assert [(row.user_id, row.institution_id) for row in rows] == [(parent, found)]
    auth.logout()
    assert "小橡树" not in shortlist_text(client)
    auth.login(parent)
    assert "小橡树" in shortlist_text(client)


def test_the_account_shortlist_stops_at_the_cap(app, client, institution, user, auth):
    auth.login(user())
    ids = [institution(f"晋江市第{n}托育园") for n in range(MAX_ENTRIES + 1)]
    for institution_id in ids:
        star(client, institution_id)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ShortlistEntry.id))) == MAX_ENTRIES


def test_the_signed_out_shortlist_is_merged_into_the_account_at_sign_in(
    app, client, institution, user, auth
):
    parent = user()
    on_account = institution("晋江市小橡树托育中心")
    in_session = institution("晋江市向日葵托育园")
    auth.login(parent)
    star(client, on_account)
    auth.logout()
    star(client, in_session)
    auth.login(parent)
    with app.app_context():
        query = sa.select(ShortlistEntry.institution_id).where(ShortlistEntry.user_id == parent)
        assert set(db.session.scalars(query)) == {on_account, in_session}


def test_a_star_from_another_site_or_without_token_is_not_taken(app, client, institution):
    app.config["WTF_CSRF_ENABLED"] = True
    found = institution("晋江市小橡树托育中心")
    foreign = client.post(
        f"/shortlist/{found}", data={"action": "add"}, headers={"Origin": "https://evil.example"}
    )
    bare = client.post(f"/shortlist/{found}", data={"action": "add"})
    cross = star(client, found, **{"Sec-Fetch-Site": "cross-site"})
    assert foreign.status_code == bare.status_code == cross.status_code == 400
    assert "小橡树" not in shortlist_text(client).split("<main")[1]
    # The confirmation carries a token; sent with it, the star is taken.
    token = re.search(r'name="csrf_token" value="([^"]+)"', bare.get_data(as_text=True))[1]
    confirmed = client.post(f"/shortlist/{found}", data={"action": "add", "csrf_token": token})
    assert confirmed.status_code == 302
    assert "小橡树" in shortlist_text(client)
    # A same-origin form from a kept page (no token) is taken too.
    other = institution("晋江市向日葵托育园")
    assert star(client, other).status_code == 302


def test_kept_pages_never_show_one_visitors_star_state_to_another(app, institution):
    found = institution("晋江市小橡树托育中心")
    starring, stranger = app.test_client(), app.test_client()
    star(starring, found)
    for path in ("/", f"/institutions/{found}"):
        mine = starring.get(path).get_data(as_text=True)
        theirs = stranger.get(path)
        text = theirs.get_data(as_text=True)
        assert "★" not in mine
        assert "★" not in text
        assert 'name="csrf_token"' not in text
        assert "☆" in text
    again = stranger.get("/")
    assert again.headers["X-Page-Cache"] == "hit"
    assert "★" not in again.get_data(as_text=True)
    assert "小橡树" not in stranger.get("/shortlist").get_data(as_text=True).split("<main")[1]
    assert "★" not in stranger.get(f"/compare?ids={found}").get_data(as_text=True)
    assert "★" in starring.get(f"/compare?ids={found}").get_data(as_text=True)
    for path in ("/shortlist", f"/compare?ids={found}"):
        answer = starring.get(path)
        assert "X-Page-Cache" not in answer.headers
        assert answer.headers["Cache-Control"] == "no-store"


def test_compare_shows_the_rows_of_up_to_four_public_institutions(client, institution, open_places):
    client.set_cookie("lang", "en")
    ids = [
        institution(f"晋江市第{n}托育园", latitude=24.78 + n / 100, longitude=118.55)
        for n in range(5)
    ]
    hidden = institution("晋江市审核中托育园", status=Status.UNDER_REVIEW)
    home = institution("晋江市家庭托育点", nature=Nature.HOME_BASED)
    open_places(ids[0], days_ahead=2)
    answer = client.get(f"/compare?ids={hidden},{ids[0]},{ids[1]},x,{ids[2]},{home},{ids[3]}")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "审核中" not in text
    assert text.count('class="card compare-card"') == 4
    assert "第3托育园" not in text
    assert "家庭托育点" in text
    for row in ("Distance", "Price per care type", "Hours", "Ages", "Filed on"):
        assert row in text
    assert "2024-03-01" in text
    assert "08:00–17:30" in text
    assert "place free" in text or "places free" in text
    assert "—" in text  # no origin: no distance
    near = client.get(f"/compare?ids={ids[0]}&lat=24.78&lng=118.55").get_data(as_text=True)
    assert "0.0 km" in near


def test_compare_without_public_ids_says_so(client):
    client.set_cookie("lang", "en")
    answer = client.get("/compare?ids=999999,abc")
    assert answer.status_code == 200
    assert "Nothing to compare" in answer.get_data(as_text=True)


def test_a_signed_in_parent_sees_each_cards_own_star_and_comes_back_to_the_search(
    client, institution, user, auth
):
    """The search page reads the visitor's shortlist and the way back once for all its cards:
    each card still shows its own state, and each star returns to the search it was sent from."""
    auth.login(user())
    starred = institution("晋江市小橡树托育中心")
    institution("晋江市向日葵托育园")
    star(client, starred)
    client.set_cookie("lang", "en")

    page = client.get("/?q=%E6%99%8B%E6%B1%9F").get_data(as_text=True)

    forms = re.findall(r'<form method="post" action="/shortlist/(\d+)".*?</form>', page, re.S)
    assert len(forms) == 2
    buttons = dict(re.findall(r'action="/shortlist/(\d+)".*?aria-label="([^"]+)"', page, re.S))
    assert buttons[str(starred)] == "Remove 晋江市小橡树托育中心 from your shortlist"
    assert buttons[str(starred + 1)] == "Save 晋江市向日葵托育园 to your shortlist"
    backs = re.findall(r'name="next" value="([^"]+)"', page)
    assert backs == ["/?q=%E6%99%8B%E6%B1%9F"] * 2
