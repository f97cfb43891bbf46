from django.urls import path

from fieldservice.inventory.views import catalogue, counts, plans

app_name = "inventory"
urlpatterns = [
    path("", catalogue.part_list, name="part_list"),
    path("new/", catalogue.part_create, name="part_create"),
    path("<int:pk>/edit/", catalogue.part_edit, name="part_edit"),
    path("counts/", counts.count_list, name="count_list"),
    path("counts/new/", counts.count_open, name="count_open"),
    path("counts/<int:pk>/", counts.count_sheet, name="count_sheet"),
    path("counts/<int:pk>/review/", counts.count_review, name="count_review"),
    path("counts/<int:pk>/cancel/", counts.count_cancel, name="count_cancel"),
    path("plans/<int:pk>/", plans.plan, name="plan_detail"),
    path("plans/<int:pk>/apply/", plans.plan_apply, name="plan_apply"),
    path("plans/<int:pk>/refill/", plans.plan_refill, name="plan_refill"),
    path("levels/", plans.levels_list, name="levels_list"),
]
