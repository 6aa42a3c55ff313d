"""Signals the floors above listen to, so a floor below never imports them (DESIGN.md §3)."""

from __future__ import annotations

from django.dispatch import Signal

# A record about a child was written: a result, a care-plan review, an alert closed, the child's
# risk, status or region changed. Sent with the record's model as the sender, and `child_id`,
# `record_id` (or None), `on` (the record's date, or None) and `by` (the user, or None for the
# system). The scheduler (`followups`) closes the tasks the record fulfils and moves the
# child's other tasks.
child_record_saved = Signal()
