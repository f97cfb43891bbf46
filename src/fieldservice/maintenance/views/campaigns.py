"""Pages of campaigns."""

urlpatterns: list = []
