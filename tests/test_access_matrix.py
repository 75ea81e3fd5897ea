"""Who may open what: every route of the site against every kind of visitor.

Anonymous visitors are sent to sign in, accounts of the wrong role get 403, and another
account's institution answers 404 as if it did not exist. Refused posts change nothing.
"""

import os
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from conftest import AuthActions, Factories, delete_every_row

from careapp import clock
from careapp.extensions import db
from careapp.models import (
    ChangeRequest,
    Complaint,
    DocumentKind,
    FilingDocument,
    Finding,
    FindingSource,
    Institution,
    Role,
    StaffMember,
    StaffRole,
    Status,
)
from careapp.services import complaints, filing

ANONYMOUS = "anonymous"
PARENT = "parent"
OWNER = "owner"
OTHER_OWNER = "other_owner"
PROVIDER = "provider"
REGULATOR = "regulator"
ACTORS = (ANONYMOUS, PARENT, OWNER, OTHER_OWNER, PROVIDER, REGULATOR)
SIGNED_IN = ACTORS[1:]

#: The role of each signed-in actor; OWNER and OTHER_OWNER are two institution accounts.
ROLES = {
    PARENT: Role.PARENT,
    OWNER: Role.INSTITUTION,
    OTHER_OWNER: Role.INSTITUTION,
    PROVIDER: Role.PROVIDER,
    REGULATOR: Role.REGULATOR,
}
#: Where each signed-in actor's own start page is.
HOMES = {
    PARENT: "/parents/",
    OWNER: "/institutions/mine",
    OTHER_OWNER: "/institutions/mine",
    PROVIDER: "/providers/",
    REGULATOR: "/regulator/",
}

#: Expected outcome: a redirect to /login whose ``next`` is the requested path.
LOGIN = "→ login"
#: Expected outcome: a redirect to the actor's own start page.
HOME = "→ home"


def everyone(outcome) -> dict:
    """The same outcome for every actor."""
    return dict.fromkeys(ACTORS, outcome)


def signed_in(outcome) -> dict:
    """Anonymous visitors sign in first; every account gets ``outcome``."""
    return {ANONYMOUS: LOGIN} | dict.fromkeys(SIGNED_IN, outcome)


def only(*allowed: str, outcome=200) -> dict:
    """A page of one audience: ``allowed`` get ``outcome``, other accounts 403."""
    return {ANONYMOUS: LOGIN} | {actor: outcome if actor in allowed else 403 for actor in SIGNED_IN}


def kept_by(keeper: str, outcome=200) -> dict:
    """A page of one institution: its keeper gets ``outcome``, the other institution 404."""
    other = OTHER_OWNER if keeper == OWNER else OWNER
    return only(OWNER, OTHER_OWNER) | {keeper: outcome, other: 404}


#: An id no object has (the largest the URLs accept).
MISSING = "2147483647"


def changes_for(*actors: str) -> frozenset:
    """The actors whose request is allowed to change the database."""
    return frozenset(actors)


NOBODY = changes_for()

