"""The followups app's pages: `visits`, `notifications` and `activities` (the last in the
"activities" namespace)."""
