"""Pickup vouchers: one per paid order part, with a QR code, redeemed at the seller's counter."""
