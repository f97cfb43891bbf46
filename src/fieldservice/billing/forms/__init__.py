"""Billing forms, one module per topic; the names are re-exported so callers write `forms.x`."""

from fieldservice.billing.forms.charges import *  # noqa: F403
from fieldservice.billing.forms.fees import *  # noqa: F403
from fieldservice.billing.forms.margins import *  # noqa: F403
from fieldservice.billing.forms.quotations import *  # noqa: F403
from fieldservice.billing.forms.settlement import *  # noqa: F403
