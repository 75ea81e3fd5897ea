"""The bureau's supervision pages: draw whom to inspect, record inspections, close findings."""

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import IntegerField, RadioField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from careapp import clock
from careapp.access import or_404
from careapp.database import run_in_transaction
from careapp.forms import DateField, SiteForm, choices
from careapp.i18n import current_language
from careapp.labels import CHECKLIST_ITEM_LABELS, ITEM_RESULT_LABELS
from careapp.models import MIN_INSPECTORS, ChecklistItem, FindingStatus, ItemResult
from careapp.regulator import bp
from careapp.services import findings, inspections
from careapp.services.inspections import (
    MAX_DRAW_SIZE,
    MAX_SEED,
    MAX_TEAM_SIZE,
    FindingInput,
    InspectionError,
)

# --- forms ----------------------------------------------------------------------------------


class DrawForm(SiteForm):
    """How many institutions to draw, how many inspectors each, and an optional seed."""

    size = IntegerField(
        _l("Institutions to draw"),
        default=5,
        validators=[
            InputRequired(message=_l("Please enter how many institutions to draw.")),
            NumberRange(
                1, MAX_DRAW_SIZE, message=_l("Please enter a number from %(min)s to %(max)s.")
            ),
        ],
    )
    team_size = IntegerField(
        _l("Inspectors per institution"),
        default=MIN_INSPECTORS,
        validators=[
            InputRequired(message=_l("Please enter how many inspectors go to each institution.")),
            NumberRange(
                MIN_INSPECTORS,
                MAX_TEAM_SIZE,
                message=_l("Please enter a number from %(min)s to %(max)s."),
            ),
        ],
    )
    seed = IntegerField(
        _l("Seed (leave empty for a new random one)"),
        validators=[
            Optional(),
            NumberRange(0, MAX_SEED, message=_l("Please enter a number from %(min)s to %(max)s.")),
        ],
    )


class PlanForm(SiteForm):
    """One institution to inspect outside a draw (a complaint, a joint inspection)."""

    filing_number = StringField(
        _l("Filing number"),
        validators=[
            DataRequired(message=_l("Please enter the filing number.")),
            Length(max=32),
        ],
    )


