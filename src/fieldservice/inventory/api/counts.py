"""HTTP API of stock counts (盘点), under /api/v1/: open, count, post, cancel. A blind count's
expected figures are null until it is posted, except for a keeper who asks for the review."""

from datetime import datetime
from decimal import Decimal

from ninja import Router, Schema
from ninja.pagination import paginate

from fieldservice.accounts.permissions import Capability, can
from fieldservice.core.api import Id, PageNumberPagination, StrictSchema, idempotent
from fieldservice.core.errors import require
from fieldservice.inventory import selectors, services
from fieldservice.inventory.choices import CountStatus
from fieldservice.inventory.models import StockCount, StockCountLine
from fieldservice.inventory.services.counts import shows_expected, with_totals

router = Router(tags=["inventory"])


class CountLineOut(Schema):
    id: int
    part: int
    part_number: str
    lot: str
    grade: str
    expected: Decimal | None
    counted: Decimal | None
    difference: Decimal | None


class CountOut(Schema):
    id: int
    number: str
    warehouse: int
    warehouse_name: str
    status: str
    blind: bool
    created_at: datetime
    posted_at: datetime | None
    reason: str
    line_total: int
    difference_total: int | None

    @staticmethod
    def resolve_warehouse(obj) -> int:
        return obj.warehouse_id

    @staticmethod
    def resolve_warehouse_name(obj) -> str:
        return obj.warehouse.name

    @staticmethod
    def resolve_line_total(obj) -> int:
        total = getattr(obj, "line_total", None)
        return obj.lines.count() if total is None else total

    @staticmethod
    def resolve_difference_total(obj) -> int | None:
        # A blind count's differences are for the review, not for a list.
        if not shows_expected(None, obj):
            return None
        total = getattr(obj, "difference_total", None)
        if total is None:
            total = sum(1 for line in obj.lines.all() if line.counted is not None and line.counted != line.expected)
        return total


class CountDetailOut(CountOut):
    lines: list[CountLineOut]

    @staticmethod
    def resolve_lines(obj) -> list[dict]:
        visible = getattr(obj, "expected_visible", None)
        if visible is None:
            visible = shows_expected(None, obj)
        return [
            {
                "id": line.pk,
                "part": line.part_id,
                "part_number": line.part.part_number,
                "lot": line.lot,
                "grade": line.grade,
                "expected": line.expected if visible else None,
                "counted": line.counted,
                "difference": line.difference if visible else None,
            }
            for line in obj.lines.select_related("part")
        ]


class CountIn(StrictSchema):
    warehouse: Id
    blind: bool = True


class ExtraIn(StrictSchema):
    __model__ = StockCountLine
    part: Id
    lot: str = ""
    grade: str = "good"
    quantity: Decimal | str


class CountsIn(StrictSchema):
    counted: dict[int, Decimal | str] = {}
    extra: list[ExtraIn] = []


class PostIn(StrictSchema):
    __model__ = StockCount
    reason: str


class CountCancelIn(StrictSchema):
    __model__ = StockCount
    reason: str = ""


def _detail(user, count_id: int, *, review: bool = False) -> StockCount:
    count = with_totals(selectors.counts_for(user)).get(pk=count_id)
    count.expected_visible = shows_expected(user, count, review=review)
    return count


def _may_list(user) -> bool:
    return can(user, Capability.VIEW_STOCK) or can(user, Capability.REQUEST_PARTS)


@router.get("/stock-counts", response=list[CountOut])
@paginate(PageNumberPagination, page_size=50)
def list_counts(request, status: CountStatus | None = None, warehouse: Id | None = None):
    require(_may_list(request.user))
    counts = with_totals(selectors.counts_for(request.user))
    if status:
        counts = counts.filter(status=status)
    if warehouse:
        counts = counts.filter(warehouse_id=warehouse)
    return counts.order_by("-created_at", "-pk")


@router.post("/stock-counts", response={201: CountDetailOut})
@idempotent
def open_count(request, payload: CountIn):
    warehouse = selectors.get_warehouse_for(request.user, payload.warehouse)
    count = services.open_count(warehouse, actor=request.user, blind=payload.blind)
    return 201, _detail(request.user, count.pk)


@router.get("/stock-counts/{int:count_id}", response=CountDetailOut)
def get_count(request, count_id: Id, review: bool = False):
    """`review=true`: a keeper who may post the count sees a blind count's expected figures."""
    selectors.get_count_for(request.user, count_id)
    return _detail(request.user, count_id, review=review)


@router.post("/stock-counts/{int:count_id}/counts", response=CountDetailOut)
def record_counts(request, count_id: Id, payload: CountsIn):
    count = selectors.get_count_for(request.user, count_id)
    services.record_counts(
        count,
        actor=request.user,
        counted=payload.counted,
        extra=[item.model_dump() for item in payload.extra],
    )
    return _detail(request.user, count_id)


@router.post("/stock-counts/{int:count_id}/post", response=CountDetailOut)
def post_count(request, count_id: Id, payload: PostIn):
    count = selectors.get_count_for(request.user, count_id)
    services.post_count(count, actor=request.user, reason=payload.reason)
    return _detail(request.user, count_id)


@router.post("/stock-counts/{int:count_id}/cancel", response=CountDetailOut)
def cancel_count(request, count_id: Id, payload: CountCancelIn):
    count = selectors.get_count_for(request.user, count_id)
    services.cancel_count(count, actor=request.user, reason=payload.reason)
    return _detail(request.user, count_id)