#: Every page: (path, expected outcome per actor). ``{filed}``, ``{draft}``, ``{review}``,
#: ``{others}`` and ``{change}`` are filled in with the ids of the ``world`` fixture.
GET_MATRIX = [
    # public pages and the API
    ("/", everyone(200)),
    ("/registry", everyone(200)),
    ("/institutions/{filed}", everyone(200)),
    ("/institutions/{draft}", everyone(404)),
    ("/institutions/{review}", everyone(404)),
    ("/api/v1/institutions", everyone(200)),
    ("/api/v1/institutions/{filed}", everyone(200)),
    ("/api/v1/institutions/{draft}", everyone(404)),
    ("/api/v1/institutions/{filed}/availability", everyone(200)),
    ("/api/v1/institutions/{draft}/availability", everyone(404)),
    ("/api/v1/townships", everyone(200)),
    ("/api/v1/registry/events", everyone(200)),
    ("/api/v1/openapi.json", everyone(200)),
    ("/healthz", everyone(200)),
    ("/calendar/not-a-calendar-token.ics", everyone(404)),
    ("/courses", everyone(200)),
    ("/favicon.ico", everyone(200)),
    ("/courses/" + MISSING, everyone(404)),
    ("/api/v1/courses", everyone(200)),
    ("/api/v1/open-data/hsds.json", everyone(200)),
    ("/api/v1/open-data/hsds/services?per_page=5", everyone(200)),
    ("/open-data/institutions.csv", everyone(200)),
    # accounts
    ("/login", {ANONYMOUS: 200} | dict.fromkeys(SIGNED_IN, HOME)),
    ("/logout", everyone(200)),
    ("/register", everyone(200)),
    ("/password/forgot", everyone(200)),
    ("/password/reset/not-a-valid-token", everyone(400)),
    ("/login/link/not-a-valid-token", everyone(400)),
    ("/register/confirm/not-a-valid-token", everyone(400)),
    ("/account/password", signed_in(200)),
    ("/account/settings", signed_in(200)),
    # one audience each
    ("/parents/", only(PARENT)),
    ("/providers/", only(PROVIDER)),
    # a parent's own pages (objects of other parents are covered by the booking tests)
    ("/parents/bookings", only(PARENT)),
    ("/parents/calendar", only(PARENT)),
    ("/parents/children/new", only(PARENT)),
    ("/parents/bookings/" + MISSING, only(PARENT, outcome=404)),
    ("/parents/bookings/" + MISSING + "/cancel", only(PARENT, outcome=404)),
    ("/parents/book/" + MISSING, only(PARENT, outcome=404)),
    ("/parents/children/" + MISSING + "/export", only(PARENT, outcome=404)),
    ("/parents/children/" + MISSING + "/delete", only(PARENT, outcome=404)),
    ("/parents/family", only(PARENT)),
    ("/parents/family/" + MISSING + "/revoke", only(PARENT, outcome=404)),
    ("/parents/courses/sessions/" + MISSING, only(PARENT, outcome=404)),
    ("/parents/courses/" + MISSING + "/series", only(PARENT, outcome=404)),
    # a guidance provider's pages (this one has not registered its organisation yet)
    ("/providers/organisation", only(PROVIDER)),
    ("/providers/courses/new", only(PROVIDER, outcome="/providers/organisation")),
    ("/providers/courses/" + MISSING, only(PROVIDER, outcome=404)),
    ("/providers/courses/" + MISSING + "/registrations.csv", only(PROVIDER, outcome=404)),
    ("/institutions/mine", only(OWNER, OTHER_OWNER)),
    ("/institutions/new", only(OWNER, OTHER_OWNER)),
    # one institution's own pages
    ("/institutions/{filed}/status", kept_by(OWNER)),
    ("/institutions/{filed}/edit", kept_by(OWNER)),
    ("/institutions/{draft}/status", kept_by(OWNER)),
    ("/institutions/{draft}/edit", kept_by(OWNER)),
    ("/institutions/{review}/status", kept_by(OWNER)),
    ("/institutions/{review}/edit", kept_by(OWNER, "/institutions/{review}/status")),
    ("/institutions/{others}/status", kept_by(OTHER_OWNER)),
    ("/institutions/{others}/edit", kept_by(OTHER_OWNER)),
    ("/institutions/" + MISSING + "/status", kept_by(OWNER, 404)),
    # a filed institution's places and bookings; an application has none
    ("/institutions/{filed}/places", kept_by(OWNER)),
    ("/institutions/{filed}/roster", kept_by(OWNER)),
    ("/institutions/{filed}/applications", kept_by(OWNER)),
    ("/institutions/{filed}/bookings.csv", kept_by(OWNER)),
    ("/institutions/{filed}/bookings/" + MISSING, kept_by(OWNER, 404)),
    ("/institutions/{draft}/places", kept_by(OWNER, 404)),
    ("/institutions/{draft}/roster", kept_by(OWNER, 404)),
    # the county health bureau
    ("/regulator/", only(REGULATOR)),
    ("/regulator/institutions", only(REGULATOR)),
    ("/regulator/institutions?status=under_review", only(REGULATOR)),
    ("/regulator/institutions/{review}", only(REGULATOR)),
    ("/regulator/institutions/{draft}", only(REGULATOR)),
    ("/regulator/institutions/{others}", only(REGULATOR)),
    ("/regulator/institutions/" + MISSING, only(REGULATOR, outcome=404)),
    ("/regulator/institutions/{review}/approve", only(REGULATOR)),
    (
        "/regulator/institutions/{filed}/approve",
        only(REGULATOR, outcome="/regulator/institutions/{filed}"),
    ),
    ("/regulator/institutions/{filed}/revoke", only(REGULATOR)),
    ("/regulator/institutions/{draft}/revoke", only(REGULATOR, outcome=404)),
    ("/regulator/changes/{change}", only(REGULATOR)),
    ("/regulator/changes/{change}/approve", only(REGULATOR)),
    ("/regulator/changes/" + MISSING, only(REGULATOR, outcome=404)),
    ("/regulator/providers", only(REGULATOR)),
    ("/regulator/dashboard", only(REGULATOR)),
    ("/regulator/dashboard?sort=places&order=desc", only(REGULATOR)),
    ("/regulator/dashboard/townships.csv", only(REGULATOR)),
    ("/regulator/dashboard/no-such-table.csv", only(REGULATOR, outcome=404)),
    ("/regulator/townships/qingyang", only(REGULATOR)),
    ("/regulator/townships/no-such-township", only(REGULATOR, outcome=404)),
    ("/regulator/regions/jinjiang", only(REGULATOR)),
    ("/regulator/regions/no-such-region", only(REGULATOR, outcome=404)),
    ("/regulator/audit", only(REGULATOR)),
    ("/regulator/audit?from=not-a-date", only(REGULATOR, outcome=400)),
    ("/regulator/audit.csv", only(REGULATOR)),
    # public statistics: aggregates for everyone
    ("/statistics", everyone(200)),
    ("/statistics?region=no-such-region", everyone(404)),
    ("/api/v1/statistics/townships", everyone(200)),
    # the map, the shortlist and the comparison: public, each visitor's own list
    ("/map", everyone(200)),
    ("/shortlist", everyone(200)),
    ("/compare?ids={filed},{draft}", everyone(200)),
    # --- follow-up ---
    ("/institutions/{filed}/deregister", kept_by(OWNER)),
    ("/institutions/{draft}/deregister", kept_by(OWNER, 404)),
    ("/institutions/{filed}/findings/{follow_up_finding}", kept_by(OWNER)),
    ("/institutions/{filed}/findings/" + MISSING, kept_by(OWNER, 404)),
    ("/institutions/{draft}/findings/{follow_up_finding}", kept_by(OWNER, 404)),
    # --- indicators ---
    ("/regulator/regions/jinjiang/operators", only(REGULATOR)),
    ("/regulator/regions/no-such-region/operators", only(REGULATOR, outcome=404)),
    ("/regulator/dashboard/operators-not-applied.csv", only(REGULATOR)),
    # --- child-data ---
    ("/privacy", everyone(200)),
    ("/parents/data", only(PARENT)),
    ("/parents/data/export.json", only(PARENT)),
    ("/parents/data/export.csv", only(PARENT)),
    ("/parents/account/delete", only(PARENT)),
    # --- complaints ---
    ("/report", everyone(200)),
    ("/report/status", everyone(200)),
    ("/report/sent", everyone("/report/status")),
    ("/institutions/{filed}/report", everyone(200)),
    ("/institutions/{draft}/report", everyone(404)),
    ("/institutions/" + MISSING + "/report", everyone(404)),
    ("/regulator/reports", only(REGULATOR)),
    ("/regulator/reports/{report}", only(REGULATOR)),
    ("/regulator/reports/" + MISSING, only(REGULATOR, outcome=404)),
    ("/regulator/institutions/{filed}/quality", only(REGULATOR)),
    ("/regulator/institutions/{draft}/quality", only(REGULATOR, outcome=404)),
    # --- inspections ---
    ("/regulator/inspections", only(REGULATOR)),
    ("/regulator/inspections/draws/{draw}", only(REGULATOR)),
    ("/regulator/inspections/draws/" + MISSING, only(REGULATOR, outcome=404)),
    ("/regulator/inspections/{inspection}", only(REGULATOR)),
    (
        "/regulator/inspections/{planned}",
        only(REGULATOR, outcome="/regulator/inspections/{planned}/record"),
    ),
    ("/regulator/inspections/{planned}/record", only(REGULATOR)),
    (
        "/regulator/inspections/{inspection}/record",
        only(REGULATOR, outcome="/regulator/inspections/{inspection}"),
    ),
    ("/regulator/inspections/" + MISSING, only(REGULATOR, outcome=404)),
    ("/institutions/{filed}/inspections", kept_by(OWNER)),
    ("/institutions/{others}/inspections", kept_by(OTHER_OWNER)),
    ("/institutions/" + MISSING + "/inspections", kept_by(OWNER, 404)),
    # --- staff ---
    ("/institutions/{filed}/staff", kept_by(OWNER)),
    ("/institutions/{draft}/staff", kept_by(OWNER)),
    ("/institutions/{others}/staff", kept_by(OTHER_OWNER)),
    ("/institutions/{filed}/staff/{staff_member}/edit", kept_by(OWNER)),
    ("/institutions/{others}/staff/{staff_member}/edit", kept_by(OTHER_OWNER, 404)),
    ("/institutions/{filed}/staff/" + MISSING + "/edit", kept_by(OWNER, 404)),
    ("/institutions/{filed}/documents", kept_by(OWNER)),
    ("/institutions/{draft}/documents", kept_by(OWNER)),
    ("/institutions/{filed}/documents/{document}", kept_by(OWNER)),
    ("/institutions/{others}/documents/{document}", kept_by(OTHER_OWNER, 404)),
    ("/institutions/{filed}/documents/" + MISSING, kept_by(OWNER, 404)),
    ("/regulator/bans", only(REGULATOR)),
    ("/regulator/institutions/{filed}/documents/{document}", only(REGULATOR)),
    ("/regulator/institutions/{others}/documents/{document}", only(REGULATOR, outcome=404)),
    ("/regulator/institutions/{filed}/documents/" + MISSING, only(REGULATOR, outcome=404)),
    # --- registration ---
    ("/regulator/regions/jinjiang/rules", only(REGULATOR)),
    ("/regulator/regions/no-such-region/rules", only(REGULATOR, outcome=404)),
]

