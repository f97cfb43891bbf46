from django.urls import path

from fieldservice.dispatch.assignments import views
from fieldservice.dispatch.rules import views as rule_views

app_name = "dispatch"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("run-rules/", views.run_rules, name="run_rules"),
    path("orders/<int:pk>/", views.order, name="order"),
    path("orders/<int:pk>/candidates/", views.candidates, name="candidates"),
    path("provider/", views.provider_queue, name="provider_queue"),
    path("provider/assignments/<int:pk>/assign/", views.provider_assign, name="provider_assign"),
    path("provider/assignments/<int:pk>/reject/", views.provider_reject, name="provider_reject"),
    path("rules/", rule_views.rule_list, name="rules"),
    path("rules/new/", rule_views.rule_new, name="rule_new"),
    path("rules/tester/", rule_views.rule_tester, name="rule_tester"),
    path("rules/<int:pk>/", rule_views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/move/", rule_views.rule_move, name="rule_move"),
    path("rules/<int:pk>/toggle/", rule_views.rule_toggle, name="rule_toggle"),
    path("rules/<int:pk>/delete/", rule_views.rule_delete, name="rule_delete"),
]
