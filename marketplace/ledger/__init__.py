"""What the platform owes each seller: entries (sales, card redemptions, donations, refunds,
payouts) and the payouts that send it to the seller's Stripe connected account."""
