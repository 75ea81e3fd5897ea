"""Children's names: masked in lists, first name only in messages."""

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


def first_name(name: str) -> str:
    """The given name alone: ``张小明`` → ``小明``, ``欧阳娜娜`` → ``娜娜``."""
    name = name.strip()
    if " " in name:
        return name.split()[0]
    if _is_chinese(name) and len(name) >= 2:
        surname_length = 2 if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else 1
        return name[surname_length:]
    return name
