"""Forms of the institution staff pages."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    FormField,
    IntegerField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from careapp.forms import DateField, SiteForm, SubForm, choices
from careapp.labels import (
    AUTHORITY_LABELS,
    CARE_TYPE_LABELS,
    CLASS_KIND_LABELS,
    NATURE_LABELS,
    PRICE_REGIME_LABELS,
)
from careapp.models import CareType, ClassKind, Nature
from careapp.models.institution import DEFAULT_CANCEL_CUTOFF_HOURS
from careapp.models.provision import AGE_LIMIT_MONTHS, YOUNGEST_AGE_MONTHS
from careapp.services import locations, policy_rules
from careapp.validators import USCC, ChinaPhone

#: Empty class rows shown on the form, so that classes can be added without JavaScript.
CLASS_ROWS = 6
#: Upper bounds of numbers people type: far above any real value, far below an overflow.
MAX_CLASS_PLACES = 1_000  # the national standard narrows it per kind, with its own words
MAX_CARERS = 50
MAX_PRICE_YUAN = 100_000
MAX_STAFF = 1_000
#: Widget attributes that bring up the right phone keyboard and autofill.
NUMERIC = {"inputmode": "numeric"}
TELEPHONE = {"inputmode": "tel", "autocomplete": "tel"}
CODE = {"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"}
COORDINATE = {"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"}


def check_class_capacity(kind: str | None, capacity: int | None, carers: int | None) -> None:
    """Raise a translated ValidationError when ``capacity`` breaks the cap or the ratio
    (a mixed-age class's ratio: the default local rule; the profile form uses its region's)."""
    if kind not in ClassKind.values() or capacity is None or not carers:
        return
    problem = policy_rules.capacity_problem(kind, capacity, carers, None)
    if problem is not None:
        raise ValidationError(problem)


class CoordinateField(DecimalField):
    """Degrees as a decimal; ``NaN`` and infinities are refused as not a number."""

    def process_formdata(self, valuelist) -> None:
        """Parse the number, then refuse what is not a finite number."""
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))


def _class_kind_choices(blank=None) -> list:
    pairs = [(kind.value, label) for kind, label in CLASS_KIND_LABELS.items()]
    return choices([("", blank), *pairs] if blank is not None else pairs)


class CareClassForm(SiteForm):
    """One class: its kind, name, advertised capacity and number of carers."""

    kind = SelectField(_l("Class type"), choices=_class_kind_choices(), validators=[DataRequired()])
    name = StringField(_l("Class name"), validators=[DataRequired(), Length(max=64)])
    capacity = IntegerField(
        _l("Places"),
        validators=[
            DataRequired(),
            NumberRange(min=1, message=_l("At least one place.")),
            NumberRange(max=MAX_CLASS_PLACES),
        ],
        render_kw=NUMERIC,
    )
    carers = IntegerField(
        _l("Carers"),
        validators=[
            DataRequired(),
            NumberRange(min=1, message=_l("At least one carer.")),
            NumberRange(max=MAX_CARERS),
        ],
        render_kw=NUMERIC,
    )

    def validate_capacity(self, field: IntegerField) -> None:
        """Refuse a capacity above the national cap or above what the carers allow."""
        check_class_capacity(self.kind.data, field.data, self.carers.data)


class ClassRowForm(SubForm):
    """One row of the classes table; a row left empty is ignored."""

    kind = SelectField(_l("Class type"), choices=_class_kind_choices(blank=_l("No class")))
    name = StringField(_l("Class name"), validators=[Optional(), Length(max=64)])
    capacity = IntegerField(
        _l("Places"),
        validators=[Optional(), NumberRange(min=1, max=MAX_CLASS_PLACES)],
        render_kw=NUMERIC,
    )
    carers = IntegerField(
        _l("Carers"), validators=[Optional(), NumberRange(min=1, max=MAX_CARERS)], render_kw=NUMERIC
    )

    @property
    def is_blank(self) -> bool:
        """Whether nothing was chosen in this row."""
        return not self.kind.data

    def validate(self, extra_validators=None) -> bool:
        """The fields' own checks, then: a filled row needs places and carers (checked here:
        an empty field's ``Optional`` stops its chain). The profile form then checks the
        standard, which needs the region (a mixed-age class's ratio is a local rule)."""
        valid = super().validate(extra_validators)
        if self.is_blank or self.capacity.errors or self.carers.errors:
            return valid
        if self.capacity.data is None or self.carers.data is None:
            self.capacity.errors = [
                *self.capacity.errors,
                str(_l("Enter the places and the carers of this class.")),
            ]
            return False
        return valid

    @property
    def is_complete(self) -> bool:
        """Whether the row is filled and its own checks passed."""
        return not (self.is_blank or self.capacity.errors or self.carers.errors or self.kind.errors)

    def as_dict(self) -> dict:
        """The class as model values."""
        name = (self.name.data or "").strip() or str(CLASS_KIND_LABELS[ClassKind(self.kind.data)])
        return {
            "kind": ClassKind(self.kind.data),
            "name": name[:64],
            "capacity": self.capacity.data,
            "carers": self.carers.data,
        }


class OfferRowForm(SubForm):
    """One care type: whether it is offered, its hours, price and ages."""

    offered = BooleanField(_l("Offered"))
    opens_at = TimeField(_l("Opens"), validators=[Optional()])
    closes_at = TimeField(_l("Closes"), validators=[Optional()])
    price_yuan = IntegerField(
        _l("Price in yuan"),
        validators=[Optional(), NumberRange(min=0, max=MAX_PRICE_YUAN)],
        render_kw=NUMERIC,
    )
    min_age_months = IntegerField(
        _l("From age (months)"),
        validators=[Optional(), NumberRange(min=YOUNGEST_AGE_MONTHS, max=AGE_LIMIT_MONTHS - 1)],
        render_kw=NUMERIC,
    )
    max_age_months = IntegerField(
        _l("Up to age (months, not included)"),
        validators=[Optional(), NumberRange(min=YOUNGEST_AGE_MONTHS + 1, max=AGE_LIMIT_MONTHS)],
        render_kw=NUMERIC,
    )

    def validate(self, extra_validators=None) -> bool:
        """The fields' own checks, then what an offered care type needs.

        The row's rules run here, not as ``validate_<field>`` methods: an empty field's
        ``Optional`` validator stops its chain before those would run.
        """
        valid = super().validate(extra_validators)
        if not self.offered.data:
            return valid
        for field, message in self._offered_problems():
            field.errors = [*field.errors, message]
            valid = False
        return valid

    def _offered_problems(self):
        """``(field, message)`` for each thing an offered care type is missing."""
        if self.opens_at.data is None or self.closes_at.data is None:
            yield self.closes_at, _l("Enter the opening hours.")
        elif self.closes_at.data <= self.opens_at.data:
            yield self.closes_at, _l("Closing time must be after opening time.")
        if self.price_yuan.data is None and not self.price_yuan.errors:
            yield self.price_yuan, _l("Enter the price.")
        if self.min_age_months.data is None or self.max_age_months.data is None:
            if not (self.min_age_months.errors or self.max_age_months.errors):
                yield self.max_age_months, _l("Enter the ages this care type accepts.")
        elif self.max_age_months.data <= self.min_age_months.data:
            yield self.max_age_months, _l("The upper age must be above the lower age.")


class OffersForm(SubForm):
    """The four care types, one row each."""

    full_day = FormField(OfferRowForm, label=CARE_TYPE_LABELS[CareType.FULL_DAY])
    half_day = FormField(OfferRowForm, label=CARE_TYPE_LABELS[CareType.HALF_DAY])
    hourly = FormField(OfferRowForm, label=CARE_TYPE_LABELS[CareType.HOURLY])
    temporary = FormField(OfferRowForm, label=CARE_TYPE_LABELS[CareType.TEMPORARY])


def _optional_date(label) -> DateField:
    return DateField(label, validators=[Optional()])


class InstitutionForm(SiteForm):
    """An institution's profile and filing declarations."""

    name = StringField(
        _l("Registered name"),
        validators=[DataRequired(), Length(max=120)],
        render_kw={"autocomplete": "organization"},
    )
    name_en = StringField(_l("English name (optional)"), validators=[Optional(), Length(max=160)])
    township_id = SelectField(_l("Township"), coerce=int, validators=[InputRequired()])
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=200)])
    address_en = StringField(
        _l("English address (optional)"), validators=[Optional(), Length(max=240)]
    )
    phone = TelField(
        _l("Contact telephone (for the health bureau, not published)"),
        validators=[DataRequired(), ChinaPhone(), Length(max=32)],
        render_kw=TELEPHONE,
    )
    public_phone = TelField(
        _l("Public telephone (optional)"),
        validators=[Optional(), ChinaPhone(), Length(max=32)],
        render_kw=TELEPHONE,
    )
    coordinate_system = SelectField(
        _l("Where the coordinates come from"),
        choices=choices(locations.COORDINATE_SYSTEM_LABELS.items()),
        default=locations.CoordinateSystem.GCJ02.value,
    )
    latitude = CoordinateField(
        _l("Latitude"),
        places=None,
        validators=[
            Optional(),
            NumberRange(min=-90, max=90, message=_l("A latitude lies between -90 and 90.")),
        ],
        render_kw=COORDINATE,
    )
    longitude = CoordinateField(
        _l("Longitude"),
        places=None,
        validators=[
            Optional(),
            NumberRange(min=-180, max=180, message=_l("A longitude lies between -180 and 180.")),
        ],
        render_kw=COORDINATE,
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    description_en = TextAreaField(
        _l("English description (optional)"), validators=[Optional(), Length(max=2000)]
    )
    what_to_bring = TextAreaField(_l("What to bring"), validators=[Optional(), Length(max=500)])
    what_to_bring_en = TextAreaField(
        _l("What to bring, in English (optional)"), validators=[Optional(), Length(max=500)]
    )
    nature = SelectField(
        _l("Nature"), choices=choices((n.value, label) for n, label in NATURE_LABELS.items())
    )
    #: The view narrows the choices to the authorities the chosen region offers.
    authority = SelectField(
        _l("Registration authority"),
        choices=choices((a.value, label) for a, label in AUTHORITY_LABELS.items()),
    )
    #: Left blank, the nature's usual regime (NATURE_PRICE_REGIMES) is taken.
    price_regime = SelectField(
        _l("How prices are set"),
        choices=choices(
            [
                ("", _l("The usual way for the nature")),
                *((r.value, label) for r, label in PRICE_REGIME_LABELS.items()),
            ]
        ),
        default="",
    )
    uscc = StringField(
        _l("Unified social credit code"),
        validators=[DataRequired(), USCC("authority")],
        render_kw=CODE,
    )
    registered_on = _optional_date(_l("Registration date"))
    cancel_cutoff_hours = IntegerField(
        _l("Parents may cancel until this many hours before the start"),
        validators=[Optional(), NumberRange(min=0, max=72)],
        render_kw=NUMERIC,
        default=DEFAULT_CANCEL_CUTOFF_HOURS,
    )

    premises_owned = BooleanField(_l("The premises are our own"))
    lease_ends_on = _optional_date(_l("Lease ends on (if leased)"))
    health_evaluation_on = _optional_date(_l("Health evaluation passed on"))
    fire_acceptance_on = _optional_date(_l("Fire-safety acceptance on"))
    serves_meals = BooleanField(_l("We serve meals"))
    food_licence_number = StringField(
        _l("Food business licence number"),
        validators=[Optional(), Length(max=32)],
        render_kw=CODE,
    )
    food_licence_expires_on = _optional_date(_l("Food business licence valid until"))
    staff_count = IntegerField(
        _l("Staff"),
        validators=[Optional(), NumberRange(min=0, max=MAX_STAFF)],
        render_kw=NUMERIC,
        default=0,
    )
    certified_staff_count = IntegerField(
        _l("Staff holding a childcare certificate"),
        validators=[Optional(), NumberRange(min=0, max=MAX_STAFF)],
        render_kw=NUMERIC,
        default=0,
    )
    staff_health_checked_on = _optional_date(_l("Last yearly staff health check"))
    cctv_covers_all_areas = BooleanField(_l("CCTV covers every area children use"))
    cctv_retention_days = IntegerField(
        _l("Days CCTV recordings are kept"),
        validators=[Optional(), NumberRange(min=0, max=3650)],
        render_kw=NUMERIC,
        default=0,
    )
    commitment_accepted = BooleanField(
        _l("We accept the filing commitment letter and declare the above to be true")
    )

    classes = FieldList(FormField(ClassRowForm), min_entries=CLASS_ROWS, max_entries=20)
    offers = FormField(OffersForm)

    #: Set by the view: a filed institution's location may be corrected, never removed.
    location_required = False

    def check_together(self, fields_valid: bool) -> bool:
        """The policies' rules (authority, prices, classes and ages by nature), then the
        location's: both numbers or neither (both once filed), and inside the region of the
        chosen township."""
        valid = self._check_policy_rules() and fields_valid
        if self.latitude.errors or self.longitude.errors or self.township_id.errors:
            return valid
        problem = self._location_problem()
        if problem is not None:
            self.latitude.errors = [*self.latitude.errors, str(problem)]
            return False
        return valid

    def _check_policy_rules(self) -> bool:
        """Put each broken policy rule on the field it concerns; whether none is broken."""
        region = None if self.township_id.errors else policy_rules.region_of(self.township_id.data)
        nature = self.nature.data if self.nature.data in Nature.values() else None
        found = [
            (self.authority, policy_rules.authority_problem(self._choice(self.authority), region)),
            (
                self.price_regime,
                policy_rules.price_regime_problem(nature, self._choice(self.price_regime)),
            ),
        ]
        for row in self.classes:
            found.extend(self._class_row_problems(row.form, nature, region))
        for care_type in CareType:
            row = self.offers.form[care_type.value].form
            if row.offered.data and not (row.min_age_months.errors or row.max_age_months.errors):
                problem = policy_rules.offer_age_problem(
                    nature, row.min_age_months.data, row.max_age_months.data
                )
                found.append((row.min_age_months, problem))
        broken = [(field, problem) for field, problem in found if problem is not None]
        for field, problem in broken:
            field.errors = [*field.errors, str(problem)]
        if broken:
            self._forget_cached_errors()
        return not broken

    def _forget_cached_errors(self) -> None:
        """WTForms keeps the nested forms' errors from their own validation: gather them
        again so that the errors added since show in the summary too."""
        for row in self.classes:
            row.form._errors = None
        own = [error for error in self.classes.errors if not isinstance(error, dict)]
        self.classes.errors = [row.errors for row in self.classes] + own
        for care_type in CareType:
            self.offers.form[care_type.value].form._errors = None
        self.offers.form._errors = None
        self._errors = None

    @staticmethod
    def _choice(field: SelectField):
        """The chosen value when it is one of the field's choices, else None."""
        return field.data if not field.errors and field.data else None

    @staticmethod
    def _class_row_problems(row: ClassRowForm, nature, region) -> list:
        """``(field, problem)`` of one class row: its kind for the nature, its size."""
        if not row.is_complete:
            return []
        return [
            (row.kind, policy_rules.class_kind_problem(nature, row.kind.data)),
            (
                row.capacity,
                policy_rules.capacity_problem(
                    row.kind.data, row.capacity.data, row.carers.data, region
                ),
            ),
        ]

    def _location_problem(self):
        """The translated reason the typed location cannot be kept, or None."""
        latitude, longitude = self.latitude.data, self.longitude.data
        if latitude is None and longitude is None:
            if self.location_required:
                return _l("Enter the latitude and the longitude of the institution.")
            return None
        if latitude is None or longitude is None:
            return _l("Enter both the latitude and the longitude, or neither.")
        region = locations.region_of_township(self.township_id.data)
        if region is None:
            return None
        return locations.outside_region_message(region, *self.wgs84_location())

    def wgs84_location(self) -> tuple:
        """The typed location as stored: WGS-84, six decimals; ``(None, None)`` when blank."""
        if self.latitude.data is None or self.longitude.data is None:
            return None, None
        return locations.to_wgs84(
            self.latitude.data, self.longitude.data, self.coordinate_system.data
        )

    def validate_certified_staff_count(self, field: IntegerField) -> None:
        """Certified staff are part of the staff."""
        if (field.data or 0) > (self.staff_count.data or 0):
            raise ValidationError(_l("Certified staff cannot outnumber the staff."))

    def validate_classes(self, field: FieldList) -> None:
        """At least one class."""
        if all(row.form.is_blank for row in field):
            raise ValidationError(_l("Add at least one class."))

    def class_rows(self) -> list[dict]:
        """The filled class rows as model values."""
        return [row.form.as_dict() for row in self.classes if not row.form.is_blank]

    def offer_rows(self) -> list[dict]:
        """The offered care types as model values."""
        rows = []
        for care_type in CareType:
            row = self.offers.form[care_type.value].form
            if row.offered.data:
                rows.append(
                    {
                        "care_type": care_type,
                        "opens_at": row.opens_at.data,
                        "closes_at": row.closes_at.data,
                        "price_yuan": row.price_yuan.data,
                        "min_age_months": row.min_age_months.data,
                        "max_age_months": row.max_age_months.data,
                    }
                )
        return rows


class ConfirmForm(SiteForm):
    """A button that only carries the CSRF token."""
