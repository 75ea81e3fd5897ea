"""The demo regions: each county-level city, its townships and the local flavour of its data."""

from dataclasses import dataclass
from datetime import date

from careapp.models import TownshipKind

#: Reference day of the 7th national census, the source of the populations below.
CENSUS_DAY = date(2020, 11, 1)

#: Name suffixes of a township kind, in Chinese and English.
KIND_SUFFIXES: dict[TownshipKind, tuple[str, str]] = {
    TownshipKind.SUBDISTRICT: ("街道", "Sub-district"),
    TownshipKind.TOWN: ("镇", "Town"),
    TownshipKind.TOWNSHIP: ("乡", "Township"),
}


@dataclass(frozen=True)
class TownshipData:
    """One township as the official list of its region names it."""

    code: str
    short_name: str
    kind: TownshipKind
    population: int
    latitude: float
    longitude: float
    #: Overrides the kind's suffixes, e.g. 乡 / Township.
    suffix: tuple[str, str] | None = None
    #: Filed institutions the region wants in the township at least (Yong'an sets these).
    min_institutions: int = 1

    @property
    def short_name_en(self) -> str:
        """The pinyin name without suffix, e.g. ``Qingyang``."""
        return self.code.capitalize()

    @property
    def name(self) -> str:
        """The official Chinese name, e.g. 青阳街道."""
        return self.short_name + (self.suffix or KIND_SUFFIXES[self.kind])[0]

    @property
    def name_en(self) -> str:
        """The English name, e.g. ``Qingyang Sub-district``."""
        return f"{self.short_name_en} {(self.suffix or KIND_SUFFIXES[self.kind])[1]}"


@dataclass(frozen=True)
class RegionData:
    """A county-level city: its townships and what its demo institutions look like."""

    code: str
    name: str
    name_en: str
    #: Administrative division code, digits 3–8 of local USCCs.
    division_code: str
    #: First part of the filing numbers its health bureau assigns, e.g. ``JJ-TY-2024-0001``.
    filing_prefix: str
    institution_count: int
    #: Landline prefixes; four random digits complete a number.
    landline_prefixes: tuple[str, ...]
    #: Street names (Chinese, English) to build addresses from.
    streets: tuple[tuple[str, str], ...]
    #: Local employers (Chinese, English) that run staff nurseries.
    employers: tuple[tuple[str, str], ...]
    townships: tuple[TownshipData, ...]


SUB = TownshipKind.SUBDISTRICT
TOWN = TownshipKind.TOWN
TWP = TownshipKind.TOWNSHIP

JINJIANG = RegionData(
    code="jinjiang",
    name="晋江市",
    name_en="Jinjiang",
    division_code="350582",
    filing_prefix="JJ",
    institution_count=64,
    landline_prefixes=("0595-8566", "0595-8568", "0595-8578", "0595-8588", "0595-8599"),
    streets=(
        ("世纪大道", "Shiji Avenue"),
        ("泉安路", "Quan'an Road"),
        ("长兴路", "Changxing Road"),
        ("晋江大道", "Jinjiang Avenue"),
        ("和平路", "Heping Road"),
        ("学府路", "Xuefu Road"),
        ("建设路", "Jianshe Road"),
        ("中心路", "Zhongxin Road"),
        ("兴业路", "Xingye Road"),
        ("振兴路", "Zhenxing Road"),
        ("滨海路", "Binhai Road"),
        ("幸福路", "Xingfu Road"),
    ),
    employers=(
        ("宏泰鞋业", "Hongtai Footwear"),
        ("金泰纺织", "Jintai Textiles"),
        ("华峰陶瓷", "Huafeng Ceramics"),
        ("海润食品", "Hairun Foods"),
        ("东成伞业", "Dongcheng Umbrellas"),
        ("鑫达制衣", "Xinda Garments"),
        ("闽星体育用品", "Minxing Sportswear"),
    ),
    townships=(
        TownshipData("qingyang", "青阳", SUB, 158_300, 24.8105, 118.5790),
        TownshipData("meiling", "梅岭", SUB, 96_200, 24.7985, 118.5605),
        TownshipData("xiyuan", "西园", SUB, 87_400, 24.7920, 118.5450),
        TownshipData("luoshan", "罗山", SUB, 110_600, 24.7715, 118.5830),
        TownshipData("lingyuan", "灵源", SUB, 76_900, 24.7700, 118.5320),
        TownshipData("xintang", "新塘", SUB, 80_100, 24.7830, 118.6020),
        TownshipData("chendai", "陈埭", TOWN, 241_500, 24.8480, 118.6180),
        TownshipData("chidian", "池店", TOWN, 161_200, 24.8530, 118.5560),
        TownshipData("anhai", "安海", TOWN, 196_800, 24.7190, 118.4690),
        TownshipData("cizao", "磁灶", TOWN, 174_300, 24.8010, 118.4710),
        TownshipData("neikeng", "内坑", TOWN, 61_700, 24.7580, 118.4300),
        TownshipData("zimao", "紫帽", TOWN, 35_800, 24.8330, 118.4900),
        TownshipData("dongshi", "东石", TOWN, 119_900, 24.6790, 118.4830),
        TownshipData("yonghe", "永和", TOWN, 69_400, 24.7290, 118.6180),
        TownshipData("yinglin", "英林", TOWN, 77_200, 24.6490, 118.6010),
        TownshipData("jinjing", "金井", TOWN, 90_300, 24.6180, 118.6230),
        TownshipData("longhu", "龙湖", TOWN, 117_600, 24.6990, 118.6330),
        TownshipData("shenhu", "深沪", TOWN, 66_500, 24.6420, 118.6640),
        TownshipData("xibin", "西滨", TOWN, 41_200, 24.8190, 118.6440),
    ),
)

