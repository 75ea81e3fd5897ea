"""Every form of the site refuses control characters (NUL, …) before its own checks run, and
shows the field again without them."""

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
def test_a_nul_character_anywhere_in_a_form_is_refused_with_a_message_and_taken_out(app, field):
    data = {"name": "张三", "row-note": "ok", "rows-0": "a", "rows-1": "b"} | {field: "a\x00b"}

    form = validate(app, data)

    assert form.is_valid is False
    errors = {
        "name": form.name.errors,
        "row-note": form.row.note.errors,
        "rows-1": form.rows.entries[1].errors,
    }
    assert [str(message) for message in errors.pop(field)] == [
        "Invisible control characters have been removed from this field."
        " Please check it and send the form again."
    ]
    assert all(not messages for messages in errors.values())
    assert form.data["name"] == data["name"].replace("\x00", "")
    assert [entry.data for entry in form.rows.entries][1] == data["rows-1"].replace("\x00", "")


def test_a_form_without_nul_characters_runs_its_own_checks(app):
    assert validate(app, {"name": "张三", "row-note": "a\tb"}).is_valid is True
    assert validate(app, {"name": ""}).is_valid is False


def test_every_form_of_the_site_is_a_site_form(app):
    from flask_wtf import FlaskForm

    direct = [form for form in FlaskForm.__subclasses__() if form.__module__.startswith("careapp")]

    assert direct == [SiteForm]
    assert len(SiteForm.__subclasses__()) > 20
