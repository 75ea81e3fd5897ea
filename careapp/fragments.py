"""The parts of a search card that show the register alone, rendered once per register version.

A card's nature, price regime and badges, its township and public address, its ages, and its
offers and filing number come from the register's tables only: none depends on the request,
the visitor or the places left. Each process keeps them per institution, language and version
of the register (the page cache's ``CacheScope.REGISTER``, bumped in the same transaction as
any change to those tables), so a search page renders only what did change: a register
unchanged since the last page costs a dictionary lookup per card. Signed-in visitors' pages and
pages the page cache does not keep use them alike.

The version is read before the page reads the register (``pin_register_version``): parts
rendered from rows read after a change are then kept under a version older than that change,
which no later request asks for.
"""

from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

from flask import Flask, current_app, g, get_template_attribute
from markupsafe import Markup

from careapp.cache import database_versions
from careapp.models import CacheScope, Institution

TEMPLATE = "public/_card_facts.html"


@dataclass(frozen=True)
class CardFacts:
    """A card's markup that only the register decides."""

    #: Nature, price regime, demonstration and quality badges.
    meta: Markup
    #: Township and public address.
    place: Markup
    ages: Markup
    #: The offers with their prices, and the filing number.
    offers: Markup


class FactsStore:
    """Card facts in this process's memory, least recently used dropped first."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self.facts: OrderedDict[tuple, CardFacts] = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple) -> CardFacts | None:
        """The facts kept under ``key``, if any."""
        with self.lock:
            found = self.facts.get(key)
            if found is not None:
                self.facts.move_to_end(key)
            return found

    def put(self, key: tuple, facts: CardFacts) -> None:
        """Keep ``facts`` under ``key``."""
        with self.lock:
            self.facts[key] = facts
            while len(self.facts) > self.max_entries:
                self.facts.popitem(last=False)

    def clear(self) -> None:
        """Forget every kept part."""
        with self.lock:
            self.facts.clear()


def pin_register_version() -> int:
    """The register's version for this request: the one the page cache read before the view
    when it did, else read now. Call it before the request reads the register."""
    if "register_version" not in g:
        pending = g.get("page_cache")
        if pending is not None and CacheScope.REGISTER in pending[1]:
            _key, scopes, versions = pending
            g.register_version = versions[scopes.index(CacheScope.REGISTER)]
        else:
            g.register_version = database_versions((CacheScope.REGISTER,))[0]
    return g.register_version


def card_facts(institutions: list[Institution], language: str) -> dict[int, CardFacts]:
    """Each institution's card facts in ``language``, by id: kept ones while the register is
    at the version pinned for this request, the others rendered and kept."""
    version = pin_register_version()
    store: FactsStore = current_app.extensions["careapp_card_facts"]
    found = {}
    for institution in institutions:
        key = (version, language, institution.id)
        facts = store.get(key)
        if facts is None:
            facts = render_facts(institution, language)
            store.put(key, facts)
        found[institution.id] = facts
    return found


def render_facts(institution: Institution, language: str) -> CardFacts:
    """The card facts of ``institution`` in ``language``, rendered from ``TEMPLATE``."""
    return CardFacts(
        meta=get_template_attribute(TEMPLATE, "meta")(institution),
        place=get_template_attribute(TEMPLATE, "place")(institution, language),
        ages=get_template_attribute(TEMPLATE, "ages")(institution),
        offers=get_template_attribute(TEMPLATE, "offers")(institution),
    )


def clear() -> None:
    """Forget every kept part of this process (the register's versions went back: a test's
    database emptied; after a restore the app servers start afresh)."""
    current_app.extensions["careapp_card_facts"].clear()


def init_app(app: Flask) -> None:
    """Give the app its store of card facts (``CARD_FACTS_ENTRIES`` at most)."""
    app.extensions["careapp_card_facts"] = FactsStore(app.config["CARD_FACTS_ENTRIES"])