REASON = "Checked on site."
# --- complaints ---
REPORT = {"category": "fees", "description": "The deposit was not returned."}
PLACE_REPORT = REPORT | {"place_name": "A home in block 3", "category": "unfiled_care"}
REPORT_PAGE = "/regulator/reports/{report}"
QUALITY_PAGE = "/regulator/institutions/{filed}/quality"
BUREAU = changes_for(REGULATOR)

#: Every form post: (path, form data, expected outcome per actor, actors whose post changes
#: the database). Everybody else's post must leave the database exactly as it was.
POST_MATRIX = [
    # the shortlist: anybody may star a filed institution (an account's list is stored)
    ("/shortlist/{filed}", {}, everyone("/shortlist"), changes_for(*SIGNED_IN)),
    ("/shortlist/{draft}", {}, everyone(404), NOBODY),
    # accounts: empty forms are shown again, nothing is stored
    ("/login", {}, {ANONYMOUS: 200} | dict.fromkeys(SIGNED_IN, HOME), NOBODY),
    ("/logout", {}, everyone("/"), changes_for(*SIGNED_IN)),  # ends the server-side session
    ("/account/sessions/end", {}, signed_in("/"), changes_for(*SIGNED_IN)),
    ("/register", {}, everyone(200), NOBODY),
    ("/password/forgot", {}, everyone(200), NOBODY),
    ("/password/reset/not-a-valid-token", {}, everyone(400), NOBODY),
    ("/account/password", {}, signed_in(200), NOBODY),
    ("/login/phone/code", {}, {ANONYMOUS: 200} | dict.fromkeys(SIGNED_IN, HOME), NOBODY),
    ("/login/phone", {}, {ANONYMOUS: 200} | dict.fromkeys(SIGNED_IN, HOME), NOBODY),
    ("/account/phone/code", {}, signed_in(200), NOBODY),
    ("/account/phone", {}, signed_in(200), NOBODY),
    ("/account/notices", {}, only(PARENT), NOBODY),
    # a parent's forms
    ("/parents/children/new", {}, only(PARENT), NOBODY),
    ("/parents/children/" + MISSING + "/delete", {}, only(PARENT, outcome=404), NOBODY),
    ("/parents/book/" + MISSING, {}, only(PARENT, outcome=404), NOBODY),
    ("/parents/book/" + MISSING + "/waitlist", {}, only(PARENT, outcome=404), NOBODY),
    ("/parents/bookings/" + MISSING + "/cancel", {}, only(PARENT, outcome=404), NOBODY),
    ("/parents/waitlist/" + MISSING + "/accept", {}, only(PARENT, outcome=404), NOBODY),
    ("/parents/waitlist/" + MISSING + "/leave", {}, only(PARENT, outcome=404), NOBODY),
    ("/parents/family", {}, only(PARENT, outcome=400), NOBODY),
    ("/parents/family/" + MISSING + "/revoke", {}, only(PARENT, outcome=404), NOBODY),
    ("/parents/invitations/" + MISSING + "/accept", {}, only(PARENT, outcome=404), NOBODY),
    ("/parents/invitations/" + MISSING + "/decline", {}, only(PARENT, outcome=404), NOBODY),
    ("/parents/calendar/renew", {}, only(PARENT, outcome="/parents/calendar"), changes_for(PARENT)),
    ("/parents/calendar/revoke", {}, only(PARENT, outcome="/parents/calendar"), NOBODY),
    ("/parents/courses/sessions/" + MISSING, {}, only(PARENT, outcome=404), NOBODY),
    ("/parents/courses/" + MISSING + "/series", {}, only(PARENT, outcome=404), NOBODY),
    ("/parents/courses/sessions/" + MISSING + "/waitlist", {}, only(PARENT, outcome=404), NOBODY),
    ("/parents/course-offers/" + MISSING + "/accept", {}, only(PARENT, outcome=404), NOBODY),
    (
        "/parents/course-registrations/" + MISSING + "/cancel",
        {},
        only(PARENT, outcome=404),
        NOBODY,
    ),
    # a guidance provider's forms
    ("/providers/organisation", {}, only(PROVIDER), NOBODY),
    ("/providers/courses/new", {}, only(PROVIDER, outcome="/providers/organisation"), NOBODY),
    (
        f"/providers/courses/{MISSING}/registrations/{MISSING}/attendance",
        {},
        only(PROVIDER, outcome=404),
        NOBODY,
    ),
    (
        f"/providers/courses/{MISSING}/sessions/{MISSING}/cancel",
        {},
        only(PROVIDER, outcome=404),
        NOBODY,
    ),
    # the institution's own forms
    ("/institutions/new", {}, only(OWNER, OTHER_OWNER), NOBODY),
    ("/institutions/{draft}/edit", {}, kept_by(OWNER), NOBODY),
    ("/institutions/{filed}/slots", {}, kept_by(OWNER), NOBODY),
    ("/institutions/{filed}/schedules", {}, kept_by(OWNER), NOBODY),
    ("/institutions/{filed}/closed-days", {}, kept_by(OWNER), NOBODY),
    ("/institutions/{filed}/sessions", {}, kept_by(OWNER), NOBODY),
    ("/institutions/{filed}/sessions/slots", {}, kept_by(OWNER), NOBODY),
    ("/institutions/{filed}/sessions/" + MISSING + "/delete", {}, kept_by(OWNER, 404), NOBODY),
    ("/institutions/{filed}/slots/" + MISSING + "/places", {}, kept_by(OWNER, 404), NOBODY),
    ("/institutions/{filed}/slots/" + MISSING + "/cancel", {}, kept_by(OWNER, 404), NOBODY),
    (
        "/institutions/{filed}/bookings/" + MISSING + "/attendance",
        {},
        kept_by(OWNER, 404),
        NOBODY,
    ),
    ("/institutions/{filed}/bookings/" + MISSING + "/decision", {}, kept_by(OWNER, 404), NOBODY),
    ("/institutions/{others}/edit", {}, kept_by(OTHER_OWNER), NOBODY),
    (
        "/institutions/{draft}/submit",
        {},
        kept_by(OWNER, "/institutions/{draft}/status"),
        changes_for(OWNER),
    ),
    (
        "/institutions/{others}/submit",
        {},
        kept_by(OTHER_OWNER, "/institutions/{others}/status"),
        changes_for(OTHER_OWNER),
    ),
    # the county health bureau's decisions
    (
        "/regulator/institutions/{review}/approve",
        {"submitted": "{review_submitted}"},
        only(REGULATOR, outcome="/regulator/institutions/{review}"),
        changes_for(REGULATOR),
    ),
    (
        "/regulator/institutions/{review}/return",
        {"return-reason": REASON},
        only(REGULATOR, outcome="/regulator/institutions/{review}"),
        changes_for(REGULATOR),
    ),
    (
        "/regulator/institutions/{review}/reject",
        {"reject-reason": REASON},
        only(REGULATOR, outcome="/regulator/institutions/{review}"),
        changes_for(REGULATOR),
    ),
    (
        "/regulator/institutions/{filed}/revoke",
        {"effective_on": "{today}", "reason": REASON},
        only(REGULATOR, outcome="/regulator/institutions/{filed}"),
        changes_for(REGULATOR),
    ),
    (
        "/regulator/changes/{change}/approve",
        {"submitted": "change"},
        only(REGULATOR, outcome="/regulator/institutions/{filed}"),
        changes_for(REGULATOR),
    ),
    (
        "/regulator/changes/{change}/reject",
        {"reject-reason": REASON},
        only(REGULATOR, outcome="/regulator/institutions/{filed}"),
        changes_for(REGULATOR),
    ),
    ("/regulator/providers/" + MISSING + "/verify", {}, only(REGULATOR, outcome=404), NOBODY),
    # the bureau's figures: an empty form is shown again, nothing is stored
    ("/regulator/townships/qingyang", {}, only(REGULATOR, outcome=400), NOBODY),
    (
        "/regulator/regions/jinjiang",
        {"places_per_1000": "4.5", "covered_share": "80", "applied_share": "70"},
        only(REGULATOR, outcome="/regulator/dashboard"),
        (REGULATOR,),
    ),
    ("/regulator/providers/" + MISSING + "/suspend", {}, only(REGULATOR, outcome=404), NOBODY),
    # --- follow-up ---
    ("/regulator/institutions/{filed}/findings", {}, only(REGULATOR, outcome=400), NOBODY),
    (
        "/regulator/institutions/{filed}/findings/{follow_up_finding}/close",
        {},
        only(REGULATOR, outcome=400),
        NOBODY,
    ),
    (
        "/regulator/institutions/{draft}/findings/{follow_up_finding}/close",
        {},
        only(REGULATOR, outcome=404),
        NOBODY,
    ),
    ("/regulator/institutions/{filed}/deregistration", {}, only(REGULATOR, outcome=404), NOBODY),
    ("/institutions/{filed}/deregister", {}, kept_by(OWNER, 400), NOBODY),
    ("/institutions/{filed}/findings/{follow_up_finding}", {}, kept_by(OWNER, 400), NOBODY),
    (
        "/institutions/{filed}/findings/{follow_up_finding}",
        {"answer": REASON},
        kept_by(OWNER, "/institutions/{filed}/status"),
        changes_for(OWNER),
    ),
    # --- indicators ---
    ("/regulator/regions/jinjiang/operators", {}, only(REGULATOR, outcome=400), NOBODY),
    ("/regulator/regions/no-such-region/operators", {}, only(REGULATOR, outcome=404), NOBODY),
    # --- child-data ---
    ("/parents/account/delete", {}, only(PARENT, outcome=400), NOBODY),
    # --- complaints ---
    ("/report", {}, everyone(400), NOBODY),
    ("/report", PLACE_REPORT, everyone("/report/sent"), changes_for(*ACTORS)),
    ("/institutions/{filed}/report", REPORT, everyone("/report/sent"), changes_for(*ACTORS)),
    ("/institutions/{draft}/report", REPORT, everyone(404), NOBODY),
    ("/report/status", {}, everyone(400), NOBODY),
    ("/report/status", {"number": "ABCD-EFGH-JKMN"}, everyone(200), NOBODY),
    ("/regulator/reports/{report}/take-up", {}, only(REGULATOR, outcome=REPORT_PAGE), BUREAU),
    (
        "/regulator/reports/{report}/answer",
        {"answer-reply": REASON},
        only(REGULATOR, outcome=REPORT_PAGE),
        BUREAU,
    ),
    ("/regulator/reports/{report}/answer", {}, only(REGULATOR, outcome=400), NOBODY),
    ("/regulator/reports/{report}/close", {}, only(REGULATOR, outcome=REPORT_PAGE), BUREAU),
    ("/regulator/reports/" + MISSING + "/close", {}, only(REGULATOR, outcome=404), NOBODY),
    (
        "/regulator/institutions/{filed}/quality/assessments",
        {
            "assessment-grade": "good",
            "assessment-assessed_on": "{today}",
            "assessment-assessor": "评估组",
            "assessment-standard": "托育机构质量评估标准",
        },
        only(REGULATOR, outcome=QUALITY_PAGE),
        BUREAU,
    ),
    (
        "/regulator/institutions/{filed}/quality/designation",
        {"designation-title": "示范托育机构", "designation-designated_on": "{today}"},
        only(REGULATOR, outcome=QUALITY_PAGE),
        BUREAU,
    ),
    (
        "/regulator/institutions/{filed}/quality/designation/revoke",
        {"revoke-revoked_on": "{today}", "revoke-reason": REASON},
        only(REGULATOR, outcome=409),
        NOBODY,
    ),
    (
        "/regulator/institutions/{draft}/quality/assessments",
        {},
        only(REGULATOR, outcome=404),
        NOBODY,
    ),
    # --- inspections ---
    ("/regulator/inspections/draws", {}, only(REGULATOR, outcome=400), NOBODY),
    ("/regulator/inspections/plan", {}, only(REGULATOR, outcome=400), NOBODY),
    ("/regulator/inspections/{planned}/record", {}, only(REGULATOR, outcome=400), NOBODY),
    (
        "/regulator/inspections/{inspection}/findings/{finding}/close",
        {},
        only(REGULATOR, outcome=400),
        NOBODY,
    ),
    (
        "/regulator/inspections/{inspection}/findings/" + MISSING + "/close",
        {},
        only(REGULATOR, outcome=404),
        NOBODY,
    ),
    (
        "/institutions/{filed}/inspections/findings/{finding}/answer",
        {},
        kept_by(OWNER, 400),
        NOBODY,
    ),
    (
        "/institutions/{others}/inspections/findings/{finding}/answer",
        {},
        kept_by(OTHER_OWNER, 404),
        NOBODY,
    ),
    # --- staff ---
    ("/institutions/{draft}/staff", {}, kept_by(OWNER, 400), NOBODY),
    # An empty post keeps the stored values (the form is filled from the record) and saves:
    # the register's one person replaces the declared staff counts.
    (
        "/institutions/{filed}/staff/{staff_member}/edit",
        {},
        kept_by(OWNER, "/institutions/{filed}/staff"),
        changes_for(OWNER),
    ),
    ("/institutions/{others}/staff/{staff_member}/edit", {}, kept_by(OTHER_OWNER, 404), NOBODY),
    (
        "/institutions/{filed}/staff/{staff_member}/delete",
        {},
        kept_by(OWNER, "/institutions/{filed}/staff"),
        changes_for(OWNER),
    ),
    ("/institutions/{filed}/staff/" + MISSING + "/delete", {}, kept_by(OWNER, 404), NOBODY),
    ("/institutions/{draft}/documents", {}, kept_by(OWNER, 400), NOBODY),
    (
        "/institutions/{draft}/documents/{draft_document}/delete",
        {},
        kept_by(OWNER, "/institutions/{draft}/documents"),
        changes_for(OWNER),
    ),
    (
        "/institutions/{filed}/documents/{document}/delete",
        {},
        kept_by(OWNER, "/institutions/{filed}/documents"),
        NOBODY,
    ),
    ("/institutions/{filed}/documents/" + MISSING + "/delete", {}, kept_by(OWNER, 404), NOBODY),
    ("/regulator/bans", {}, only(REGULATOR, outcome=400), NOBODY),
    # --- registration ---
    (
        "/regulator/regions/jinjiang/rules",
        {"registration_authorities": "civil_affairs", "mixed_class_children_per_carer": "6"},
        only(REGULATOR, outcome="/regulator/regions/jinjiang/rules"),
        (REGULATOR,),
    ),
    ("/regulator/regions/jinjiang/rules", {}, only(REGULATOR, outcome=400), NOBODY),
]


