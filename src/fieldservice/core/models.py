from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Events are append-only")

    def delete(self):
        raise TypeError("Events are append-only")


class Event(models.Model):
    """One change to a domain object: who, when, what, and the fields before and after.

    Written only by services through `core.events.record_event`, in the same
    transaction as the change. `related` points to a parent (a site's event also
    shows on its customer), so a parent's history includes its children.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_pk = models.CharField(max_length=64)
    object_repr = models.CharField(_("object"), max_length=200)
    related_content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    related_object_pk = models.CharField(max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=40)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["content_type", "object_pk", "-at"]),
            models.Index(fields=["related_content_type", "related_object_pk", "-at"]),
        ]

    def __str__(self) -> str:
        return f"{self.object_repr}: {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("Events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Events are append-only")


class IdempotentRequest(models.Model):
    """A create call made with an `Idempotency-Key` header, and the object it created.

    A retry with the same key returns the same object instead of creating another.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    endpoint = models.CharField(max_length=300)
    # A digest of the request's body: the same key sent with another body is a client error.
    fingerprint = models.CharField(max_length=64, blank=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, null=True, related_name="+")
    object_pk = models.CharField(max_length=64, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotent request")
        verbose_name_plural = _("idempotent requests")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_unique_key")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class OutboxMessage(models.Model):
    """A side effect to deliver after the transaction that wrote it commits.

    Services write these in their transaction (`core.outbox.emit`); the worker hands each to the
    consumers (notifications, webhooks), which fan it out into deliveries. A message with a `key`
    is stored once however often it is emitted, so a periodic check that runs twice sends
    nothing twice.
    """

    topic = models.CharField(_("topic"), max_length=60, db_index=True)
    key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        ordering = ["pk"]
        indexes = [
            models.Index(
                fields=["available_at"],
                name="outbox_pending",
                condition=models.Q(processed_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"


class PeriodicCheck(models.Model):
    """When a periodic task is next due. Workers claim a due check with a compare-and-set on
    `next_due_at`, so however many workers run, one enqueues it, and a restart loses nothing."""

    name = models.CharField(max_length=80, unique=True)
    next_due_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("periodic check")
        verbose_name_plural = _("periodic checks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CircuitState(models.TextChoices):
    CLOSED = "closed", _("Working")
    FAILING = "failing", _("Failing")
    OPEN = "open", _("Paused after repeated failures")
    HALF_OPEN = "half_open", _("Trying again")


class Destination(models.Model):
    """A place deliveries go to: a webhook subscription ("webhook:12"), the SMS gateway ("sms"),
    the IM robots ("im"), the mail server ("mail") or the in-app inbox ("in_app").

    Deliveries are sent by a pump per destination (`core.destinations`), never by a task per
    delivery, so a receiver that hangs can hold at most one worker, and its circuit breaker
    stops trying it after repeated failures while every other destination goes on."""

    key = models.CharField(max_length=100, unique=True)
    state = models.CharField(_("state"), max_length=10, choices=CircuitState.choices, default=CircuitState.CLOSED)
    # Failed attempts in a row; any success sets it back to 0.
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    # Times the circuit opened in a row without a success between: the pause doubles each time.
    trips = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(_("paused since"), null=True, blank=True)
    # While open (or failing): no attempt before this; then one probe.
    retry_at = models.DateTimeField(_("next try"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_failure_at = models.DateTimeField(_("last failure"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last success"), null=True, blank=True)
    # Set when a pump task is put in the queue, cleared when it starts: a pump is waiting.
    pump_enqueued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("delivery destination")
        verbose_name_plural = _("delivery destinations")
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class DestinationSlot(models.Model):
    """One pump sending to a destination right now. The unique (destination, slot) pair is what
    bounds the pumps in flight per destination; `until` is renewed after every attempt, so the
    slot of a pump whose worker died frees itself."""

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="slots")
    slot = models.PositiveSmallIntegerField()
    holder = models.CharField(max_length=100)
    until = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["destination", "slot"], name="destination_slot_once")]

    def __str__(self) -> str:
        return f"{self.destination_id}#{self.slot} {self.holder}"


class WorkerBeat(models.Model):
    """A running `fsm worker`: it writes `beat_at` every few seconds. A row whose beat is older
    than FSM_WORKER_DEAD_SECONDS belongs to a worker that died; the recovery marks the tasks it
    held failed, runs them again, and deletes the row (`core.workers`)."""

    name = models.CharField(max_length=64, unique=True)
    host = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    backend = models.CharField(max_length=20)
    queues = models.CharField(max_length=200)
    started_at = models.DateTimeField(default=timezone.now)
    beat_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
