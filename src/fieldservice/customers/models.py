from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from fieldservice.accounts.models import Organisation
from fieldservice.customers.choices import CustomerKind, CustomerTier


class Customer(models.Model):
    """Someone we sold machines to: a company or a person.

    Each customer has its own `Organisation` (kind customer) so its portal users can be
    scoped to it; `service_provider` is the partner that serves it, if any.
    """

    code = models.CharField(_("customer code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=CustomerKind.choices, default=CustomerKind.COMPANY)
    tier = models.CharField(_("tier"), max_length=20, choices=CustomerTier.choices, default=CustomerTier.STANDARD)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    organisation = models.OneToOneField(
        Organisation, verbose_name=_("organisation"), on_delete=models.PROTECT, related_name="customer"
    )
    service_provider = models.ForeignKey(
        Organisation,
        verbose_name=_("service provider"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="served_customers",
        limit_choices_to={"kind": "provider"},
    )
    account_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
    )
    notes = models.TextField(_("notes"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class Contact(models.Model):
    """A person at a customer we talk to."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("job title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True)
    wechat_id = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["customer", "-is_primary", "name", "pk"]
        constraints = [models.UniqueConstraint(fields=["customer", "phone"], name="contact_unique_phone_per_customer")]

    def __str__(self) -> str:
        return self.name


class Site(models.Model):
    """A place where a customer's machines stand."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(_("name"), max_length=200)
    address = models.CharField(_("address"), max_length=300)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    district = models.CharField(_("district"), max_length=50, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("site contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sites",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["customer", "name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "name"], name="site_unique_name_per_customer"),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True) | models.Q(latitude__gte=-90, latitude__lte=90),
                name="site_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True) | models.Q(longitude__gte=-180, longitude__lte=180),
                name="site_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} · {self.name}"

    @property
    def full_address(self) -> str:
        """Province, city, district and street as a Chinese address is written: the street alone is
        ambiguous for navigation and on a report."""
        return "".join(part for part in (self.province, self.city, self.district, self.address) if part)