# --- the world every request runs against ------------------------------------------------


def complete_declarations() -> dict:
    """Model values of an application that meets every filing requirement today."""
    today = clock.today()
    return {
        "latitude": Decimal("24.8105"),
        "longitude": Decimal("118.579"),
        "premises_owned": True,
        "health_evaluation_on": today - timedelta(days=30),
        "fire_acceptance_on": today - timedelta(days=30),
        "staff_count": 4,
        "certified_staff_count": 4,
        "cctv_covers_all_areas": True,
        "cctv_retention_days": 90,
        "commitment_accepted": True,
    }


def build_world(app, user, institution) -> dict:
    """One account per actor, the owner's filed, draft and under-review institutions, the
    other owner's draft, and a pending change of the filed one. Returns the ids by name."""
    accounts = {actor: user(role) for actor, role in ROLES.items()}
    declared = complete_declarations()
    ids = {
        "filed": institution(
            "已备案托育园", status=Status.FILED, owner_id=accounts[OWNER], **declared
        ),
        "draft": institution(
            "草稿托育园", status=Status.DRAFT, owner_id=accounts[OWNER], **declared
        ),
        "review": institution(
            "审核中托育园",
            status=Status.UNDER_REVIEW,
            owner_id=accounts[OWNER],
            submitted_at=datetime.now(UTC),
            **declared,
        ),
        "others": institution(
            "别家的托育园", status=Status.DRAFT, owner_id=accounts[OTHER_OWNER], **declared
        ),
    }
    with app.app_context():
        change = ChangeRequest(
            institution_id=ids["filed"],
            proposed={"name": "已备案托育园（新名）"},
            submitted_by_id=accounts[OWNER],
        )
        db.session.add(change)
        db.session.commit()
        ids["change"] = change.id
        # What the confirmation page of filing carries, read back as the page reads it.
        submitted = filing.submission_stamp(db.session.get(Institution, ids["review"]))
    # --- follow-up: a finding of the bureau on the filed institution ---
    with app.app_context():
        finding = Finding(
            source=FindingSource.FOLLOW_UP,
            institution_id=ids["filed"],
            found_on=clock.today(),
            description="消防通道堆放杂物",
            due_on=clock.today() + timedelta(days=10),
            recorded_by_id=accounts[REGULATOR],
        )
        db.session.add(finding)
        db.session.commit()
        ids["follow_up_finding"] = finding.id
        # --- staff ---
        ids |= staff_and_documents_of(app, accounts[OWNER], ids["filed"], ids["draft"])
    with app.app_context():  # --- complaints ---
        report = Complaint(
            tracking_digest=complaints.digest(complaints.new_tracking_number()),
            institution_id=ids["filed"],
            category="fees",
            description="…",
            due_on=clock.today(),
        )
        db.session.add(report)
        db.session.commit()
        ids["report"] = report.id
    ids.update(inspection_world(app, ids["filed"], accounts[REGULATOR]))  # --- inspections ---
    return {
        "accounts": accounts,
        **ids,
        "today": clock.today().isoformat(),
        "review_submitted": submitted,
    }


