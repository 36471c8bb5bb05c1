"""A seller's accounts: its chart of accounts, the period's figures as CSV and FEC, and the
platform's monthly commission invoices to it (PDF and Factur-X)."""
