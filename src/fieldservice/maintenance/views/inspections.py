"""Pages of inspections."""

urlpatterns: list = []
