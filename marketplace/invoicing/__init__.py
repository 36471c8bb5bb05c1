"""Numbered commercial documents of the platform: quotes, pro-formas, invoices and credit notes,
their PDFs, and the bank transfers received against pro-formas."""
