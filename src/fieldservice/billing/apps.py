from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "fieldservice.billing"
    label = "billing"
    verbose_name = _("Billing")

    def ready(self):
        from fieldservice.billing.choices import ACTION_LABELS
        from fieldservice.core.events import register_action_labels

        register_action_labels(self.label, ACTION_LABELS)
        # The order page shows, top to bottom: its fee lines, its quotations, its bill, its margin.
        self.register_fees()
        self.register_quotations()
        self.register_charges()
        self.register_margins()

    @staticmethod
    def register_fees():
        """A completed order is priced in the lifecycle's transaction; its fee lines show on the
        work order page and on the engineer's phone."""
        from fieldservice.billing.services.fees import price_completed
        from fieldservice.billing.views.fees import field_panel, order_panel
        from fieldservice.core import panels
        from fieldservice.workorders import hooks

        hooks.on_moved(price_completed)
        panels.register("workorders.order", order_panel)
        panels.register("field.order", field_panel)

    @staticmethod
    def register_quotations():
        """Quotations: sent ones past their date expire (a periodic check); the order's quotations
        on the work order page, and on the engineer's phone where the customer signs to approve."""
        from fieldservice.billing.views.quotations import order_panel, phone_panel
        from fieldservice.core import panels, periodic

        periodic.register("billing.expire_quotations", "fieldservice.billing.tasks.expire_quotations", 3600)
        panels.register("workorders.order", order_panel)
        panels.register("field.order", phone_panel)

    @staticmethod
    def register_charges():
        """The order's bill (or the button that draws it up) on the work order page."""
        from fieldservice.billing.views.charges import order_bill_panel
        from fieldservice.core import panels

        panels.register("workorders.order", order_bill_panel)

    @staticmethod
    def register_margins():
        """Cost and margin: the rows follow their orders' moves (the day an order counts on is its
        closing day), and show on the work order, contract and customer pages, for the back office."""
        from fieldservice.billing.services.margins import after_moves
        from fieldservice.billing.views.margins import contract_margin_panel, customer_margin_panel, order_margin_panel
        from fieldservice.core import panels
        from fieldservice.workorders import hooks

        hooks.on_moved(after_moves)
        panels.register("workorders.order", order_margin_panel)
        panels.register("contracts.contract", contract_margin_panel)
        panels.register("customers.customer", customer_margin_panel)
