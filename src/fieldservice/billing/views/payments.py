"""Online payment pages: the sandbox provider's page (it plays WeChat Pay or Alipay) and the
notify endpoint every gateway calls (`billing.gateways`)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from fieldservice.billing import gateways
from fieldservice.billing.choices import OnlinePaymentStatus
from fieldservice.billing.models import OnlinePayment
from fieldservice.billing.services.charges import complete_online_payment
from fieldservice.core.errors import DomainError


def sandbox_pay(request, token):
    """The sandbox provider's payment page: the amount and two buttons, each a form posting a
    signed notice to our notify endpoint. The token (random, 192 bits) is the key, as a real
    provider's checkout address is."""
    online = get_object_or_404(OnlinePayment.objects.select_related("bill"), token=token, gateway=gateways.SANDBOX.name)
    return_url = request.GET.get("return", "")
    if not url_has_allowed_host_and_scheme(return_url, allowed_hosts={request.get_host()}):
        return_url = ""
    pending = online.status == OnlinePaymentStatus.PENDING
    context = {
        "online": online,
        "pending": pending,
        "return_url": return_url,
        "notify_url": gateways.SANDBOX.notify_url(),
        "pay_fields": gateways.SANDBOX.notice_fields(online, OnlinePaymentStatus.SUCCEEDED, return_url)
        if pending
        else None,
        "fail_fields": gateways.SANDBOX.notice_fields(online, OnlinePaymentStatus.FAILED, return_url)
        if pending
        else None,
    }
    response = render(request, "billing/sandbox_pay.html", context)
    response["Referrer-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


@csrf_exempt  # the provider calls it, with no session; the notice's signature is the proof
@require_POST
def payment_notify(request, gateway):
    try:
        provider = gateways.get(gateway)
        notice = provider.verify(request)
    except gateways.GatewayError as error:
        return HttpResponseBadRequest(str(error), content_type="text/plain")
    try:
        complete_online_payment(
            gateway=gateway,
            token=notice.token,
            reference=notice.reference,
            amount=notice.amount,
            status=notice.status,
        )
    except ValidationError as error:
        return HttpResponseBadRequest("; ".join(error.messages), content_type="text/plain")
    except DomainError as error:
        return HttpResponse(error.message, status=409, content_type="text/plain")
    return provider.acknowledge(notice)
