"""HTTP API for the signed-in user's own notifications (under /api/v1/)."""

from datetime import datetime

from ninja import Router, Schema
from ninja.pagination import paginate

from fieldservice.core.api import Id, PageNumberPagination
from fieldservice.notifications import selectors, services

router = Router(tags=["notifications"])


class NotificationOut(Schema):
    id: int
    event: str
    title: str
    body: str
    url: str
    created_at: datetime
    read_at: datetime | None
    unread: bool

    @staticmethod
    def resolve_unread(obj) -> bool:
        return obj.read_at is None


class UnreadCountOut(Schema):
    unread: int


class ReadAllOut(Schema):
    marked: int


@router.get("/notifications", response=list[NotificationOut], summary="Your notifications, unread first")
@paginate(PageNumberPagination, page_size=50)
def list_notifications(request, unread: bool = False):
    notifications = selectors.notifications_for(request.user)
    if unread:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications


@router.get("/notifications/unread-count", response=UnreadCountOut)
def unread_count(request):
    return {"unread": selectors.unread_count(request.user)}


@router.post("/notifications/read-all", response=ReadAllOut, summary="Mark all your notifications read")
def read_all(request):
    return {"marked": services.mark_all_read(actor=request.user)}


@router.post("/notifications/{int:notification_id}/read", response=NotificationOut)
def read(request, notification_id: Id):
    notification = selectors.get_notification_for(request.user, notification_id)
    return services.mark_read(notification, actor=request.user)
