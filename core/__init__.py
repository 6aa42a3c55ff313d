"""The ground floor: plumbing every app uses, with no domain of its own (DESIGN.md §3)."""
