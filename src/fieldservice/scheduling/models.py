"""When the work happens: visits agreed with the customer, engineers' absences, default durations.

An engineer's regular shift is `EngineerProfile.working_hours` (the weekly pattern, breaks are the
gaps between its periods); `Absence` takes time out of it (leave, training, a dated break).
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.assets.models import ProductModel
from fieldservice.scheduling.choices import AbsenceKind, VisitStatus
from fieldservice.workorders.choices import ServiceType
from fieldservice.workorders.models import WorkOrder


class Visit(models.Model):
    """One planned trip of the order's lead engineer to the site: the slot on the Gantt board.

    `window_*` is what was agreed with the customer (the engineer may start any time inside it);
    `planned_start` is when the dispatcher or the optimiser put it. `version` grows on every change,
    so a proposal or a drag made from an older copy is refused instead of overwriting."""

    work_order = models.ForeignKey(
        WorkOrder, verbose_name=_("work order"), on_delete=models.CASCADE, related_name="visits"
    )
    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("engineer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
    )
    window_start = models.DateTimeField(_("time window from"), null=True, blank=True)
    window_end = models.DateTimeField(_("time window to"), null=True, blank=True)
    planned_start = models.DateTimeField(_("planned start"), db_index=True)
    duration_minutes = models.PositiveIntegerField(_("estimated duration (minutes)"))
    is_pinned = models.BooleanField(
        _("pinned"), default=False, help_text=_("The optimiser must not move a pinned visit.")
    )
    status = models.CharField(_("status"), max_length=10, choices=VisitStatus.choices, default=VisitStatus.PLANNED)
    note = models.CharField(_("note"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["planned_start", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order"], condition=models.Q(status="planned"), name="visit_one_planned_per_order"
            ),
            models.CheckConstraint(
                condition=models.Q(window_start__isnull=True)
                | models.Q(window_end__isnull=True)
                | models.Q(window_end__gt=models.F("window_start")),
                name="visit_window_ends_after_start",
            ),
            models.CheckConstraint(condition=models.Q(duration_minutes__gt=0), name="visit_duration_positive"),
        ]
        indexes = [models.Index(fields=["engineer", "status", "planned_start"])]

    def __str__(self) -> str:
        return f"{self.work_order} @ {self.planned_start:%Y-%m-%d %H:%M}"

    @property
    def planned_end(self):
        return self.planned_start + timedelta(minutes=self.duration_minutes)


class Absence(models.Model):
    """Time an engineer is not available inside the weekly shift: leave, training, a break."""

    engineer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("engineer"), on_delete=models.CASCADE, related_name="absences"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AbsenceKind.choices, default=AbsenceKind.LEAVE)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="absence_ends_after_start"
            )
        ]
        indexes = [models.Index(fields=["engineer", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.engineer} {self.get_kind_display()} {self.starts_at:%Y-%m-%d}"


class DurationDefault(models.Model):
    """How long a visit of this service type (for this product model, or any) is expected to take."""

    service_type = models.CharField(_("service type"), max_length=20, choices=ServiceType.choices)
    product_model = models.ForeignKey(
        ProductModel,
        verbose_name=_("product model"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    minutes = models.PositiveIntegerField(_("minutes"))

    class Meta:
        verbose_name = _("default visit duration")
        verbose_name_plural = _("default visit durations")
        ordering = ["service_type", "product_model"]
        constraints = [
            models.UniqueConstraint(fields=["service_type", "product_model"], name="duration_default_unique"),
            models.UniqueConstraint(
                fields=["service_type"],
                condition=models.Q(product_model__isnull=True),
                name="duration_default_unique_any_model",
            ),
            models.CheckConstraint(condition=models.Q(minutes__gt=0), name="duration_default_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_type_display()} {self.product_model or '*'}: {self.minutes}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeed(models.Model):
    """The private iCal address of an engineer's visits; rotating the token kills the old address."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_fetched_at = models.DateTimeField(_("last fetched"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user)