YONGAN = RegionData(
    code="yongan",
    name="永安市",
    name_en="Yong'an",
    division_code="350481",
    filing_prefix="YA",
    institution_count=32,
    landline_prefixes=("0598-3612", "0598-3635", "0598-3658", "0598-3820"),
    streets=(
        ("燕江东路", "Yanjiang East Road"),
        ("燕江中路", "Yanjiang Middle Road"),
        ("解放路", "Jiefang Road"),
        ("新安路", "Xin'an Road"),
        ("南门路", "Nanmen Road"),
        ("建设路", "Jianshe Road"),
        ("和平路", "Heping Road"),
        ("工业路", "Gongye Road"),
        ("文化路", "Wenhua Road"),
    ),
    employers=(
        ("燕江林业", "Yanjiang Forestry"),
        ("永丰建材", "Yongfeng Building Materials"),
        ("闽中纺织", "Minzhong Textiles"),
        ("安砂水电", "Ansha Hydropower"),
    ),
    # 001 二(一)1 names the minimums: 燕南 4, 燕东/燕西/燕北 2, 曹远/大湖/安砂/小陶/西洋/贡川 1;
    # it names no minimum for the others.
    townships=(
        TownshipData("yandong", "燕东", SUB, 56_400, 25.9650, 117.3790, min_institutions=2),
        TownshipData("yanxi", "燕西", SUB, 52_100, 25.9730, 117.3480, min_institutions=2),
        TownshipData("yannan", "燕南", SUB, 66_300, 25.9380, 117.3700, min_institutions=4),
        TownshipData("yanbei", "燕北", SUB, 44_200, 25.9950, 117.3660, min_institutions=2),
        TownshipData("xiyang", "西洋", TOWN, 14_300, 25.8740, 117.2540),
        TownshipData("gongchuan", "贡川", TOWN, 16_100, 26.0730, 117.4280),
        TownshipData("ansha", "安砂", TOWN, 16_800, 26.0900, 117.1540),
        TownshipData("xiaotao", "小陶", TOWN, 20_700, 25.8170, 116.9720),
        TownshipData("dahu", "大湖", TOWN, 12_400, 25.8330, 117.2230),
        TownshipData("caoyuan", "曹远", TOWN, 19_600, 25.9020, 117.4520),
        TownshipData("hongtian", "洪田", TOWN, 9_200, 26.0330, 117.2510, min_institutions=0),
        TownshipData("huainan", "槐南", TOWN, 8_100, 25.8210, 117.4190, min_institutions=0),
        TownshipData("shangping", "上坪", TWP, 5_900, 26.0080, 117.0640, min_institutions=0),
        TownshipData("luofang", "罗坊", TWP, 6_300, 25.7780, 117.0820, min_institutions=0),
        TownshipData(
            "qingshui",
            "青水",
            TWP,
            7_800,
            25.7030,
            117.2490,
            ("畲族乡", "She Ethnic Township"),
            min_institutions=0,
        ),
    ),
)

REGIONS: dict[str, RegionData] = {region.code: region for region in (JINJIANG, YONGAN)}
