"""The order confirmation email, with each part's voucher QR code shown inline: queued when the
orders domain says it is due (orders.signals.confirmation_due, receiver at the end)."""
from __future__ import annotations

from marketplace.notifications.services import Attachment, queue, render_email
from marketplace.orders.models import Order
from marketplace.orders.signals import confirmation_due
from marketplace.vouchers import qr
from marketplace.vouchers.services import issue_vouchers


def queue_confirmation(order: Order):
    """Issue the order's vouchers and queue the confirmation (sent after the commit)."""
    vouchers = {v.order_part_id: v for v in issue_vouchers(order)}
    cids = {part_id: f"voucher-{voucher.code}" for part_id, voucher in vouchers.items()}
    message = render_email("order_confirmed", to=order.email, locale=order.locale, order=order,
                           vouchers=vouchers, voucher_cids=cids, voucher_url=qr.voucher_url)
    for part_id, voucher in vouchers.items():
        message.attachments.append(Attachment.from_bytes(
            f"voucher-{voucher.code}.png", qr.voucher_png(voucher, box_size=6),
            "image/png", inline_cid=cids[part_id],
        ))
    queue(message)
    return message


@confirmation_due.connect
def _confirmation_due(order: Order) -> None:
    queue_confirmation(order)
