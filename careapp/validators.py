"""Form validators backed by well-kept libraries (phonenumbers, python-stdnum, zxcvbn)."""

import phonenumbers
from flask_babel import lazy_gettext as _l
from stdnum.cn import uscc as uscc_codec
from stdnum.exceptions import ValidationError as StdnumError
from wtforms.validators import ValidationError
from zxcvbn import zxcvbn

from careapp.models import Authority
from careapp.models.institution import uscc_matches_authority


def china_mobile_e164(text: str) -> str | None:
    """``text`` as an E.164 Chinese mobile number, or None when it is not one."""
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number) or number.country_code != 86:
        return None
    if phonenumbers.number_type(number) != phonenumbers.PhoneNumberType.MOBILE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class ChinaMobile:
    """The field holds a valid Chinese mobile number (it may be left empty)."""

    def __call__(self, form, field) -> None:
        if field.data and china_mobile_e164(field.data) is None:
            raise ValidationError(_l("Please enter an 11-digit mainland China mobile number."))


def china_phone(text: str) -> bool:
    """Whether ``text`` is a valid Chinese landline or mobile number."""
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and number.country_code == 86


class ChinaPhone:
    """The field holds a valid Chinese landline (with area code) or mobile number."""

    def __call__(self, form, field) -> None:
        if field.data and not china_phone(field.data):
            raise ValidationError(
                _l("Please enter a phone number with its area code, e.g. 0595-85661234.")
            )


class USCC:
    """The field holds a valid Unified Social Credit Code matching the chosen authority.

    ``authority_field`` names the form field with the registration authority.
    """

    def __init__(self, authority_field: str = "authority"):
        self.authority_field = authority_field

    def __call__(self, form, field) -> None:
        code = (field.data or "").strip().upper()
        try:
            uscc_codec.validate(code)
        except StdnumError as error:
            raise ValidationError(
                _l("This is not a valid unified social credit code (18 characters).")
            ) from error
        field.data = code
        authority = form[self.authority_field].data
        if authority in Authority.values() and not uscc_matches_authority(
            code, Authority(authority)
        ):
            raise ValidationError(
                _l("This code does not belong to the registration authority you chose.")
            )


#: zxcvbn's strength score a new password needs (0 to 4; 3: "safely unguessable" online).
MIN_PASSWORD_SCORE = 3
#: Words of passwords common in China that zxcvbn's English dictionaries do not hold.
COMMON_CHINESE_WORDS = ("woaini", "aini", "1314", "520", "5201314", "baobao", "tuoyu")


class HardToGuess:
    """The password is not a common one or a simple pattern (zxcvbn), nor built from the
    site's own words or the fields named in ``related`` (such as the e-mail address)."""

    def __init__(self, *related: str):
        self.related = related

    def __call__(self, form, field) -> None:
        if not field.data:
            return
        words = [*COMMON_CHINESE_WORDS, "careapp", "jinjiang"]
        words += [str(form[name].data or "") for name in self.related if name in form]
        if zxcvbn(field.data[:100], user_inputs=words)["score"] < MIN_PASSWORD_SCORE:
            raise ValidationError(
                _l(
                    "This password is too easy to guess: it is a common one or a simple"
                    " pattern. Try a few unrelated words."
                )
            )
