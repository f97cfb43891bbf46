# ruff: noqa: E501 - message texts read better unbroken
"""The texts notifications ship with, per event and language (Django template syntax, rendered
with a plain dict). The data migration copies them into NotificationTemplate rows for
administrators to edit; a missing row falls back to these.

Context every workflow event gets: number, customer, site, priority, service_type, description,
actor, note. The producer-addressed events get what their producer puts in "context".
"""

DEFAULT_TEMPLATES: dict[str, dict[str, dict[str, str]]] = {
    "work_order.created": {
        "en": {
            "subject": "New work order {{ number }}: {{ customer }}",
            "body": "{{ customer }}{% if site %}, {{ site }}{% endif %}\n"
            "Priority: {{ priority }} · {{ service_type }}\n{{ description }}",
        },
        "zh-hans": {
            "subject": "新工单 {{ number }}：{{ customer }}",
            "body": "{{ customer }}{% if site %}，{{ site }}{% endif %}\n"
            "优先级：{{ priority }} · {{ service_type }}\n{{ description }}",
        },
    },
    "work_order.assigned": {
        "en": {
            "subject": "Work order {{ number }} assigned to you",
            "body": "{{ customer }}{% if site %}, {{ site }}{% endif %}\n"
            "Priority: {{ priority }}\n{{ description }}{% if note %}\nNote from {{ actor }}: {{ note }}{% endif %}",
        },
        "zh-hans": {
            "subject": "工单 {{ number }} 已派给您",
            "body": "{{ customer }}{% if site %}，{{ site }}{% endif %}\n"
            "优先级：{{ priority }}\n{{ description }}{% if note %}\n{{ actor }} 备注：{{ note }}{% endif %}",
        },
    },
    "work_order.rejected": {
        "en": {
            "subject": "Work order {{ number }} rejected by {{ actor }}",
            "body": "{{ customer }}\nReason: {{ note }}\nThe order is back in the dispatch queue.",
        },
        "zh-hans": {
            "subject": "工单 {{ number }} 被 {{ actor }} 拒绝",
            "body": "{{ customer }}\n原因：{{ note }}\n工单已回到派工队列。",
        },
    },
    "work_order.completed": {
        "en": {
            "subject": "Work order {{ number }} completed",
            "body": "{{ actor }} completed the visit at {{ customer }}{% if site %}, {{ site }}{% endif %}.",
        },
        "zh-hans": {
            "subject": "工单 {{ number }} 已完工",
            "body": "{{ actor }} 已完成 {{ customer }}{% if site %}（{{ site }}）{% endif %}的服务。",
        },
    },
    "sla.warning": {
        "en": {
            "subject": "SLA warning: {{ number }} due {{ due_at }}",
            "body": "{{ customer }} · priority {{ priority }}\n"
            "The {{ target }} deadline ({{ rule }}) is at {{ due_at }}.",
        },
        "zh-hans": {
            "subject": "SLA 预警：{{ number }} 将于 {{ due_at }} 到期",
            "body": "{{ customer }} · 优先级 {{ priority }}\n{{ target }}时限（{{ rule }}）截止于 {{ due_at }}。",
        },
    },
    "sla.breached": {
        "en": {
            "subject": "SLA breached: {{ number }}",
            "body": "{{ customer }} · priority {{ priority }}\n"
            "The {{ target }} deadline ({{ rule }}) passed at {{ due_at }}.",
        },
        "zh-hans": {
            "subject": "SLA 已超时：{{ number }}",
            "body": "{{ customer }} · 优先级 {{ priority }}\n{{ target }}时限（{{ rule }}）已于 {{ due_at }} 超时。",
        },
    },
    "contract.expiring": {
        "en": {
            "subject": "Contract {{ contract }} ends in {{ days_left }} days",
            "body": "The service contract {{ contract }} of {{ customer }} ends on {{ ends_on }}.",
        },
        "zh-hans": {
            "subject": "合同 {{ contract }} 将在 {{ days_left }} 天后到期",
            "body": "{{ customer }} 的服务合同 {{ contract }} 将于 {{ ends_on }} 到期。",
        },
    },
    "warranty.expiring": {
        "en": {
            "subject": "Warranty of {{ serial }} ends in {{ days_left }} days",
            "body": "The warranty of {{ model }} {{ serial }} at {{ customer }} ends on {{ ends_on }}.",
        },
        "zh-hans": {
            "subject": "设备 {{ serial }} 的保修将在 {{ days_left }} 天后到期",
            "body": "{{ customer }} 的 {{ model }}（{{ serial }}）保修将于 {{ ends_on }} 到期。",
        },
    },
    "pool.expired": {
        "en": {
            "subject": "Nobody grabbed {{ number }} from the pool",
            "body": "{{ customer }} · priority {{ priority }}\n"
            "Work order {{ number }} waited in the grab pool until {{ expired_at }} and nobody took it. "
            "It is back in the dispatch queue.",
        },
        "zh-hans": {
            "subject": "抢单池无人接单：{{ number }}",
            "body": "{{ customer }} · 优先级 {{ priority }}\n"
            "工单 {{ number }} 在抢单池中等到 {{ expired_at }} 仍无人接单，已回到派工队列。",
        },
    },
    "pool.approval_needed": {
        "en": {
            "subject": "{{ engineer }} grabbed {{ number }}: approve or decline",
            "body": "{{ customer }} · priority {{ priority }}\n"
            "{{ engineer }} grabbed work order {{ number }} from the pool. It needs your approval.",
        },
        "zh-hans": {
            "subject": "{{ engineer }} 抢到了 {{ number }}，请审批",
            "body": "{{ customer }} · 优先级 {{ priority }}\n"
            "{{ engineer }} 从抢单池抢到了工单 {{ number }}，需要您审批。",
        },
    },
    "pool.grab_declined": {
        "en": {
            "subject": "Your grab of {{ number }} was declined",
            "body": "{{ customer }}\nThe dispatcher declined your grab of work order {{ number }}. {{ reason }}",
        },
        "zh-hans": {
            "subject": "您抢的工单 {{ number }} 未获批准",
            "body": "{{ customer }}\n派单员未批准您抢的工单 {{ number }}。{{ reason }}",
        },
    },
    "destination.opened": {
        "en": {
            "subject": "Deliveries paused: {{ destination }} keeps failing",
            "body": "{{ destination }} failed several times in a row, so nothing is sent to it for now; "
            "it is tried again by itself, less and less often, and the waiting messages go out once it "
            "answers. Nothing is lost.\nLast error: {{ error }}",
        },
        "zh-hans": {
            "subject": "已暂停发送：{{ destination }} 连续失败",
            "body": "{{ destination }} 连续多次发送失败，现已暂停向其发送；系统会自动重试（间隔逐渐加长），"
            "恢复应答后积压的消息会继续发出，不会丢失。\n最近的错误：{{ error }}",
        },
    },
    "destination.recovered": {
        "en": {
            "subject": "Deliveries resumed: {{ destination }} answers again",
            "body": "{{ destination }} answers again; the messages that waited are being sent.",
        },
        "zh-hans": {
            "subject": "已恢复发送：{{ destination }} 重新应答",
            "body": "{{ destination }} 已重新应答，积压的消息正在发出。",
        },
    },
    "stock.below_minimum": {
        "en": {
            "subject": "Below minimum: {{ part_number }} in {{ warehouse }}",
            "body": "{{ part_number }} {{ part_name }}: {{ on_hand }} on hand in {{ warehouse }}, "
            "the minimum is {{ minimum }}.\nOpen the parts plan to request a refill.",
        },
        "zh-hans": {
            "subject": "低于最低库存：{{ warehouse }} 的 {{ part_number }}",
            "body": "{{ part_number }} {{ part_name }}：{{ warehouse }} 现有 {{ on_hand }}，"
            "最低库存为 {{ minimum }}。\n请打开备件计划申请补货。",
        },
    },
    # A campaign or recall about the customer's machines (maintenance.services.campaigns). The
    # Chinese wording is a first draft for the lead to check.
    "maintenance.campaign_notice": {
        "en": {
            "subject": "Service notice {{ number }}: {{ title }}",
            "body": "Dear {{ customer }},\n{{ action }}: {{ title }}\n{{ reason }}\n"
            "Your machines concerned ({{ machines }}): {{ serials }}\n"
            "We will contact you to arrange the work.",
        },
        "zh-hans": {
            "subject": "服务通知 {{ number }}：{{ title }}",
            "body": "尊敬的 {{ customer }}：\n{{ action }}：{{ title }}\n{{ reason }}\n"
            "涉及您的设备（{{ machines }} 台）：{{ serials }}\n"
            "我们将与您联系安排服务。",
        },
    },
    # A connected machine's alarm or rule opened an order (iot.services.rules), told to the
    # customer's users when the alarm code or rule says so. Chinese is a first draft.
    "iot.order_opened": {
        "en": {
            "subject": "Your machine reported a problem: service order {{ number }}",
            "body": "Dear {{ customer }},\nyour machine{% if site %} at {{ site }}{% endif %} reported a problem "
            "and we opened service order {{ number }} (priority {{ priority }}).\n{{ description }}\n"
            "We will contact you to arrange the visit.",
        },
        "zh-hans": {
            "subject": "您的设备报告了故障：服务工单 {{ number }}",
            "body": "尊敬的 {{ customer }}：\n您{% if site %}在 {{ site }} {% endif %}的设备报告了故障，"
            "我们已创建服务工单 {{ number }}（优先级：{{ priority }}）。\n{{ description }}\n"
            "我们将与您联系安排上门服务。",
        },
    },
    "maintenance_plan.expiring": {
        "en": {
            "subject": "Maintenance plan {{ plan }} ends on {{ ends_on }}",
            "body": "The maintenance plan {{ plan }} ends on {{ ends_on }} ({{ days_left }} days left).{% if contract %} Contract: {{ contract }}.{% endif %}\nExtend it or plan what follows.",
        },
        "zh-hans": {
            "subject": "保养计划 {{ plan }} 将于 {{ ends_on }} 结束",
            "body": "保养计划 {{ plan }} 将于 {{ ends_on }} 结束（剩余 {{ days_left }} 天）。{% if contract %}合同：{{ contract }}。{% endif %}\n请延期或安排后续计划。",
        },
    },
    "inspection.send": {
        "en": {
            "subject": "Inspection {{ number }} waits for your approval",
            "body": "Dear {{ customer }},\nwe propose the inspection {{ number }}: {{ title }}.\nPlease approve or decline it on the link.",
        },
        "zh-hans": {
            "subject": "巡检 {{ number }} 等待您批准",
            "body": "尊敬的 {{ customer }}：\n我们计划为您进行巡检 {{ number }}：{{ title }}。\n请通过链接批准或拒绝。",
        },
    },
    "inspection.send_report": {
        "en": {
            "subject": "Inspection report {{ number }} to confirm",
            "body": "Dear {{ customer }},\nthe report of the inspection {{ number }} ({{ title }}) is ready.\nPlease read and confirm it on the link.",
        },
        "zh-hans": {
            "subject": "巡检报告 {{ number }} 请确认",
            "body": "尊敬的 {{ customer }}：\n巡检 {{ number }}（{{ title }}）的报告已完成。\n请通过链接查阅并确认。",
        },
    },
    "inspection.approve": {
        "en": {
            "subject": "{{ customer }} approved inspection {{ number }}",
            "body": "{{ customer }} approved the inspection {{ number }} ({{ title }}). Its work orders are open.",
        },
        "zh-hans": {
            "subject": "{{ customer }} 已批准巡检 {{ number }}",
            "body": "{{ customer }} 已批准巡检 {{ number }}（{{ title }}），巡检工单已创建。",
        },
    },
    "inspection.decline": {
        "en": {
            "subject": "{{ customer }} declined inspection {{ number }}",
            "body": "{{ customer }} declined the inspection {{ number }} ({{ title }}). See the reason on its page.",
        },
        "zh-hans": {
            "subject": "{{ customer }} 拒绝了巡检 {{ number }}",
            "body": "{{ customer }} 拒绝了巡检 {{ number }}（{{ title }}），原因请见巡检页面。",
        },
    },
    "inspection.confirm": {
        "en": {
            "subject": "{{ customer }} confirmed inspection report {{ number }}",
            "body": "{{ customer }} confirmed the report of the inspection {{ number }} ({{ title }}). It can be closed.",
        },
        "zh-hans": {
            "subject": "{{ customer }} 已确认巡检报告 {{ number }}",
            "body": "{{ customer }} 已确认巡检 {{ number }}（{{ title }}）的报告，可以关闭巡检。",
        },
    },
    "inspection.report_comment": {
        "en": {
            "subject": "{{ customer }} commented on inspection report {{ number }}",
            "body": "{{ customer }} commented on the report of the inspection {{ number }} ({{ title }}). See the comment on its page.",
        },
        "zh-hans": {
            "subject": "{{ customer }} 对巡检报告 {{ number }} 提出了意见",
            "body": "{{ customer }} 对巡检 {{ number }}（{{ title }}）的报告提出了意见，详情请见巡检页面。",
        },
    },
    "inspection.change_decided": {
        "en": {
            "subject": "{{ customer }} decided on a change of inspection {{ number }}",
            "body": "{{ customer }} decided on a proposed change of the inspection {{ number }} ({{ title }}). See its page.",
        },
        "zh-hans": {
            "subject": "{{ customer }} 已答复巡检 {{ number }} 的变更建议",
            "body": "{{ customer }} 已答复巡检 {{ number }}（{{ title }}）中的变更建议，详情请见巡检页面。",
        },
    },
}