class CheckboxesField(SelectMultipleField):
    """A choice of several, shown as check boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _finding_label(item: ChecklistItem):
    return _l("%(item)s: what must be put right", item=CHECKLIST_ITEM_LABELS[item])


def _due_label(item: ChecklistItem):
    return _l("%(item)s: put right by", item=CHECKLIST_ITEM_LABELS[item])


class RecordForm(SiteForm):
    """The write-up of an inspection: date, team, a result per checklist item, findings."""

    inspected_on = DateField(
        _l("Inspected on"),
        default=clock.today,
        validators=[InputRequired(message=_l("Please enter the date."))],
    )
    inspectors = CheckboxesField(_l("Inspectors"), coerce=int)
    notes = TextAreaField(_l("Notes on the visit (optional)"), validators=[Length(max=4000)])

    def validate_inspected_on(self, field) -> None:
        """An inspection is recorded after it took place."""
        if field.data and field.data > clock.today():
            raise ValidationError(_l("The inspection date cannot be in the future."))

    def validate_inspectors(self, field) -> None:
        """At least two inspectors (双随机: an inspection is never done alone)."""
        if len(field.data or []) < MIN_INSPECTORS:
            raise ValidationError(
                _l("Please choose at least %(count)d inspectors.", count=MIN_INSPECTORS)
            )

    def check_together(self, fields_valid: bool) -> bool:
        """A finding and a deadline for each failed item."""
        valid = fields_valid
        for item in ChecklistItem:
            if self[f"result_{item}"].data != ItemResult.FAILED:
                continue
            valid &= self._check_finding(item)
        return valid

    def _check_finding(self, item: ChecklistItem) -> bool:
        finding, due = self[f"finding_{item}"], self[f"due_{item}"]
        valid = True
        if not (finding.data or "").strip():
            finding.errors = [*finding.errors, _("Please describe what must be put right.")]
            valid = False
        if due.data is None:
            due.errors = [*due.errors, _("Please enter the deadline.")]
            valid = False
        elif self.inspected_on.data and due.data < self.inspected_on.data:
            due.errors = [*due.errors, _("The deadline cannot come before the inspection.")]
            valid = False
        return valid

    def results(self) -> dict[ChecklistItem, ItemResult]:
        """The result of each checklist item."""
        return {item: ItemResult(self[f"result_{item}"].data) for item in ChecklistItem}

    def findings(self) -> dict[ChecklistItem, FindingInput]:
        """A finding for each failed item."""
        return {
            item: FindingInput(self[f"finding_{item}"].data.strip(), self[f"due_{item}"].data)
            for item, result in self.results().items()
            if result == ItemResult.FAILED
        }


for _item in ChecklistItem:
    setattr(
        RecordForm,
        f"result_{_item}",
        RadioField(
            CHECKLIST_ITEM_LABELS[_item],
            choices=choices((str(result), ITEM_RESULT_LABELS[result]) for result in ItemResult),
            validators=[InputRequired(message=_l("Please choose a result."))],
        ),
    )
    setattr(
        RecordForm,
        f"finding_{_item}",
        TextAreaField(_finding_label(_item), validators=[Length(max=2000)]),
    )
    setattr(RecordForm, f"due_{_item}", DateField(_due_label(_item), validators=[Optional()]))
del _item


class CloseForm(SiteForm):
    """The day the bureau found a finding put right."""

    closed_on = DateField(
        _l("Put right on"),
        default=clock.today,
        validators=[InputRequired(message=_l("Please enter the date."))],
    )


# --- views ----------------------------------------------------------------------------------


def _desk_context() -> dict:
    return {
        "follow_up": inspections.follow_up,
        "today": clock.today(),
        "language": current_language(),
    }


def _render_index(form: DrawForm, status: int = 200, plan_form: PlanForm | None = None):
    page = render_template(
        "regulator/inspections/index.html",
        form=form,
        plan_form=plan_form or PlanForm(formdata=None),
        planned=inspections.planned_inspections(),
        recorded=inspections.recorded_inspections(),
        draws=inspections.recent_draws(),
        overdue=findings.overdue_inspection_findings(clock.today()),
        inspector_count=len(inspections.inspectors()),
        **_desk_context(),
    )
    return page, status


@bp.get("/inspections")
def inspections_index():
    """The supervision desk: the draw form, planned and recorded inspections, recent draws."""
    return _render_index(DrawForm())


@bp.post("/inspections/draws")
def draw_inspections():
    """Draw institutions and inspectors at random and plan their inspections."""
    form = DrawForm()
    if not form.validate_on_submit():
        return _render_index(form, 400)
    today = clock.today()
    try:
        drawn = run_in_transaction(
            lambda: (
                inspections.draw(
                    current_user, form.size.data, form.team_size.data, form.seed.data, today
                ).id
            )
        )
    except InspectionError as error:
        flash(str(error.message), "error")
        return _render_index(form, 400)
    except sa.exc.IntegrityError:
        # Another draw planned one of these institutions at the same moment (one planned
        # inspection per institution): nothing of this draw was kept.
        flash(
            _("Another draw was made at the same moment. Nothing was drawn: please draw again."),
            "error",
        )
        return _render_index(form, 409)
    flash(_("The draw is recorded and its inspections are planned."), "success")
    return redirect(url_for("regulator.inspection_draw", draw_id=drawn))


@bp.post("/inspections/plan")
def plan_inspection():
    """Plan an inspection of one filed institution, found by its filing number."""
    form = PlanForm()
    if not form.validate_on_submit():
        return _render_index(DrawForm(formdata=None), 400, form)
    try:
        planned = run_in_transaction(
            lambda: inspections.plan_by_filing_number(form.filing_number.data, current_user).id
        )
    except InspectionError as error:
        form.filing_number.errors = [*form.filing_number.errors, str(error.message)]
        return _render_index(DrawForm(formdata=None), 400, form)
    except sa.exc.IntegrityError:
        form.filing_number.errors = [_("An inspection of this institution is planned already.")]
        return _render_index(DrawForm(formdata=None), 409, form)
    flash(_("The inspection is planned."), "success")
    return redirect(url_for("regulator.record_inspection", inspection_id=planned))


@bp.get("/inspections/draws/<id:draw_id>")
def inspection_draw(draw_id: int):
    """One draw: seed, size, who drew, when, the pool's size and what came out."""
    found = or_404(inspections.draw_details(draw_id))
    return render_template(
        "regulator/inspections/draw.html",
        draw=found,
        reproduced=inspections.reproduces(found),
        **_desk_context(),
    )


