from fieldservice.accounts.models import User
from fieldservice.accounts.permissions import Capability, can


def may_manage_devices(actor: User) -> bool:
    """Devices and their credentials, alarm codes and threshold rules: the administrator's."""
    return can(actor, Capability.MANAGE_DEVICES)


def may_view_machine_data(actor: User) -> bool:
    return can(actor, Capability.VIEW_MACHINE_DATA)