# For an event nobody wrote a text for (a producer's new event).
FALLBACK_TEMPLATE: dict[str, dict[str, str]] = {
    "en": {"subject": "{{ event }}", "body": "{% for name, value in values %}{{ name }}: {{ value }}\n{% endfor %}"},
    "zh-hans": {
        "subject": "{{ event }}",
        "body": "{% for name, value in values %}{{ name }}：{{ value }}\n{% endfor %}",
    },
}

_WORK_ORDER_SAMPLE = {
    "number": "WO0000123",
    "customer": "宁波精密机械有限公司",
    "site": "北仑工厂",
    "priority": "High",
    "service_type": "Repair",
    "description": "Hydraulic oil temperature alarm",
    "actor": "Li Wei",
    "note": "Customer asks for a morning visit",
}

# What the template editor's preview renders with.
SAMPLE_CONTEXT: dict[str, dict] = {
    "work_order.created": _WORK_ORDER_SAMPLE,
    "work_order.assigned": _WORK_ORDER_SAMPLE,
    "work_order.rejected": {**_WORK_ORDER_SAMPLE, "note": "On leave tomorrow"},
    "work_order.completed": _WORK_ORDER_SAMPLE,
    "iot.order_opened": {**_WORK_ORDER_SAMPLE, "description": "Machine alarm E101\nReadings: E101 critical"},
    "sla.warning": {
        "number": "WO0000123",
        "customer": "宁波精密机械有限公司",
        "target": "response",
        "due_at": "2025-06-01 14:00",
        "rule": "Gold 4h",
        "priority": "High",
    },
    "sla.breached": {
        "number": "WO0000123",
        "customer": "宁波精密机械有限公司",
        "target": "resolution",
        "due_at": "2025-06-01 18:00",
        "rule": "Gold 8h",
        "priority": "High",
    },
    "contract.expiring": {
        "contract": "SC-2024-017",
        "customer": "宁波精密机械有限公司",
        "ends_on": "2025-06-30",
        "days_left": 30,
    },
    "warranty.expiring": {
        "serial": "SN-0001",
        "model": "IM-200",
        "customer": "宁波精密机械有限公司",
        "ends_on": "2025-06-30",
        "days_left": 30,
    },
    "pool.expired": {
        "number": "WO0000123",
        "customer": "宁波精密机械有限公司",
        "priority": "High",
        "expired_at": "2025-06-01 14:30",
    },
    "pool.approval_needed": {
        "number": "WO0000123",
        "customer": "宁波精密机械有限公司",
        "priority": "High",
        "engineer": "Li Wei",
        "reason": "",
    },
    "pool.grab_declined": {
        "number": "WO0000123",
        "customer": "宁波精密机械有限公司",
        "priority": "High",
        "engineer": "Li Wei",
        "reason": "The customer asked for Zhang.",
    },
    "destination.opened": {"destination": "Webhook “ERP”", "error": "HTTP 500: Internal Server Error"},
    "destination.recovered": {"destination": "Webhook “ERP”", "error": ""},
    "maintenance_plan.expiring": {
        "plan": "HR-650 每500运行小时保养",
        "contract": "HT2026-001",
        "ends_on": "2027-01-31",
        "days_left": 30,
    },
    "inspection.send": {
        "number": "IN2026-00012",
        "title": "年度设备巡检",
        "customer": "宁波精密机械有限公司",
        "status": "Sent",
    },
    "inspection.send_report": {
        "number": "IN2026-00012",
        "title": "年度设备巡检",
        "customer": "宁波精密机械有限公司",
        "status": "Report sent",
    },
    "inspection.approve": {
        "number": "IN2026-00012",
        "title": "年度设备巡检",
        "customer": "宁波精密机械有限公司",
        "status": "Approved",
    },
    "inspection.decline": {
        "number": "IN2026-00012",
        "title": "年度设备巡检",
        "customer": "宁波精密机械有限公司",
        "status": "Declined",
    },
    "inspection.confirm": {
        "number": "IN2026-00012",
        "title": "年度设备巡检",
        "customer": "宁波精密机械有限公司",
        "status": "Confirmed",
    },
    "inspection.report_comment": {
        "number": "IN2026-00012",
        "title": "年度设备巡检",
        "customer": "宁波精密机械有限公司",
        "status": "Report sent",
    },
    "inspection.change_decided": {
        "number": "IN2026-00012",
        "title": "年度设备巡检",
        "customer": "宁波精密机械有限公司",
        "status": "In progress",
    },
    "maintenance.campaign_notice": {
        "number": "CP000012",
        "title": "Hydraulic hose replacement",
        "action": "Recall",
        "reason": "Hoses of lot 2024-B03 may crack under heat.",
        "customer": "宁波精密机械有限公司",
        "machines": 2,
        "serials": "IM200 IM200-240012, IM200 IM200-240015",
    },
    "stock.below_minimum": {
        "warehouse": "Ningbo service centre",
        "part_number": "P-10023",
        "part_name": "Hydraulic pump seal kit",
        "on_hand": "1",
        "minimum": "4",
    },
}
