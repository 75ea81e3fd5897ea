"""Form validators backed by well-kept libraries (phonenumbers, python-stdnum, zxcvbn)."""

import phonenumbers
from flask_babel import lazy_gettext as _l
from stdnum.cn import uscc as uscc_codec
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError
from wtforms.validators import ValidationError

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


#: Registration authority codes, the first character of a USCC (GB 32100-2015).
USCC_AUTHORITY_CODES = frozenset("123456789ANY")
#: GB 11714 weights of the eight characters of an organisation code (USCC characters 9–16).
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


_FIRST_CHARACTER = _l(
    "The first character, the registration authority's code, must be a digit from 1 to 9."
)


def organisation_code_check(body: str) -> str:
    """The GB 11714 check character of an eight-character organisation code."""
    total = sum(int(char, 36) * weight for char, weight in zip(body, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def uscc_problem(code: str):
    """What is wrong with a credit code, as a translated sentence, or None when it is valid.

    python-stdnum checks the length, the characters and the final check character; the
    organisation code's own check digit (the 17th character) is checked here, before the
    final one, because a mistyped organisation code breaks both.
    """
    try:
        uscc_codec.validate(code)
    except InvalidLength:
        return _l(
            "A credit code has 18 characters; this one has %(count)d.",
            count=len(uscc_codec.compact(code)),
        )
    except InvalidFormat:
        return _format_problem(uscc_codec.compact(code))
    except InvalidChecksum:
        pass
    except StdnumError:
        return _l("This is not a valid unified social credit code.")
    if code[0] not in USCC_AUTHORITY_CODES:
        return _FIRST_CHARACTER
    if organisation_code_check(code[8:16]) != code[16]:
        return _l(
            "The 17th character, the check digit of the organisation code (characters 9 to"
            " 17), does not match: please check characters 9 to 17."
        )
    if uscc_codec.calc_check_digit(code[:17]) != code[17]:
        return _l(
            "The last character, the check character of the whole code, does not match:"
            " please check every character."
        )
    return None


def _format_problem(code: str):
    """Which characters of an 18-character credit code are not allowed where they stand."""
    if code[0] not in USCC_AUTHORITY_CODES:
        return _FIRST_CHARACTER
    if not code[:8].isdigit():
        return _l(
            "Characters 1 to 8 (registration authority, kind of organisation and area code)"
            " must be digits."
        )
    return _l("A credit code holds only digits and capital letters other than I, O, S, V and Z.")


class USCC:
    """The field holds a valid Unified Social Credit Code matching the chosen authority; an
    invalid code is refused with the check that failed.

    ``authority_field`` names the form field with the registration authority.
    """

    def __init__(self, authority_field: str = "authority"):
        self.authority_field = authority_field

    def __call__(self, form, field) -> None:
        code = (field.data or "").strip().upper()
        problem = uscc_problem(code)
        if problem is not None:
            raise ValidationError(problem)
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
#: The longest password zxcvbn scores (it refuses longer ones); a longer passphrase is scored
#: on its start, which is at least as hard to guess as the whole.
ZXCVBN_MAX_LENGTH = 72
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
        # Imported here: its dictionaries take 12 MB, which a worker needs only for passwords.
        from zxcvbn import zxcvbn

        if zxcvbn(field.data[:ZXCVBN_MAX_LENGTH], user_inputs=words)["score"] < MIN_PASSWORD_SCORE:
            raise ValidationError(
                _l(
                    "This password is too easy to guess: it is a common one or a simple"
                    " pattern. Try a few unrelated words."
                )
            )
