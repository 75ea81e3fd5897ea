"""Verified guidance providers and upcoming parenting courses for the demo."""

import secrets
from collections import Counter
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from careapp.extensions import db
from careapp.models import (
    Course,
    CourseFormat,
    OrganisationType,
    Provider,
    Role,
    Topic,
    Township,
)
from careapp.services import courses
from careapp.services.accounts import create_user, find_user

#: (e-mail, name, English name, organisation type, township code)
PROVIDERS = (
    (
        "provider@example.com",
        "晋江市妇幼保健院",
        "Jinjiang Maternal and Child Health Hospital",
        OrganisationType.MCH_HOSPITAL,
        "qingyang",
    ),
    (
        "chc-qingyang@example.com",
        "青阳街道社区卫生服务中心",
        "Qingyang Community Health Centre",
        OrganisationType.COMMUNITY_HEALTH,
        "qingyang",
    ),
    (
        "fulian@example.com",
        "晋江市妇女联合会",
        "Jinjiang Women's Federation",
        OrganisationType.WOMENS_FEDERATION,
        "meiling",
    ),
    (
        "jishengxie@example.com",
        "晋江市计划生育协会",
        "Jinjiang Family Planning Association",
        OrganisationType.FAMILY_PLANNING,
        "anhai",
    ),
)

#: (title, topic, format, township code or None, ages, weeks, seats, day offset, hour)
COURSES = (
    (
        "6–12 月龄辅食添加",
        Topic.NUTRITION,
        CourseFormat.IN_PERSON,
        "qingyang",
        (6, 12),
        1,
        30,
        3,
        9,
    ),
    (
        "幼儿膳食搭配与挑食应对",
        Topic.NUTRITION,
        CourseFormat.LIVE_ONLINE,
        None,
        (12, 36),
        1,
        200,
        5,
        20,
    ),
    (
        "婴幼儿生长曲线怎么看",
        Topic.GROWTH,
        CourseFormat.IN_PERSON,
        "meiling",
        (0, 36),
        1,
        25,
        4,
        15,
    ),
    ("0–3 岁身高体重监测", Topic.GROWTH, CourseFormat.RECORDED, None, (0, 36), 1, 500, 1, 10),
    (
        "疫苗接种时间表解读",
        Topic.VACCINATION,
        CourseFormat.IN_PERSON,
        "chendai",
        (0, 24),
        1,
        40,
        6,
        9,
    ),
    (
        "接种后常见反应与护理",
        Topic.VACCINATION,
        CourseFormat.LIVE_ONLINE,
        None,
        (0, 36),
        1,
        300,
        8,
        20,
    ),
    (
        "居家安全：防跌落与防烫伤",
        Topic.SAFETY,
        CourseFormat.IN_PERSON,
        "anhai",
        (6, 36),
        1,
        30,
        7,
        10,
    ),
    (
        "婴幼儿海姆立克急救演练",
        Topic.SAFETY,
        CourseFormat.IN_PERSON,
        "chidian",
        (0, 36),
        2,
        20,
        9,
        14,
    ),
    ("儿童乘车安全座椅使用", Topic.SAFETY, CourseFormat.RECORDED, None, (0, 36), 1, 500, 2, 10),
    (
        "秋冬季呼吸道疾病预防",
        Topic.DISEASE_PREVENTION,
        CourseFormat.IN_PERSON,
        "cizao",
        (0, 36),
        1,
        35,
        5,
        9,
    ),
    (
        "手足口病识别与家庭护理",
        Topic.DISEASE_PREVENTION,
        CourseFormat.LIVE_ONLINE,
        None,
        (6, 36),
        1,
        300,
        10,
        20,
    ),
    (
        "婴儿腹泻与脱水护理",
        Topic.DISEASE_PREVENTION,
        CourseFormat.IN_PERSON,
        "yonghe",
        (0, 24),
        1,
        25,
        12,
        15,
    ),
    (
        "语言启蒙：和宝宝一起说话",
        Topic.EARLY_DEVELOPMENT,
        CourseFormat.IN_PERSON,
        "xintang",
        (6, 24),
        4,
        15,
        3,
        10,
    ),
    (
        "大运动与精细动作发展",
        Topic.EARLY_DEVELOPMENT,
        CourseFormat.LIVE_ONLINE,
        None,
        (0, 36),
        1,
        200,
        11,
        20,
    ),
    (
        "绘本共读入门",
        Topic.EARLY_DEVELOPMENT,
        CourseFormat.IN_PERSON,
        "luoshan",
        (12, 36),
        3,
        12,
        6,
        16,
    ),
    (
        "亲子音乐律动",
        Topic.PARENT_CHILD,
        CourseFormat.IN_PERSON,
        "lingyuan",
        (12, 36),
        4,
        12,
        4,
        10,
    ),
    ("亲子户外游戏", Topic.PARENT_CHILD, CourseFormat.IN_PERSON, "jinjing", (18, 36), 2, 16, 8, 9),
    (
        "祖辈带娃的科学方法",
        Topic.PARENT_CHILD,
        CourseFormat.IN_PERSON,
        "shenhu",
        (0, 36),
        1,
        40,
        13,
        15,
    ),
    ("新手爸妈：新生儿护理", Topic.OTHER, CourseFormat.LIVE_ONLINE, None, (0, 6), 1, 300, 2, 20),
    ("二孩家庭的情绪照顾", Topic.OTHER, CourseFormat.RECORDED, None, (0, 36), 1, 500, 3, 10),
    (
        "入托准备：分离焦虑怎么办",
        Topic.OTHER,
        CourseFormat.IN_PERSON,
        "xiyuan",
        (18, 36),
        1,
        30,
        14,
        10,
    ),
    ("睡眠习惯养成", Topic.GROWTH, CourseFormat.IN_PERSON, "longhu", (0, 24), 1, 20, 2, 19),
)


