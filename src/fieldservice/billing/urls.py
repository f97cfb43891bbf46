from django.urls import path

from fieldservice.billing.views import settlement

app_name = "billing"
urlpatterns: list = [
    path("statements/", settlement.statement_list, name="statement_list"),
    path("statements/generate/", settlement.statements_generate, name="statements_generate"),
    path("statements/<int:pk>/", settlement.statement_detail, name="statement_detail"),
    path("statements/<int:pk>/confirm/", settlement.statement_confirm, name="statement_confirm"),
    path("statements/<int:pk>/approve/", settlement.statement_approve, name="statement_approve"),
    path("statements/<int:pk>/settle/", settlement.statement_settle, name="statement_settle"),
    path("statement-lines/<int:pk>/dispute/", settlement.line_dispute, name="statement_line_dispute"),
    path("statement-lines/<int:pk>/correct/", settlement.line_correct, name="statement_line_correct"),
    path("statement-lines/<int:pk>/adjust/", settlement.line_adjust, name="statement_line_adjust"),
    path("settlement-rules/", settlement.rule_list, name="settlement_rule_list"),
    path("settlement-rules/new/", settlement.rule_create, name="settlement_rule_create"),
    path("settlement-rules/<int:pk>/edit/", settlement.rule_edit, name="settlement_rule_edit"),
    path("settlement-rules/<int:pk>/deactivate/", settlement.rule_deactivate, name="settlement_rule_deactivate"),
    path("my-statements/", settlement.my_statements, name="my_statements"),
    path("my-statements/<int:pk>/", settlement.my_statement, name="my_statement"),
]
