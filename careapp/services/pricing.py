"""What one booking costs, from the institution's offer for its care type."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from careapp.models import CareType, PriceUnit, Slot


@dataclass(frozen=True)
class BookingPrice:
    """The offer's price and what this booking comes to."""

    unit: PriceUnit
    #: Whole yuan per unit (hour, day or month).
    unit_price: int
    #: Hours of an hourly booking (else None).
    hours: Decimal | None
    #: What the booking costs in yuan; for standing places, each month.
    total: Decimal

    @property
    def total_text(self) -> str:
        """The total without needless decimals, thousands grouped: "80", "62.5", "2,800"."""
        return f"{self.total.normalize():,f}"

    @property
    def hours_text(self) -> str:
        """The hours without needless decimals."""
        return f"{self.hours.normalize():f}" if self.hours is not None else ""


def hours_of(slot: Slot) -> Decimal:
    """The slot's length in hours."""
    length = datetime.combine(date.min, slot.ends_at) - datetime.combine(date.min, slot.starts_at)
    return Decimal(int(length.total_seconds())) / 3600


def price_for(slot: Slot) -> BookingPrice | None:
    """The price of one booking of ``slot``: hours × the hourly price for hourly care, the
    day's price for temporary care (a session too), the monthly fee for standing places;
    None when the institution no longer offers the care type."""
    offer = slot.institution.offer_for(CareType(slot.care_type))
    if offer is None:
        return None
    unit = offer.price_unit
    if unit == PriceUnit.HOUR:
        hours = hours_of(slot)
        total = (hours * offer.price_yuan).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return BookingPrice(unit, offer.price_yuan, hours.quantize(Decimal("0.01")), total)
    return BookingPrice(unit, offer.price_yuan, None, Decimal(offer.price_yuan))
