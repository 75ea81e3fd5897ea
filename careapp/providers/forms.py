"""Forms of the guidance provider pages: the organisation, courses, sessions and attendance."""

from datetime import datetime

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from careapp.forms import DateField, SiteForm, choices
from careapp.institutions.forms import NUMERIC, TELEPHONE
from careapp.labels import COURSE_FORMAT_LABELS, ORGANISATION_TYPE_LABELS, TOPIC_LABELS
from careapp.models import CourseFormat, OrganisationType, Topic
from careapp.services.courses import MAX_SERIES_WEEKS
from careapp.validators import ChinaPhone

#: Bounds of the course form's numbers (ages in months as the model's check allows).
MIN_AGE_MONTHS = (0, 35)
MAX_AGE_MONTHS = (1, 36)
DURATION_MINUTES = (15, 480)
SEATS = (1, 500)
#: What a datetime-local input sends (browsers leave the seconds out unless asked).
LOCAL_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
WEB_SCHEMES = ("https://", "http://")


def optional_id(value) -> int | None:
    """A select's value as an id, None for the empty choice."""
    if value is None or value == "":
        return None
    return int(value)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _fill_bounds(message, low: int, high: int) -> str:
    return str(message) % {"min": low, "max": high}


def _number(label, bounds: tuple[int, int], message, default: int | None = None) -> IntegerField:
    """A required whole number within ``bounds``; ``message`` is its one error, for any mistake."""
    # The message names the bounds (%(min)d, %(max)d), filled in when it is shown.
    low, high = bounds
    text = LazyString(_fill_bounds, message, low, high)

    def within(form: SiteForm, field: IntegerField) -> None:
        if field.data is not None and not low <= field.data <= high:
            raise ValidationError(text)

    return IntegerField(
        label,
        validators=[InputRequired(message=text), within],
        invalid_value_message=text,
        default=default,
        render_kw=NUMERIC,
    )


def _web_address(form: SiteForm, field: URLField) -> None:
    """A link, when given, is a whole web address starting with https:// or http://."""
    value = field.data or ""
    if not value:
        return
    host = value.split("://", 1)[-1]
    if not value.lower().startswith(WEB_SCHEMES) or not host or any(c.isspace() for c in value):
        raise ValidationError(_l("Enter a web address that starts with https:// or http://."))


class OrganisationForm(SiteForm):
    """The provider's organisation, verified by the county health bureau."""

    name = StringField(
        _l("Name of the organisation"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Enter the name of the organisation.")),
            Length(max=120),
        ],
        render_kw={"autocomplete": "organization"},
    )
    name_en = StringField(
        _l("English name (optional)"), filters=[_strip], validators=[Length(max=160)]
    )
    organisation_type = SelectField(
        _l("Type of organisation"),
        choices=choices((kind.value, name) for kind, name in ORGANISATION_TYPE_LABELS.items()),
    )
    township_id = SelectField(_l("Township (optional)"), coerce=optional_id)
    phone = TelField(
        _l("Telephone"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Enter a telephone number families can call.")),
            ChinaPhone(),
            Length(max=32),
        ],
        render_kw=TELEPHONE,
    )

    def provider_fields(self) -> dict:
        """The organisation as model values."""
        return {
            "name": self.name.data,
            "name_en": self.name_en.data or None,
            "organisation_type": OrganisationType(self.organisation_type.data),
            "township_id": self.township_id.data,
            "phone": self.phone.data,
        }


