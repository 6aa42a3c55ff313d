"""Reads of children and of the records kept about access to them, one module per topic."""
