"""Children's names (masked in lists, the given name only in messages) and how long their
data is kept."""

import calendar
import re
from datetime import date, datetime
from itertools import groupby

from flask import current_app

#: Months a child's details are kept after its last booking ends (PIPL Art. 19, 47), unless
#: ``CHILD_DATA_RETENTION_MONTHS`` says otherwise.
DEFAULT_RETENTION_MONTHS = 12

#: Two-character Chinese surnames (复姓) that keep both characters as the surname.
COMPOUND_SURNAMES = frozenset(
    {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "令狐", "夏侯"}
)


def _is_chinese(name: str) -> bool:
    return all("\u4e00" <= character <= "\u9fff" for character in name)


def mask_name(name: str) -> str:
    """Mask all but the ends: ``张小明`` → ``张*明``, ``李明`` → ``李*``, ``Tom`` → ``T**``."""
    name = name.strip()
    if not name:
        return ""
    if " " in name:
        return " ".join(part[0] + "*" * (len(part) - 1) for part in name.split())
    if len(name) <= 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def given_name(name: str) -> str:
    """The given name alone, the only part of a child's name a message (e-mail, SMS, calendar)
    carries, whatever the script:

    - Chinese (and Korean, Japanese) names put the surname first: ``张小明`` → ``小明``,
      ``欧阳娜娜`` → ``娜娜`` (a compound surname), ``王 小明`` → ``小明`` (written apart).
    - A name with a middle dot (``艾力·买买提``) puts the given name first: ``艾力``.
    - Latin-script names put the given name first (``Emma Wang`` → ``Emma``) unless the first
      word is a surname: in capitals (``WANG Xiaoming``) or a common pinyin surname
      (``Wang Xiaoming``) → ``Xiaoming``.
    - Mixed names (``王Emma``, ``Emma 王``, ``王小明 Emma``) give the first Latin word that is
      not a surname (``Emma``); without one, the Chinese part less a known surname.

    A one-word name has nothing to drop and is given whole.
    """
    name = " ".join(name.split())
    if not name:
        return ""
    if _MIDDLE_DOT.search(name):
        return _MIDDLE_DOT.split(name)[0].strip() or name
    runs = _script_runs(name)
    chinese = [text for text, is_cjk in runs if is_cjk]
    latin = [text for text, is_cjk in runs if not is_cjk and any(c.isalpha() for c in text)]
    if not latin:
        return _chinese_given(chinese) if chinese else name
    if not chinese:
        return _latin_given(latin)
    return _mixed_given(chinese, latin)


#: Common single-character Chinese surnames, used only where a name's order is unclear.
COMMON_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏"
    "苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛阎段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤洪柯庄施"
)
#: Common Chinese surnames in pinyin: a Latin-script name starting with one is surname first.
PINYIN_SURNAMES = frozenset(
    "wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin luo gao zheng"
    " liang xie song tang han feng deng cao peng zeng xiao tian dong pan yuan cai jiang yu du ye"
    " cheng wei su lu ding ren shen yao jin fu zhong cui tan shi qiu hou lei long duan hao kong"
    " shao meng xiong qin gu lai yan hong ke zhuang ouyang sima shangguan zhuge dongfang"
    " huangfu yuchi gongsun murong zhangsun linghu xiahou".split()
)
#: Separators of transliterated names (维吾尔族 and foreign names written in Chinese).
_MIDDLE_DOT = re.compile("[·・•‧]")


def _is_cjk(character: str) -> bool:
    """Han, kana or Hangul: scripts whose names put the surname first."""
    code = ord(character)
    return (
        0x3040 <= code <= 0x30FF  # kana
        or 0x3400 <= code <= 0x9FFF  # Han
        or 0xAC00 <= code <= 0xD7AF  # Hangul syllables
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
    )


def _script_runs(name: str) -> list[tuple[str, bool]]:
    """The name's words split further where the script changes: ``王Emma`` → 王, Emma."""
    runs = []
    for word in name.split():
        runs += [("".join(run), is_cjk) for is_cjk, run in groupby(word, key=_is_cjk)]
    return runs


def _chinese_given(words: list[str]) -> str:
    """Surname first: the words after the first, or one word less its surname."""
    if len(words) > 1:
        return "".join(words[1:])
    word = words[0]
    surname_length = 2 if word[:2] in COMPOUND_SURNAMES and len(word) > 2 else 1
    return word[surname_length:] or word


def _is_latin_surname(word: str) -> bool:
    return (word.isupper() and len(word) > 1) or word.lower() in PINYIN_SURNAMES


def _latin_given(words: list[str]) -> str:
    """Given name first, unless a surname is marked in capitals (then the other words) or the
    first word is a pinyin surname (then the words after it)."""
    if len(words) == 1:
        return words[0]
    if not all(word.isupper() for word in words):
        marked = [word for word in words if not (word.isupper() and len(word) > 1)]
        if len(marked) < len(words) and marked:
            return " ".join(marked)
    if words[0].lower() in PINYIN_SURNAMES:
        return " ".join(words[1:])
    return words[0]


def _mixed_given(chinese: list[str], latin: list[str]) -> str:
    """The first Latin word that is not a surname; else the Chinese part less its surname."""
    given = [word for word in latin if not _is_latin_surname(word)]
    if given:
        return given[0]
    text = "".join(chinese)
    for length in (2, 1):
        known = COMPOUND_SURNAMES if length == 2 else COMMON_SURNAMES
        if len(text) > length and text[:length] in known:
            return text[length:]
    return text


def retention_months() -> int:
    """How many months a child's details are kept after its last booking ends."""
    return int(current_app.config.get("CHILD_DATA_RETENTION_MONTHS", DEFAULT_RETENTION_MONTHS))


def months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def staff_see_child_in_full(made, now: datetime) -> bool:
    """Whether institution staff may see a booking's child by full name, with notes (``now``
    local): only while the booking holds a place and is not over; a standing place runs
    until it is given up. PIPL Art. 19: kept no longer than the purpose needs."""
    if not made.is_active:
        return False
    slot = made.slot
    return slot.is_standing or datetime.combine(slot.on_date, slot.ends_at) > now
