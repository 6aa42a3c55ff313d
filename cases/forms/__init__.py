"""Forms of the children's app, one module per topic."""