# --- inspections ---
INSPECTION_KEYS = ("draw", "inspection", "planned", "finding")


def inspection_world(app, institution_id: int, regulator_id: int) -> dict:
    """A draw, a recorded inspection of ``institution_id`` with an open finding, and a
    planned one. Returns their ids by name."""
    from careapp.models import Inspection, InspectionDraw, InspectionStatus, User

    with app.app_context():
        today = clock.today()
        inspector = db.session.get(User, regulator_id)
        draw = InspectionDraw(
            seed=1,
            size=1,
            drawn_on=today,
            pool={"institutions": [], "inspectors": []},
            result=[],
            drawn_by_id=regulator_id,
        )
        recorded = Inspection(
            institution_id=institution_id,
            draw=draw,
            status=InspectionStatus.RECORDED,
            inspected_on=today,
            recorded_at=clock.now(),
            inspectors=[inspector],
            findings=[
                Finding(
                    source=FindingSource.INSPECTION,
                    institution_id=institution_id,
                    item="fire",
                    description="灭火器过期",
                    found_on=today,
                    due_on=today,
                )
            ],
        )
        planned = Inspection(institution_id=institution_id, inspectors=[inspector])
        db.session.add_all([draw, recorded, planned])
        db.session.commit()
        return {
            "draw": draw.id,
            "inspection": recorded.id,
            "planned": planned.id,
            "finding": recorded.findings[0].id,
        }


