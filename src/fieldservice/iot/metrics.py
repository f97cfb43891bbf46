"""What people read for the metrics machines commonly send. A metric is the device's own name
(`temperature`, `oil_pressure`, docs/IOT.md); the common ones have a label in both languages,
any other is shown as the device sent it."""

from django.utils.translation import pgettext_lazy

LABELS = {
    "temperature": pgettext_lazy("machine metric", "Temperature"),
    "oil_temperature": pgettext_lazy("machine metric", "Oil temperature"),
    "vibration": pgettext_lazy("machine metric", "Vibration"),
    "wear": pgettext_lazy("machine metric", "Wear"),
    "pressure": pgettext_lazy("machine metric", "Pressure"),
    "oil_pressure": pgettext_lazy("machine metric", "Oil pressure"),
    "current": pgettext_lazy("machine metric", "Current"),
    "voltage": pgettext_lazy("machine metric", "Voltage"),
    "power": pgettext_lazy("machine metric", "Power"),
    "speed": pgettext_lazy("machine metric", "Speed"),
    "hours": pgettext_lazy("machine metric", "Operating hours"),
    "operating_hours": pgettext_lazy("machine metric", "Operating hours"),
    "cycles": pgettext_lazy("machine metric", "Cycles"),
    "shots": pgettext_lazy("machine metric", "Shots"),
    "humidity": pgettext_lazy("machine metric", "Humidity"),
    "flow": pgettext_lazy("machine metric", "Flow"),
    "level": pgettext_lazy("machine metric", "Level"),
}


def metric_label(name: str) -> str:
    label = LABELS.get(name)
    return str(label) if label is not None else name
