"""Writeback: `task.completed` -> the ticket's source (log, callback URL; Linear and GitHub later)."""
