"""Pages of care."""

urlpatterns: list = []