def staff_and_documents_of(app, owner: int, filed: int, draft: int) -> dict:
    """A staff member of the filed institution, and a document each of it and the draft
    (files in a folder of their own, never the instance folder)."""
    folder = Path(tempfile.gettempdir()) / f"careapp-matrix-{os.getpid()}"  # one per process
    folder.mkdir(exist_ok=True)
    app.config["UPLOAD_FOLDER"] = str(folder)
    member = StaffMember(
        institution_id=filed,
        name="王丽华",
        role=StaffRole.CAREGIVER,
        id_number_hash="0" * 64,
        id_number_tail="0014",
        health_checked_on=clock.today() - timedelta(days=30),
        health_check_expires_on=clock.today() + timedelta(days=300),
    )
    documents = {
        name: FilingDocument(
            institution_id=institution_id,
            kind=DocumentKind.REGISTRATION_CERTIFICATE,
            original_name="licence.pdf",
            stored_name=f"{name}-{institution_id}.pdf",
            content_type="application/pdf",
            size_bytes=9,
            sha256="0" * 64,
            uploaded_by_id=owner,
        )
        for name, institution_id in (("document", filed), ("draft_document", draft))
    }
    for document in documents.values():
        (Path(app.config["UPLOAD_FOLDER"]) / document.stored_name).write_bytes(b"%PDF-1.4\n")
    db.session.add_all([member, *documents.values()])
    db.session.commit()
    return {"staff_member": member.id} | {name: doc.id for name, doc in documents.items()}


