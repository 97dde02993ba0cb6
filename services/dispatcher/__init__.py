"""Dispatcher: `ticket.scanned` -> task for a ghost -> `task.started` and `task.completed`."""
