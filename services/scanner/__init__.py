"""Scanner: `ticket.received` -> `ticket.scanned` with an allow/flag/block decision."""