@pytest.fixture
def world(app, user, institution) -> dict:
    """A world of its own for a test that may change it."""
    return build_world(app, user, institution)


@pytest.fixture
def visit_as(client, auth, world):
    """Sign ``client`` out, then in as ``actor`` (unless anonymous); reads English."""
    client.set_cookie("lang", "en")

    def switch(actor: str):
        auth.logout()
        if actor != ANONYMOUS:
            assert auth.login(world["accounts"][actor]).status_code == 302
        return client

    return switch


@pytest.fixture(scope="module")
def shared_world(session_app):
    """One world for the whole page matrix, whose requests change nothing; emptied after."""
    factories = Factories(session_app)
    yield build_world(session_app, factories.user, factories.institution)
    with session_app.app_context():
        db.session.remove()
        delete_every_row()


@pytest.fixture(scope="module")
def clients(session_app, shared_world) -> dict:
    """One English client per actor, signed in once for the whole page matrix."""
    signed_in = {}
    for actor in ACTORS:
        client = session_app.test_client()
        client.set_cookie("lang", "en")
        if actor != ANONYMOUS:
            response = AuthActions(client, session_app).login(shared_world["accounts"][actor])
            assert response.status_code == 302
        signed_in[actor] = client
    return signed_in


def filled(template: str, world: dict) -> str:
    """A path or value with the world's ids filled in."""
    return template.format(**{k: v for k, v in world.items() if k != "accounts"})