def _provider(email, name, name_en, kind, township_id, counts) -> Provider:
    """The verified provider of the account ``email``, created with the account if missing."""
    user = find_user(email)
    if user is None:
        # Only provider@example.com (made with the demo accounts) signs in; the others
        # exist to give the demo several organisations.
        user = create_user(
            email=email, password=secrets.token_urlsafe(16), role=Role.PROVIDER, display_name=name
        )
        user.is_active_account = False
    provider = courses.provider_of(user)
    if provider is None:
        provider = courses.save_provider(
            user,
            name=name,
            name_en=name_en,
            organisation_type=kind,
            township_id=township_id,
            phone="0595-85661000",
        )
        courses.verify_provider(provider)
        counts["providers"] += 1
    return provider


def seed_courses(today: date) -> dict[str, int]:
    """Four verified providers and their upcoming courses, once."""
    counts: Counter[str] = Counter(providers=0, courses=0)
    townships = {t.code: t.id for t in db.session.scalars(sa.select(Township))}
    providers = [
        _provider(email, name, name_en, kind, townships.get(code), counts)
        for email, name, name_en, kind, code in PROVIDERS
    ]
    if db.session.scalar(sa.select(sa.func.count(Course.id))):
        return dict(counts)
    for number, row in enumerate(COURSES):
        title, topic, course_format, code, ages, weeks, seats, offset, hour = row
        if code is not None and code not in townships:
            code = next(iter(townships))
        first = datetime.combine(today + timedelta(days=offset), time(hour))
        courses.create_course(
            providers[number % len(providers)],
            courses.session_times(first, 90, weeks),
            title=title,
            description="由专业医护人员讲解，现场答疑。" if code else "线上课程，登记后可观看。",
            topic=topic,
            format=course_format,
            township_id=townships.get(code) if code else None,
            address="社区服务中心三楼多功能厅" if code else None,
            link=None if code else f"https://live.example.cn/course/{number + 1}",
            min_age_months=ages[0],
            max_age_months=ages[1],
            seats=seats,
            allow_second_seat=course_format == CourseFormat.IN_PERSON and seats >= 20,
            registration_opens_at=datetime.combine(today - timedelta(days=7), time(8)),
            registration_closes_at=first - timedelta(hours=2),
        )
        counts["courses"] += 1
    db.session.flush()
    return dict(counts)