class CourseForm(SiteForm):
    """A new course: what, where, for whom, when, how many seats and when families register."""

    title = StringField(
        _l("Title"),
        filters=[_strip],
        validators=[DataRequired(message=_l("Enter the title of the course.")), Length(max=120)],
    )
    description = TextAreaField(
        _l("Course description"), filters=[_strip], validators=[Length(max=4000)]
    )
    topic = SelectField(
        _l("Topic"), choices=choices((topic.value, name) for topic, name in TOPIC_LABELS.items())
    )
    format = RadioField(
        _l("Format"),
        choices=choices((kind.value, name) for kind, name in COURSE_FORMAT_LABELS.items()),
        default=CourseFormat.IN_PERSON.value,
    )
    township_id = SelectField(_l("Township"), coerce=optional_id)
    address = StringField(_l("Address"), filters=[_strip], validators=[Length(max=200)])
    link = URLField(
        _l("Link"),
        filters=[_strip],
        validators=[Length(max=300), _web_address],
        render_kw={"inputmode": "url", "spellcheck": "false", "autocapitalize": "none"},
    )
    min_age_months = _number(
        _l("From age (months)"),
        MIN_AGE_MONTHS,
        _l("Enter an age from %(min)d to %(max)d months."),
        default=0,
    )
    max_age_months = _number(
        _l("Up to age (months, not included)"),
        MAX_AGE_MONTHS,
        _l("Enter an age from %(min)d to %(max)d months."),
        default=36,
    )
    first_date = DateField(
        _l("Date of the first session"),
        validators=[InputRequired(message=_l("Enter the date of the first session."))],
    )
    start_time = TimeField(
        _l("Start time"),
        validators=[InputRequired(message=_l("Enter the time the sessions start."))],
    )
    duration_minutes = _number(
        _l("Length of each session in minutes"),
        DURATION_MINUTES,
        _l("Enter a length from %(min)d to %(max)d minutes."),
        default=60,
    )
    weeks = _number(
        _l("Number of weekly sessions"),
        (1, MAX_SERIES_WEEKS),
        _l("Enter a number of sessions from %(min)d to %(max)d."),
        default=1,
    )
    seats = _number(
        _l("Seats in each session"),
        SEATS,
        _l("Enter a number of seats from %(min)d to %(max)d."),
    )
    allow_second_seat = BooleanField(_l("A family may take a second seat for another carer"))
    registration_opens_at = DateTimeLocalField(
        _l("Registration opens at"),
        format=LOCAL_DATETIME_FORMATS,
        validators=[InputRequired(message=_l("Enter when registration opens."))],
    )
    registration_closes_at = DateTimeLocalField(
        _l("Registration closes at"),
        format=LOCAL_DATETIME_FORMATS,
        validators=[InputRequired(message=_l("Enter when registration closes."))],
    )

    @property
    def in_person(self) -> bool:
        """Whether the course is given in person."""
        return self.format.data == CourseFormat.IN_PERSON

    @property
    def first_start(self) -> datetime | None:
        """The start of the first session, when its date and time could be read."""
        if self.first_date.data is None or self.start_time.data is None:
            return None
        return datetime.combine(self.first_date.data, self.start_time.data)

    def validate_township_id(self, field: SelectField) -> None:
        """A course in person names its township."""
        if self.in_person and field.data is None:
            raise ValidationError(_l("Choose the township where the course takes place."))

    def validate_address(self, field: StringField) -> None:
        """A course in person names its address."""
        if self.in_person and not field.data:
            raise ValidationError(_l("Enter the address where the course takes place."))

    def validate_link(self, field: URLField) -> None:
        """A live or recorded course has its link."""
        if not self.in_person and not field.data:
            raise ValidationError(_l("Enter the link families use to follow the course."))

    def validate_max_age_months(self, field: IntegerField) -> None:
        """The age range is not empty (once both ages are valid on their own)."""
        if field.errors or self.min_age_months.errors:
            return
        if field.data <= self.min_age_months.data:
            raise ValidationError(_l("The upper age must be above the lower age."))

    def validate_registration_closes_at(self, field: DateTimeLocalField) -> None:
        """Registration closes after it opens and not after the first session starts."""
        opens, closes, first_start = self.registration_opens_at.data, field.data, self.first_start
        if opens is not None and closes is not None and closes <= opens:
            raise ValidationError(_l("Registration must close after it opens."))
        if first_start is not None and closes is not None and closes > first_start:
            raise ValidationError(
                _l("Registration must close no later than the start of the first session.")
            )

    def course_fields(self) -> dict:
        """The course as model values; the place or the link, whichever the format needs."""
        course_format = CourseFormat(self.format.data)
        in_person = course_format == CourseFormat.IN_PERSON
        return {
            "title": self.title.data,
            "description": self.description.data or "",
            "topic": Topic(self.topic.data),
            "format": course_format,
            "township_id": self.township_id.data if in_person else None,
            "address": self.address.data if in_person else None,
            "link": None if in_person else self.link.data,
            "min_age_months": self.min_age_months.data,
            "max_age_months": self.max_age_months.data,
            "seats": self.seats.data,
            "allow_second_seat": bool(self.allow_second_seat.data),
            "registration_opens_at": self.registration_opens_at.data,
            "registration_closes_at": self.registration_closes_at.data,
        }


class CancelSessionForm(SiteForm):
    """Cancel one session; the registered families read the reason."""

    reason = StringField(
        _l("Reason for cancelling"),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Please give the reason; the families will read it.")),
            Length(max=300),
        ],
    )


class AttendanceForm(SiteForm):
    """Whether a registered family came (``y``) or not (``n``)."""

    attended = SelectField(choices=choices([("y", "y"), ("n", "n")]), validators=[InputRequired()])

    @property
    def came(self) -> bool:
        """Whether the family is recorded as attended."""
        return self.attended.data == "y"
