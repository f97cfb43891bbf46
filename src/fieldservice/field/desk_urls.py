"""Desk pages of job steps (/job-templates/): the template editor, and the dispatcher's changes to
an order's steps (posted from the panel on the work order page)."""

from django.urls import path

from fieldservice.field import views_steps as views

app_name = "job_templates"
urlpatterns = [
    path("", views.template_list, name="list"),
    path("new/", views.template_create, name="create"),
    path("<int:pk>/", views.template_edit, name="edit"),
    path("<int:pk>/steps/", views.template_step_add, name="step_add"),
    path("steps/<int:pk>/", views.template_step_edit, name="step_edit"),
    path("steps/<int:pk>/remove/", views.template_step_remove, name="step_remove"),
    path("steps/<int:pk>/move/<str:direction>/", views.template_step_move, name="step_move"),
    path("orders/<int:pk>/template/", views.order_template_set, name="order_template"),
    path("orders/<int:pk>/steps/", views.order_step_add, name="order_step_add"),
    path("orders/<int:pk>/steps/<int:step_pk>/remove/", views.order_step_remove, name="order_step_remove"),
    path("orders/<int:pk>/steps/<int:step_pk>/move/<str:direction>/", views.order_step_move, name="order_step_move"),
]
