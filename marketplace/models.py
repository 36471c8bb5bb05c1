"""Imports every domain's models so the metadata is complete (Alembic, create_all)."""
from marketplace import audience  # noqa: F401 - page_view_day
from marketplace.accounting import models as accounting  # noqa: F401
from marketplace.accounts import models as accounts  # noqa: F401
from marketplace.audit import models as audit  # noqa: F401
from marketplace.campaigns import models as campaigns  # noqa: F401
from marketplace.catalog import models as catalog  # noqa: F401
from marketplace.consent import models as consent  # noqa: F401
from marketplace.giftcards import models as giftcards  # noqa: F401
from marketplace.invoicing import models as invoicing  # noqa: F401
from marketplace.ledger import models as ledger  # noqa: F401
from marketplace.orders import models as orders  # noqa: F401
from marketplace.organizations import models as organizations  # noqa: F401
from marketplace.payments import models as payments  # noqa: F401
from marketplace.pickup import models as pickup  # noqa: F401
from marketplace.vouchers import models as vouchers  # noqa: F401
