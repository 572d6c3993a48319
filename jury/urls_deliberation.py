"""Wiring; filled in by its feature."""

app_name = "deliberation"
urlpatterns = []
