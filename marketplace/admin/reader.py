"""How the platform team's pages read audit entries: every organization, order, gift card and
product named in a sentence links to the admin's page for it; a person's name links to the log
of what they did."""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask import url_for

from marketplace import audit
from marketplace.audit.sentences import CARD_MASK
from marketplace.catalog.models import Product
from marketplace.db import db
from marketplace.giftcards.models import GiftCard


class AdminReader(audit.Reader):
    def __init__(self) -> None:
        super().__init__()
        self._names: dict[tuple[str, int], str] = {}

    def load(self, refs: Iterable[audit.Ref]) -> None:
        """Names the entries did not record (older entries): card endings, product titles."""
        wanted: dict[str, set[int]] = {"card": set(), "product": set()}
        for ref in refs:
            if ref.text is None and ref.kind in wanted and isinstance(ref.key, int):
                wanted[ref.kind].add(ref.key)
        if wanted["card"]:
            for card_id, code in db.session.execute(
                    sa.select(GiftCard.id, GiftCard.code).where(GiftCard.id.in_(wanted["card"]))):
                self._names["card", card_id] = CARD_MASK + code[-4:]
        if wanted["product"]:
            for product_id, title in db.session.execute(
                    sa.select(Product.id, Product.title).where(Product.id.in_(wanted["product"]))):
                self._names["product", product_id] = title

    def name(self, ref: audit.Ref) -> str | None:
        return self._names.get((ref.kind, ref.key))

    def url(self, ref: audit.Ref) -> str | None:
        if ref.kind == "organization":
            return url_for("admin.organization", org_id=ref.key)
        if ref.kind == "order":
            return url_for("admin.order", reference=ref.key)
        if ref.kind == "card":
            return url_for("giftcards_admin.admin_card", card_id=ref.key)
        if ref.kind == "product":
            return url_for("catalog.product", product_id=ref.key)
        if ref.kind == "user":
            return url_for("admin.audit_log", actor=ref.key)
        return None
