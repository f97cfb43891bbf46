from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fieldservice.contracts.choices import ContractLevel, ContractStatus, PartsCoverage


class Contract(models.Model):
    """A service agreement with a customer over some of its machines, for a period.

    An extension is a new contract for the next period whose `previous` is the old one, so the
    history of a customer's agreements stays readable.
    """

    number = models.CharField(_("contract number"), max_length=32, unique=True)
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contracts"
    )
    level = models.CharField(_("level"), max_length=10, choices=ContractLevel.choices, default=ContractLevel.SILVER)
    sla_policy = models.ForeignKey(
        "sla.SlaPolicy", verbose_name=_("SLA policy"), on_delete=models.PROTECT, related_name="contracts"
    )
    starts_on = models.DateField(_("start"))
    ends_on = models.DateField(_("end"))
    status = models.CharField(
        _("status"), max_length=12, choices=ContractStatus.choices, default=ContractStatus.DRAFT, editable=False
    )
    equipment = models.ManyToManyField(
        "assets.Equipment", verbose_name=_("covered machines"), related_name="contracts", blank=True
    )
    included_visits = models.PositiveIntegerField(
        _("included visits"), null=True, blank=True, help_text=_("Empty: unlimited.")
    )
    parts_coverage = models.CharField(
        _("parts coverage"), max_length=20, choices=PartsCoverage.choices, default=PartsCoverage.NONE
    )
    labour_covered = models.BooleanField(_("labour covered"), default=True)
    price_list = models.ForeignKey(
        "contracts.PriceList",
        verbose_name=_("price list"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
    )
    annual_fee = models.DecimalField(_("contract fee"), max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    previous = models.OneToOneField(
        "self",
        verbose_name=_("extends"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="extension",
    )
    notes = models.TextField(_("notes"), blank=True)
    terminated_reason = models.CharField(_("reason for termination"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("service contract")
        verbose_name_plural = _("service contracts")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="contract_ends_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.number


class PriceList(models.Model):
    """Prices for chargeable work and parts; a contract may point to its own."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    is_default = models.BooleanField(_("default price list"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="price_list_one_default"
            )
        ]

    def __str__(self) -> str:
        return self.name
