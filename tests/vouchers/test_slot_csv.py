"""The slot's CSV ("who comes when") speaks its reader's language: headers, statuses, items and
the local date and time of each collection, as a spreadsheet of that language reads them."""
import csv
import io
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from marketplace.db import db
from marketplace.vouchers import services as vouchers
from tests.factories import make_product
from tests.vouchers.helpers import make_shop, paid_order, voucher_of

# 13:02 UTC in December: 14:02 in Paris.
COLLECTED_AT = datetime(2026, 12, 5, 13, 2, tzinfo=UTC)


def slot_rows(client, shop):
    response = client.get(f"/orgs/{shop.organization.id}/slots/{shop.slot.id}/orders.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")  # Excel reads the accents right
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))


@pytest.mark.parametrize("locale, header, collected, waiting", [
    ("fr",
     ["Commande", "Nom", "Téléphone", "Statut", "Bon de retrait", "Articles", "Retirée le"],
     ["Retirée", "2 × Lampe de bureau", "05/12/2026 14:02"],
     ["Payée", "1 × Lampe de bureau", ""]),
    ("en",
     ["Order", "Name", "Phone", "Status", "Voucher", "Items", "Collected on"],
     ["Collected", "2 × Lampe de bureau", "05/12/2026 14:02"],
     ["Paid", "1 × Lampe de bureau", ""]),
])
def test_the_slot_csv_speaks_the_readers_language(client, login, locale, header, collected,
                                                  waiting):
    shop = make_shop()
    lamp = make_product(shop.organization, title="Lampe de bureau", price_cents=1550, stock=5)
    came = paid_order([(lamp, 2)], email="ada@example.org")
    came.name = "Ada Lovelace"
    waits = paid_order([(lamp, 1)], email="bob@example.org")
    waits.name = "Bob Martin"
    shop.counter.locale = locale
    db.session.commit()
    with freeze_time(COLLECTED_AT):
        vouchers.collect(voucher_of(came.parts[0]).id, organization=shop.organization,
                         by=shop.counter, nonce="first-scan")
        db.session.commit()

    login(shop.counter)
    rows = slot_rows(client, shop)
    assert rows[0] == header
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["Ada Lovelace"][0] == came.reference
    assert by_name["Ada Lovelace"][4] == voucher_of(came.parts[0]).masked_code
    assert by_name["Ada Lovelace"][3:4] + by_name["Ada Lovelace"][5:] == collected
    assert by_name["Bob Martin"][3:4] + by_name["Bob Martin"][5:] == waiting
