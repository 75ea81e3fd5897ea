"""Wording of the demo data: names, descriptions and event summaries, in Chinese and English."""

from careapp.models import CareType, Nature

#: A text in Chinese and its English rendering.
Bilingual = tuple[str, str]

#: Brand names of private, inclusive and home-based providers.
BRANDS: tuple[Bilingual, ...] = (
    ("小橡树", "Little Oak"),
    ("阳光", "Sunshine"),
    ("童心", "Tongxin"),
    ("七彩", "Rainbow"),
    ("启蒙", "Qimeng"),
    ("小蜜蜂", "Little Bee"),
    ("未来星", "Future Star"),
    ("蒲公英", "Dandelion"),
    ("小海豚", "Little Dolphin"),
    ("禾苗", "Seedling"),
    ("小太阳", "Little Sun"),
    ("贝乐", "Beile"),
    ("爱贝", "Aibei"),
    ("金贝贝", "Golden Baby"),
    ("快乐宝贝", "Happy Baby"),
    ("小星星", "Little Star"),
    ("萌芽", "Sprout"),
    ("乐育", "Leyu"),
    ("小天使", "Little Angel"),
    ("春苗", "Spring Sprout"),
)

#: Kindergartens that run toddler classes: public ones (USCC 12…) and private ones (52…).
PUBLIC_KINDERGARTENS: tuple[Bilingual, ...] = (
    ("中心", "Central"),
    ("实验", "Experimental"),
    ("第二中心", "Second Central"),
    ("城南", "Chengnan"),
)
PRIVATE_KINDERGARTENS: tuple[Bilingual, ...] = (
    ("爱心", "Aixin"),
    ("育才", "Yucai"),
    ("启智", "Qizhi"),
    ("博雅", "Boya"),
    ("春晖", "Chunhui"),
)

#: What public centres are called.
PUBLIC_CENTRES: tuple[Bilingual, ...] = (
    ("社区托育服务中心", "Community Childcare Service Centre"),
    ("公办托育园", "Public Nursery"),
    ("婴幼儿照护服务中心", "Infant and Toddler Care Centre"),
)

#: Name endings of private and inclusive centres.
CENTRE_SUFFIXES: dict[Nature, tuple[Bilingual, ...]] = {
    Nature.INCLUSIVE: (
        ("普惠托育中心", "Inclusive Childcare Centre"),
        ("托育中心", "Childcare Centre"),
        ("托育园", "Nursery"),
    ),
    Nature.PRIVATE: (
        ("托育中心", "Childcare Centre"),
        ("早教托育中心", "Early Learning and Childcare Centre"),
        ("托育园", "Nursery"),
        ("婴幼儿托育馆", "Baby Care House"),
    ),
}

#: What each nature is, opening its description; ``{sponsor}`` is the company or kindergarten.
NATURE_BLURBS: dict[Nature, Bilingual] = {
    Nature.PUBLIC: (
        "公办托育机构，执行政府指导价",
        "A public childcare centre charging government-guided prices",
    ),
    Nature.INCLUSIVE: (
        "普惠性托育机构，收费质量有保障、价格可承受",
        "An inclusive centre with sound care at affordable prices",
    ),
    Nature.PRIVATE: ("民办托育机构，小班化照护", "A private childcare centre with small classes"),
    Nature.EMPLOYER: (
        "{sponsor}为职工子女举办的福利性托育园，优先接收本企业职工子女",
        "A staff nursery run by {sponsor} that gives priority to its employees' children",
    ),
    Nature.KINDERGARTEN_CLASS: (
        "{sponsor}幼儿园开设的托班，招收2至3岁幼儿",
        "A toddler class of {sponsor} Kindergarten for children aged 2 to 3",
    ),
    Nature.HOME_BASED: (
        "家庭托育点，最多照护5名幼儿",
        "A home-based care point looking after at most 5 children",
    ),
}

#: A closing sentence that sets institutions apart.
FEATURES: tuple[Bilingual, ...] = (
    ("设有独立户外活动场地。", "It has its own outdoor play area."),
    ("配备专职保健人员。", "A full-time health worker is on staff."),
    ("定期开展亲子活动和家长课堂。", "It holds parent–child activities and parenting classes."),
    ("毗邻社区卫生服务中心。", "It is next to the community health centre."),
    ("提供早晚延时接送服务。", "Early drop-off and late pick-up are available."),
    ("", ""),
)

CARE_TYPE_WORDS: dict[CareType, Bilingual] = {
    CareType.FULL_DAY: ("全日托", "full-day"),
    CareType.HALF_DAY: ("半日托", "half-day"),
    CareType.HOURLY: ("计时托", "hourly"),
    CareType.TEMPORARY: ("临时托", "temporary"),
}

#: Reasons given for deregistration.
DEREGISTRATION_SUMMARIES: tuple[Bilingual, ...] = (
    ("机构停止运营，申请注销", "Closed; deregistered at its own request"),
    ("生源不足，停止办学，申请注销", "Too few children enrolled; deregistered on request"),
    ("举办者调整经营方向，申请注销", "The operator changed business; deregistered on request"),
)

FILED_SUMMARY: Bilingual = ("准予备案", "Filed")
REPRESENTATIVE_CHANGED: Bilingual = ("法定代表人变更", "Legal representative changed")


def care_types_phrase(care_types: list[CareType]) -> Bilingual:
    """The offered care types as a phrase, e.g. 全日托、计时托 / full-day and hourly care."""
    chinese = "、".join(CARE_TYPE_WORDS[care_type][0] for care_type in care_types)
    english = [CARE_TYPE_WORDS[care_type][1] for care_type in care_types]
    if len(english) > 1:
        english = [", ".join(english[:-1]) + " and " + english[-1]]
    return chinese, f"{english[0]} care"
