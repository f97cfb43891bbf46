"""Assignments: giving an order to an engineer or a provider and their answers (offer, accept,
reject, revoke, helpers), the dispatcher's queue and order pages, their API and export column."""