def outcome(response, path: str, actor: str):
    """What happened: the status code, or for a redirect LOGIN, HOME or the target path."""
    if response.status_code != 302:
        return response.status_code
    target = urlsplit(response.location)
    if target.path == "/login":
        next_path = parse_qs(target.query).get("next", [None])[0]
        return LOGIN if next_path == path else f"/login?next={next_path}"
    if actor != ANONYMOUS and target.path == HOMES[actor]:
        return HOME
    return target.path


def expected_outcomes(expected: dict, world: dict) -> dict:
    """The table's expectations with ids filled into redirect targets."""
    return {
        actor: filled(value, world) if isinstance(value, str) and value.startswith("/") else value
        for actor, value in expected.items()
    }


def snapshot() -> dict:
    """Every row of every table: what a refused request must leave untouched."""
    return {
        table.name: db.session.execute(sa.select(table).order_by(*table.primary_key)).all()
        for table in db.metadata.sorted_tables
    }


def database_state(app) -> dict:
    """The snapshot, read in its own application context."""
    with app.app_context():
        return snapshot()


# --- the tests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"), [pytest.param(path, expected, id=path) for path, expected in GET_MATRIX]
)
def test_page_answers_each_actor_as_the_matrix_says(shared_world, clients, path, expected):
    url = filled(path, shared_world)
    observed = {actor: outcome(clients[actor].get(url), url, actor) for actor in ACTORS}

    assert observed == expected_outcomes(expected, shared_world)


POST_CASES = [
    pytest.param(path, data, actor, expected[actor], actor in changing, id=f"{path}-{actor}")
    for path, data, expected, changing in POST_MATRIX
    for actor in ACTORS
]


@pytest.mark.parametrize(("path", "data", "actor", "expected", "changes"), POST_CASES)
def test_post_answers_each_actor_as_the_matrix_says_and_refused_posts_change_nothing(
    app, world, visit_as, path, data, actor, expected, changes
):
    url = filled(path, world)
    client = visit_as(actor)
    before = database_state(app)

    response = client.post(url, data={name: filled(value, world) for name, value in data.items()})

    assert outcome(response, url, actor) == expected_outcomes({actor: expected}, world)[actor]
    assert (database_state(app) != before) is changes


def test_institution_account_cannot_submit_or_edit_another_accounts_institution(
    app, world, visit_as
):
    client = visit_as(OTHER_OWNER)
    before = database_state(app)

    submitted = client.post(f"/institutions/{world['draft']}/submit")
    edited = client.post(f"/institutions/{world['draft']}/edit", data={"name": "冒名"})

    assert (submitted.status_code, edited.status_code) == (404, 404)
    assert database_state(app) == before


def _all_requests() -> list[tuple[str, str]]:
    """Every (method, path) the matrix asks, with placeholder ids."""
    placeholders = dict.fromkeys(
        ("filed", "draft", "review", "others", "change", "report", "follow_up_finding"), 1
    )
    placeholders |= dict.fromkeys(("staff_member", "document", "draft_document"), 1)  # staff
    placeholders["today"] = "2026-01-05"
    placeholders["review_submitted"] = "2026-01-05T00:00:00"
    placeholders.update(dict.fromkeys(INSPECTION_KEYS, 1))  # --- inspections ---
    gets = [("GET", path.format(**placeholders)) for path, _expected in GET_MATRIX]
    posts = [("POST", path.format(**placeholders)) for path, *_rest in POST_MATRIX]
    return gets + posts


def test_every_route_and_method_of_the_site_is_in_the_matrix(app):
    adapter = app.url_map.bind("localhost")
    covered = set()
    for method, path in _all_requests():
        rule, _arguments = adapter.match(urlsplit(path).path, method=method, return_rule=True)
        covered.add((rule.rule, method))

    routes = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }

    assert routes - covered == set()


def test_every_actor_appears_in_every_row_of_the_matrix():
    rows = [expected for _path, expected in GET_MATRIX]
    rows += [expected for _path, _data, expected, _changes in POST_MATRIX]

    assert all(set(row) == set(ACTORS) for row in rows)


@pytest.mark.parametrize(
    ("path", "data"), [pytest.param(path, data, id=path) for path, data, *_ in POST_MATRIX]
)
def test_post_with_a_wrong_form_token_never_answers_a_server_error_nor_acts(
    app, world, visit_as, path, data
):
    url = filled(path, world)
    form = {name: filled(value, world) for name, value in data.items()} | {"csrf_token": "x"}

    answers = {}
    for actor in ACTORS:
        app.config["WTF_CSRF_ENABLED"] = False
        client = visit_as(actor)
        app.config["WTF_CSRF_ENABLED"] = True
        before = database_state(app)
        status = client.post(url, data=form).status_code
        answers[actor] = (status < 500, database_state(app) == before)

    assert answers == dict.fromkeys(ACTORS, (True, True))
