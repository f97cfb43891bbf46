from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In the app")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    IM = "im", _("IM group")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class ImKind(models.TextChoices):
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk group robot")
    FEISHU = "feishu", _("Feishu group robot")
    GENERIC = "generic", _("Generic (signed JSON)")


class Event(models.TextChoices):
    """The notification events we ship templates for. Producers may address others; those
    render with a plain fallback."""

    WORK_ORDER_CREATED = "work_order.created", _("New work order")
    WORK_ORDER_ASSIGNED = "work_order.assigned", _("Work order assigned to you")
    WORK_ORDER_REJECTED = "work_order.rejected", _("Work order rejected")
    WORK_ORDER_COMPLETED = "work_order.completed", _("Work order completed")
    SLA_WARNING = "sla.warning", _("SLA deadline approaching")
    SLA_BREACHED = "sla.breached", _("SLA deadline missed")
    CONTRACT_EXPIRING = "contract.expiring", _("Contract expiring")
    WARRANTY_EXPIRING = "warranty.expiring", _("Warranty expiring")
    POOL_EXPIRED = "pool.expired", _("Nobody grabbed a pool order")
    POOL_APPROVAL_NEEDED = "pool.approval_needed", _("A grab waits for approval")
    POOL_GRAB_DECLINED = "pool.grab_declined", _("Your grab was declined")
    DESTINATION_OPENED = "destination.opened", _("Deliveries to a destination are paused")
    DESTINATION_RECOVERED = "destination.recovered", _("Deliveries to a destination work again")
    STOCK_BELOW_MINIMUM = "stock.below_minimum", _("A part fell below its minimum stock")
    CAMPAIGN_NOTICE = "maintenance.campaign_notice", _("Service campaign about your machines")
    PLAN_EXPIRING = "maintenance_plan.expiring", _("Maintenance plan ending")
    INSPECTION_SENT = "inspection.send", _("Inspection waiting for your approval")
    INSPECTION_REPORT = "inspection.send_report", _("Inspection report to confirm")
    INSPECTION_APPROVED = "inspection.approve", _("Customer approved an inspection")
    INSPECTION_DECLINED = "inspection.decline", _("Customer declined an inspection")
    INSPECTION_CONFIRMED = "inspection.confirm", _("Customer confirmed an inspection report")
    INSPECTION_COMMENTED = "inspection.report_comment", _("Customer commented on an inspection report")
    INSPECTION_CHANGE_DECIDED = "inspection.change_decided", _("Customer decided on a proposed change")
    IOT_ORDER_OPENED = "iot.order_opened", _("Your machine reported a problem: service order opened")


# Without a preference row: in the app and by e-mail yes, SMS and IM no.
CHANNEL_DEFAULTS: dict[str, bool] = {
    Channel.IN_APP: True,
    Channel.EMAIL: True,
    Channel.SMS: False,
    Channel.IM: False,
}

# Events nobody may silence in the app: a missed deadline must reach the people it is
# addressed to, whatever else they turned off.
ALWAYS_IN_APP = frozenset({Event.SLA_BREACHED, Event.DESTINATION_OPENED})


# Labels of the actions this app records in the event log and the service log
# (registered with core.events in apps.py).
ACTION_LABELS = {
    "retried": _("delivery retried"),
}