def _record_form(inspection) -> RecordForm:
    form = RecordForm()
    form.inspectors.choices = choices(
        (user.id, user.display_name) for user in inspections.inspectors()
    )
    if not form.is_submitted():
        form.inspectors.data = [user.id for user in inspection.inspectors]
    return form


@bp.route("/inspections/<id:inspection_id>/record", methods=["GET", "POST"])
def record_inspection(inspection_id: int):
    """Write up a planned inspection; a recorded one shows its record instead."""
    inspection = or_404(inspections.inspection_details(inspection_id))
    if inspection.is_recorded:
        return redirect(url_for("regulator.inspection", inspection_id=inspection.id))
    form = _record_form(inspection)
    if form.validate_on_submit():
        try:
            run_in_transaction(lambda: _record(inspection.id, form))
        except InspectionError as error:
            # Recorded by somebody else meanwhile: their record is what the page shows.
            flash(str(error.message), "error")
            return redirect(url_for("regulator.inspection", inspection_id=inspection_id))
        flash(_("The inspection is recorded."), "success")
        return redirect(url_for("regulator.inspection", inspection_id=inspection_id))
    status = 400 if form.errors else 200
    page = render_template(
        "regulator/inspections/record.html",
        inspection=inspection,
        form=form,
        items=list(ChecklistItem),
        **_desk_context(),
    )
    return page, status


def _record(inspection_id: int, form: RecordForm) -> None:
    inspections.record(
        inspection_id,
        current_user,
        form.inspected_on.data,
        form.inspectors.data,
        form.results(),
        form.findings(),
        (form.notes.data or "").strip(),
        clock.now(),
        clock.today(),
    )


def _render_inspection(inspection, status: int = 200, close_forms: dict | None = None):
    forms = {
        finding.id: CloseForm(prefix=f"close-{finding.id}", formdata=None)
        for finding in inspection.findings
        if not finding.is_closed
    }
    forms.update(close_forms or {})
    page = render_template(
        "regulator/inspections/inspection.html",
        inspection=inspection,
        close_forms=forms,
        **_desk_context(),
    )
    return page, status


@bp.get("/inspections/<id:inspection_id>")
def inspection(inspection_id: int):
    """One inspection: its team, checklist, findings with the institution's answers."""
    found = or_404(inspections.inspection_details(inspection_id))
    if not found.is_recorded:
        return redirect(url_for("regulator.record_inspection", inspection_id=found.id))
    return _render_inspection(found)


@bp.post("/inspections/<id:inspection_id>/findings/<id:finding_id>/close")
def close_finding(inspection_id: int, finding_id: int):
    """Close a finding as put right on a date; the public page says whether in time."""
    found = or_404(inspections.inspection_details(inspection_id))
    finding = or_404(next((f for f in found.findings if f.id == finding_id), None))
    form = CloseForm(prefix=f"close-{finding.id}")
    if not form.validate_on_submit():
        return _render_inspection(found, 400, {finding.id: form})
    try:
        run_in_transaction(lambda: _close(finding, form.closed_on.data))
    except findings.FindingError as error:
        flash(str(error.message), "error")
        return redirect(url_for("regulator.inspection", inspection_id=inspection_id))
    flash(_("The finding is closed as put right."), "success")
    return redirect(url_for("regulator.inspection", inspection_id=inspection_id))


def _close(finding, closed_on) -> None:
    """An inspection finding is only ever closed as put right, on the day the bureau says."""
    today = clock.today()
    findings.close(finding, current_user, FindingStatus.PUT_RIGHT, closed_on, "", today)


def dashboard_overdue(region_id: int) -> dict:
    """What the dashboard's supervision section shows: the region's overdue findings."""
    return {"overdue_findings": findings.overdue_inspection_findings(clock.today(), region_id)}
