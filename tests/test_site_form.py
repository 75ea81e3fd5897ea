"""Every form of the site refuses NUL characters before its own checks run."""

import pytest
from wtforms import FieldList, FormField, StringField
from wtforms import Form as PlainForm
from wtforms.validators import DataRequired

from careapp.forms import SiteForm


class Row(PlainForm):
    note = StringField()


class Sample(SiteForm):
    name = StringField(validators=[DataRequired()])
    row = FormField(Row)
    rows = FieldList(StringField(), min_entries=2)


def validate(app, data: dict) -> Sample:
    with app.test_request_context("/", method="POST", data=data):
        form = Sample(meta={"csrf": False})
        form.is_valid = form.validate()
        return form


@pytest.mark.parametrize("field", ["name", "row-note", "rows-1"])
def test_a_nul_character_anywhere_in_a_form_is_refused_with_a_message_and_kept(app, field):
    data = {"name": "张三", "row-note": "ok", "rows-0": "a", "rows-1": "b"} | {field: "a\x00b"}

    form = validate(app, data)

    assert form.is_valid is False
    errors = {
        "name": form.name.errors,
        "row-note": form.row.note.errors,
        "rows-1": form.rows.entries[1].errors,
    }
    assert [str(message) for message in errors.pop(field)] == [
        "Please remove the invisible control characters."
    ]
    assert all(not messages for messages in errors.values())
    assert form.data["name"] == data["name"]


def test_a_form_without_nul_characters_runs_its_own_checks(app):
    assert validate(app, {"name": "张三", "row-note": "a\tb"}).is_valid is True
    assert validate(app, {"name": ""}).is_valid is False


def test_every_form_of_the_site_is_a_site_form(app):
    from flask_wtf import FlaskForm

    direct = [form for form in FlaskForm.__subclasses__() if form.__module__.startswith("careapp")]

    assert direct == [SiteForm]
    assert len(SiteForm.__subclasses__()) > 20
