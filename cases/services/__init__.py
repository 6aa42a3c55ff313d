"""Writes about children; every function is one transaction and assumes validated input."""
