"""Wiring; filled in by its feature."""

app_name = "jury_staff"
urlpatterns = []
