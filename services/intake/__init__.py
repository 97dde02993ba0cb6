"""Intake: sources (manual `ticket.submit`, later webhooks and Linear) -> `ticket.received` / `ticket.rejected`."""
