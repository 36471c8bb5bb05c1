"""Ethical gift cards: codes, a ledger of transactions per card, spending at any seller."""
