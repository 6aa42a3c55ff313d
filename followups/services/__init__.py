"""Writes of this app: visits, follow-up plans and the scheduler's tasks."""

from followups.services.visits import visit_record, visit_review

__all__ = ["visit_record", "visit_review"]
