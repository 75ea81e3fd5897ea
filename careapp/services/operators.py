"""The registration authorities' list of operators running care, imported by the bureau.

The list is the denominator of the share that applied for filing (policy 002 (四)). A file is
checked row by row and imported whole or not at all; importing again updates each operator by
its Unified Social Credit Code and adds the new ones.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from stdnum.cn import uscc as uscc_code
from stdnum.exceptions import ValidationError as CodeError

from careapp.extensions import db
from careapp.models import Authority, Region, RegisteredOperator
from careapp.models.indicators import REGISTERING_AUTHORITIES
from careapp.models.institution import uscc_matches_authority

#: How the authority may be written in a file, beside its code.
AUTHORITY_NAMES: dict[str, Authority] = {
    "机构编制": Authority.STAFFING_OFFICE,
    "编制": Authority.STAFFING_OFFICE,
    "民政": Authority.CIVIL_AFFAIRS,
    "民政局": Authority.CIVIL_AFFAIRS,
    "市场监管": Authority.MARKET_REGULATION,
    "市场监督管理局": Authority.MARKET_REGULATION,
    "市场监管局": Authority.MARKET_REGULATION,
    "工商": Authority.MARKET_REGULATION,
    **{authority.value: authority for authority in REGISTERING_AUTHORITIES},
}
#: A county's 行政审批服务局 registers non-profit and for-profit operators alike (004 item 10):
#: the code's first character then says which register it is.
APPROVAL_BUREAU_NAMES = frozenset({"行政审批", "行政审批服务局", "administrative_approval"})
APPROVAL_BUREAU_PREFIXES = {"5": Authority.CIVIL_AFFAIRS, "9": Authority.MARKET_REGULATION}
#: Rows one file may hold.
MAX_ROWS = 5000
NAME_LENGTH = 128
#: First cells that mark a heading row rather than an operator.
HEADINGS = frozenset({"uscc", "统一社会信用代码", "code", "信用代码"})
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d")


@dataclass(frozen=True)
class RowError:
    """What is wrong with one line of a file (``line`` counts from 1, as a spreadsheet does)."""

    line: int
    message: str


@dataclass(frozen=True)
class OperatorRow:
    """One operator as a file gives it, checked."""

    uscc: str
    name: str
    authority: Authority
    registered_on: date


@dataclass
class ParsedList:
    """The checked rows of a file and what is wrong with the others."""

    rows: list[OperatorRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class ImportResult:
    """How many operators an import added and updated."""

    added: int
    updated: int


def _text(data: bytes) -> str | None:
    """The file's text: UTF-8 (with or without Excel's mark), else GB 18030; None if neither."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _authority(written: str, code: str) -> Authority | None:
    """The authority a cell names (its code or a Chinese name), None for an unknown one."""
    written = written.strip()
    if written in APPROVAL_BUREAU_NAMES:
        return APPROVAL_BUREAU_PREFIXES.get(code[:1])
    return AUTHORITY_NAMES.get(written) or AUTHORITY_NAMES.get(written.lower())


def _date(written: str) -> date | None:
    """A registration date written as 2024-05-31, 2024/05/31 or 2024.05.31."""
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(written.strip(), pattern).date()
        except ValueError:
            continue
    return None


def _check_row(cells: list[str], today: date) -> OperatorRow | str:
    """The operator of a row, or the message saying what is wrong with it."""
    if len(cells) != 4:
        return _l("Expected 4 columns (USCC, name, authority, registration date).")
    code_cell, name, authority_cell, date_cell = (cell.strip() for cell in cells)
    try:
        code = uscc_code.validate(code_cell)
    except CodeError:
        return _l("“%(code)s” is not a valid Unified Social Credit Code.", code=code_cell)
    if not name or len(name) > NAME_LENGTH:
        return _l("Please give the name, at most %(count)d characters.", count=NAME_LENGTH)
    authority = _authority(authority_cell, code)
    if authority is None:
        return _l(
            "Unknown registration authority “%(authority)s”: write 民政, 市场监管 or 机构编制.",
            authority=authority_cell,
        )
    if not uscc_matches_authority(code, authority):
        return _l("The code was not issued by the authority named: check its first character.")
    registered_on = _date(date_cell)
    if registered_on is None or registered_on > today:
        return _l("“%(date)s” is not a registration date such as 2024-05-31.", date=date_cell)
    return OperatorRow(code, name, authority, registered_on)


def parse_list(data: bytes, today: date) -> ParsedList:
    """Check every row of a CSV file (USCC, name, authority, registration date)."""
    parsed = ParsedList()
    text = _text(data)
    if text is None:
        parsed.errors.append(RowError(0, _l("The file is not text in UTF-8 or GB 18030.")))
        return parsed
    seen: dict[str, int] = {}
    for line, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not any(cell.strip() for cell in cells):
            continue
        if line == 1 and cells[0].strip().lstrip("\ufeff").lower() in HEADINGS:
            continue
        checked = _check_row(cells, today)
        if isinstance(checked, OperatorRow) and checked.uscc in seen:
            checked = _l("The same code is already on line %(line)d.", line=seen[checked.uscc])
        if isinstance(checked, OperatorRow):
            seen[checked.uscc] = line
            parsed.rows.append(checked)
        else:
            parsed.errors.append(RowError(line, checked))
    if not parsed.rows and not parsed.errors:
        parsed.errors.append(RowError(0, _l("The file holds no operator.")))
    if len(parsed.rows) > MAX_ROWS:
        too_many = _l("A file may hold at most %(count)d rows.", count=MAX_ROWS)
        parsed.errors.append(RowError(0, too_many))
    return parsed


def import_list(region: Region, rows: list[OperatorRow], now: datetime) -> ImportResult:
    """Add or update (by USCC) every operator of ``rows`` in the region's list, in one go.

    The region's row is locked first, so that two imports of one region run one after the
    other and neither adds a code the other has just added.
    """
    db.session.execute(sa.select(Region.id).where(Region.id == region.id).with_for_update())
    query = sa.select(RegisteredOperator).where(RegisteredOperator.region_id == region.id)
    existing = {operator.uscc: operator for operator in db.session.scalars(query)}
    for row in rows:
        operator = existing.get(row.uscc)
        if operator is None:
            operator = RegisteredOperator(region_id=region.id, uscc=row.uscc)
            db.session.add(operator)
        operator.name = row.name
        operator.authority = row.authority
        operator.registered_on = row.registered_on
        operator.imported_at = now
    db.session.flush()
    updated = sum(1 for row in rows if row.uscc in existing)
    return ImportResult(added=len(rows) - updated, updated=updated)
