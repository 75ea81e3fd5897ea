"""Issue 18's "Done when" for parents: on a phone, an institution's page shows its last
inspection and quality grade, and a concern is reported from it in a few taps.

At 390 × 844 in Chinese, a parent opens a filed institution the bureau has inspected and
graded, reads both on its page, taps "投诉举报该机构", picks what it is about, says what
happened and sends it; the tracking number she is shown finds the report the bureau queued.
Taps are counted as in the grandparent journey (typing is free); each page is axe clean and
within the page budget.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from careapp import clock
from careapp.extensions import db
from careapp.models import ChecklistItem, Institution, ItemResult, Role, Status
from careapp.services import complaints, inspections, quality
from careapp.services.accounts import create_user

from .test_grandparent_journey import PageAudit, Taps

expect = pytest.importorskip("playwright.sync_api").expect

#: The taps from the institution's page to the tracking number: the link, the category, the
#: description and the button.
MOST_TAPS = 4
DESCRIPTION = "接孩子时发现午睡室窗户没有护栏。"


def inspected_and_graded(app) -> int:
    """A filed demo institution the bureau inspected a week ago (nothing failed) and graded
    良好 yesterday, recorded as the bureau records them; its id."""
    today = clock.today()
    with app.app_context():
        institution = db.session.scalars(
            sa.select(Institution)
            .where(Institution.status == Status.FILED)
            .order_by(Institution.id.desc())
        ).first()
        bureau = [
            create_user(
                email=f"inspector-{number}@report-journey.example",
                password="demo-password-1",
                role=Role.REGULATOR,
                display_name=f"检查员{number}",
            )
            for number in (1, 2)
        ]
        db.session.flush()
        planned = inspections.plan(institution, bureau[0])
        inspections.record(
            planned.id,
            bureau[0],
            today - timedelta(days=7),
            [user.id for user in bureau],
            dict.fromkeys(ChecklistItem, ItemResult.PASSED),
            {},
            "",
            clock.now(),
            today,
        )
        quality.record_assessment(
            institution,
            "good",
            today - timedelta(days=1),
            "市托育质量评估组",
            "托育机构质量评估标准",
            bureau[0],
        )
        db.session.commit()
        return institution.id


def test_a_parent_reads_the_inspection_and_grade_and_reports_a_concern_in_4_taps(
    live_server, phone
):
    base, app = live_server
    institution_id = inspected_and_graded(app)
    taps, audit = Taps(phone), PageAudit(phone)
    inspected_on = (clock.today() - timedelta(days=7)).isoformat()

    phone.goto(f"{base}/institutions/{institution_id}")
    heading = phone.get_by_role("heading", name="卫生健康局监督检查")
    inspections_section = phone.locator("section", has=heading)
    expect(inspections_section.get_by_text(inspected_on).first).to_be_visible()
    expect(inspections_section.get_by_text("合格").first).to_be_visible()
    expect(phone.get_by_text("良好").first).to_be_visible()
    audit.check("institution")

    taps.tap(phone.get_by_role("link", name="投诉举报该机构"), "report link")
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    audit.check("report-form")
    taps.choose(phone.get_by_label("举报类别"), "儿童安全或虐待", "what it is about")
    taps.type(phone.get_by_label("发生了什么？"), DESCRIPTION, "what happened")
    taps.tap(phone.get_by_role("button", name="提交举报"), "send")

    number = phone.locator(".tracking-number code").inner_text()
    audit.check("report-sent")
    with app.app_context():
        report = complaints.find_by_number(number)
        assert report is not None
        assert (report.institution_id, report.description) == (institution_id, DESCRIPTION)
        assert report.category == "child_safety"
    audit.assert_clean({"institution", "report-form", "report-sent"})
    assert taps.count <= MOST_TAPS, taps.steps
