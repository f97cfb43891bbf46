"""Online payment providers behind one small interface.

A payment starts with `billing.services.charges.start_online_payment` (an `OnlinePayment` row for
the bill's open amount, with a random token). Its gateway's `start(online_payment, return_url)`
gives the address to send the payer to; the provider later calls our notify endpoint
`/billing/pay/notify/<gateway>/`, whose view hands the request to `verify(request)`: a `Notice`
(our token, the provider's reference, the amount, paid or failed) once the signature is checked,
else `GatewayError` (a 400, nothing written). The view then calls
`complete_online_payment`, which is idempotent, so a provider repeating its notice records one
payment.

Only the `sandbox` gateway is here: its own page plays the provider (Pay / Fail buttons posting a
notice signed with a key derived from SECRET_KEY). A real adapter plugs in the same way: a
WeChat Pay class whose `start` calls the unified order API (统一下单, a Native code_url or JSAPI
prepay id) and whose `verify` checks the notice's signature with the platform certificate and
decrypts its resource; an Alipay class whose `start` builds the signed `alipay.trade.page.pay`
address and whose `verify` checks the RSA2 signature of the asynchronous notice. Each registers
with `register(name, gateway)` and answers the provider in `acknowledge` with what it expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Protocol
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from fieldservice.billing.choices import OnlinePaymentStatus
from fieldservice.billing.models import OnlinePayment


class GatewayError(Exception):
    """A notice that cannot be trusted or read: answered with 400, nothing written."""


@dataclass(frozen=True)
class Notice:
    token: str  # our OnlinePayment.token (the provider's "out_trade_no")
    reference: str  # the provider's transaction id
    amount: Decimal
    status: str  # OnlinePaymentStatus.SUCCEEDED or FAILED
    return_url: str = ""


class Gateway(Protocol):
    name: str

    def start(self, online_payment: OnlinePayment, return_url: str = "") -> str:
        """The address the payer's browser goes to."""

    def verify(self, request: HttpRequest) -> Notice:
        """The provider's notice, its signature checked; GatewayError when it does not hold."""

    def acknowledge(self, notice: Notice) -> HttpResponse:
        """What the provider expects back once the notice is applied."""


_gateways: dict[str, Gateway] = {}


def register(name: str, gateway: Gateway) -> None:
    _gateways[name] = gateway


def get(name: str) -> Gateway:
    try:
        return _gateways[name]
    except KeyError:
        raise GatewayError(f"unknown gateway {name!r}") from None


def names() -> list[str]:
    return sorted(_gateways)


# --- the sandbox ---------------------------------------------------------------------------------

NOTICE_FIELDS = ("token", "reference", "amount", "status", "return_url")


def sign(gateway: str, fields: dict[str, str]) -> str:
    """HMAC-SHA256 of the notice's fields, with a key derived from SECRET_KEY for this gateway."""
    message = "&".join(f"{name}={fields.get(name, '')}" for name in NOTICE_FIELDS)
    return salted_hmac(f"fieldservice.billing.gateways.{gateway}", message, algorithm="sha256").hexdigest()


class SandboxGateway:
    """A provider that lives in our own site, for the demo and the tests."""

    name = "sandbox"

    def start(self, online_payment: OnlinePayment, return_url: str = "") -> str:
        url = reverse("billing:sandbox_pay", args=[online_payment.token])
        return f"{url}?{urlencode({'return': return_url})}" if return_url else url

    def notify_url(self) -> str:
        return reverse("billing:payment_notify", args=[self.name])

    def notice_fields(self, online_payment: OnlinePayment, status: str, return_url: str = "") -> dict[str, str]:
        """The signed form fields the sandbox page posts to the notify endpoint."""
        fields = {
            "token": online_payment.token,
            "reference": f"SBX-{online_payment.pk:08d}",
            "amount": f"{online_payment.amount:.2f}",
            "status": status,
            "return_url": return_url,
        }
        fields["signature"] = sign(self.name, fields)
        return fields

    def verify(self, request: HttpRequest) -> Notice:
        data = request.POST
        fields = {name: data.get(name, "") for name in NOTICE_FIELDS}
        if not constant_time_compare(sign(self.name, fields), data.get("signature", "")):
            raise GatewayError(_("The notice's signature does not match."))
        try:
            amount = Decimal(fields["amount"])
        except InvalidOperation:
            raise GatewayError(_("The notice's amount is not a number.")) from None
        if fields["status"] not in (OnlinePaymentStatus.SUCCEEDED, OnlinePaymentStatus.FAILED):
            raise GatewayError(_("The notice's status is unknown."))
        return_url = fields["return_url"]
        if return_url and not url_has_allowed_host_and_scheme(return_url, allowed_hosts={request.get_host()}):
            return_url = ""
        return Notice(
            token=fields["token"],
            reference=fields["reference"],
            amount=amount,
            status=fields["status"],
            return_url=return_url,
        )

    def acknowledge(self, notice: Notice) -> HttpResponse:
        # The sandbox's notice comes from the payer's browser: send it back to where it came from.
        if notice.return_url:
            return HttpResponseRedirect(notice.return_url)
        return HttpResponse("success", content_type="text/plain")


SANDBOX = SandboxGateway()
register(SANDBOX.name, SANDBOX)
