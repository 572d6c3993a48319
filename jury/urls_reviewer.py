"""Wiring; filled in by its feature."""

app_name = "jury"
urlpatterns = []
