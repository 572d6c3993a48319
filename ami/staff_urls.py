"""Wiring; filled in by its feature."""

app_name = "staff"
urlpatterns = []
