"""Pages of plans."""

urlpatterns: list = []
