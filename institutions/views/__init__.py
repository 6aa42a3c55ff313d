"""Pages of institutions, by topic: two-factor sign-in (accounts), the health check (health),
staff training (training) and the service venue directory (venues)."""
