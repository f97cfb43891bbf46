"""Billing services, by topic: fees (fee lines and pricing), quotations, charges (bills, payments,
invoice requests), settlement (rules and statements), margins (cost and margin rows)."""
