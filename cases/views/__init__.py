"""Pages of the children's app, one module per topic (the URLs are in cases/urls.py)."""
