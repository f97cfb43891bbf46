"""`fsm demo`: a believable data set for an injection-moulding-machine maker in Ningbo.

Everything goes through the services (actor: the demo administrator), so the demo holds
only states the product can reach and every object has its history. Deterministic for a
seed; install dates are relative to today so warranties look current. Loading is one
transaction and is detected by the own organisation's name: a second run only prints the
logins.
"""

import datetime as dt
import random
import time
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from fieldservice.accounts import services as accounts
from fieldservice.accounts.choices import Availability, OrganisationKind, Role
from fieldservice.accounts.models import Organisation, ServiceArea, Skill, User
from fieldservice.assets import services as assets
from fieldservice.billing import demo as billing_demo
from fieldservice.contracts import demo as contracts_demo
from fieldservice.contracts.models import Contract
from fieldservice.core import outbox
from fieldservice.core.models import OutboxMessage
from fieldservice.core.validation import normalise_phone
from fieldservice.customers import services as customers
from fieldservice.customers.choices import CustomerTier
from fieldservice.demo.history import HistoryBuilder
from fieldservice.dispatch import demo as dispatch_demo
from fieldservice.dispatch.models import DispatchRule
from fieldservice.field import demo as field_demo
from fieldservice.inventory import demo as stock_demo
from fieldservice.inventory import services as inventory
from fieldservice.inventory.choices import Unit, WarehouseKind
from fieldservice.inventory.demo import StockHistory
from fieldservice.inventory.models import StockMove, Warehouse
from fieldservice.iot import demo as iot_demo
from fieldservice.iot.models import Device, Reading
from fieldservice.maintenance import demo_campaigns, demo_inspections
from fieldservice.maintenance import demo_care as care_demo
from fieldservice.maintenance import demo_plans as maintenance_demo
from fieldservice.maintenance.models import CampaignTarget
from fieldservice.pool import demo as pool_demo
from fieldservice.pool.models import PoolOffer
from fieldservice.scheduling import demo as scheduling_demo
from fieldservice.scheduling.models import Visit
from fieldservice.sla import demo as sla_demo
from fieldservice.webhooks import demo as webhooks_demo

PASSWORD = "demo1234"  # demo only: printed on the console for anyone to use
OWN_NAME = "宁波海瑞精机有限公司 Ningbo Hairui Precision Machinery"
PROVIDER_NAME = "温州瑞安机电服务有限公司"
MAIL_DOMAIN = "hairui-demo.example"

# username, role, display name
STAFF_LOGINS = [
    ("admin", Role.ADMINISTRATOR, "陈建国"),
    ("agent", Role.AGENT, "周晓燕"),
    ("dispatcher", Role.DISPATCHER, "吴海波"),
    ("director", Role.DIRECTOR, "郑国平"),
    ("keeper", Role.PARTS_KEEPER, "孙丽娟"),
]
LOGIN_ORDER = ["admin", "agent", "dispatcher", "director", "keeper", "engineer", "provider", "customer"]

SKILLS = [
    ("hydraulics", "液压", "Hydraulics"),
    ("electrical", "电气", "Electrical"),
    ("servo", "伺服驱动", "Servo drives"),
    ("moulds", "模具", "Moulds"),
    ("controls", "PLC/控制", "PLC and controls"),
    ("mechanical", "机械", "Mechanical"),
]

# area name, province, city
AREAS = [
    ("宁波", "浙江省", "宁波市"),
    ("杭州", "浙江省", "杭州市"),
    ("绍兴", "浙江省", "绍兴市"),
    ("温州", "浙江省", "温州市"),
    ("台州", "浙江省", "台州市"),
    ("嘉兴", "浙江省", "嘉兴市"),
    ("湖州", "浙江省", "湖州市"),
    ("苏州", "江苏省", "苏州市"),
    ("无锡", "江苏省", "无锡市"),
    ("常州", "江苏省", "常州市"),
    ("上海", "上海市", "上海市"),
]

# team, areas, home bases (address, latitude, longitude, the areas an engineer based there covers).
# An engineer covers the city he lives in and a neighbour at most; the team's leader covers all of
# the team's areas (and so does every engineer of a team too small to split them).
TEAMS = [
    (
        "宁波一队",
        ["宁波", "绍兴", "台州", "温州"],
        [
            ("宁波市鄞州区", 29.8167, 121.5470, ["宁波"]),
            ("台州市黄岩区", 28.6496, 121.2620, ["台州", "温州"]),
            ("余姚市", 30.0372, 121.1546, ["宁波", "绍兴"]),
            ("宁波市北仑区", 29.9006, 121.8440, ["宁波"]),
            ("慈溪市", 30.1693, 121.2664, ["宁波"]),
            ("宁波市镇海区", 29.9489, 121.7165, ["宁波"]),
        ],
    ),
    (
        "杭州队",
        ["杭州", "嘉兴", "湖州", "绍兴"],
        [
            ("杭州市萧山区", 30.1839, 120.2645, ["杭州", "绍兴"]),
            ("嘉兴市南湖区", 30.7479, 120.7837, ["嘉兴", "湖州"]),
            ("杭州市余杭区", 30.4193, 120.3017, ["杭州", "湖州"]),
            ("绍兴市柯桥区", 30.0820, 120.4950, ["绍兴", "杭州"]),
            ("杭州市滨江区", 30.2084, 120.2119, ["杭州"]),
        ],
    ),
    (
        "苏沪队",
        ["苏州", "无锡", "常州", "上海"],
        [
            ("苏州工业园区", 31.3170, 120.6720, ["苏州"]),
            ("上海市嘉定区", 31.3747, 121.2655, ["上海", "苏州"]),
            ("无锡市新吴区", 31.5500, 120.3567, ["无锡", "常州"]),
            ("昆山市", 31.3856, 120.9807, ["苏州", "上海"]),
            ("上海市松江区", 31.0322, 121.2275, ["上海"]),
        ],
    ),
]
PROVIDER_BASES = [
    ("瑞安市安阳街道", 27.7781, 120.6553),
    ("乐清市城南街道", 28.1128, 120.9836),
    ("温州市龙湾区", 27.9329, 120.8112),
    ("温岭市太平街道", 28.3718, 121.3859),
    ("台州市路桥区", 28.5821, 121.3650),
]

# Customer locations: short name (for company names), province, city, district, latitude, longitude, weight.
LOCATIONS = [
    ("宁波", "浙江省", "宁波市", "北仑区", 29.9006, 121.8440, 8),
    ("宁波", "浙江省", "宁波市", "鄞州区", 29.8167, 121.5470, 5),
    ("宁波", "浙江省", "宁波市", "镇海区", 29.9489, 121.7165, 3),
    ("余姚", "浙江省", "宁波市", "余姚市", 30.0372, 121.1546, 8),
    ("慈溪", "浙江省", "宁波市", "慈溪市", 30.1693, 121.2664, 7),
    ("宁海", "浙江省", "宁波市", "宁海县", 29.2878, 121.4296, 3),
    ("象山", "浙江省", "宁波市", "象山县", 29.4766, 121.8692, 2),
    ("杭州", "浙江省", "杭州市", "萧山区", 30.1839, 120.2645, 4),
    ("杭州", "浙江省", "杭州市", "余杭区", 30.4193, 120.3017, 3),
    ("富阳", "浙江省", "杭州市", "富阳区", 30.0489, 119.9604, 2),
    ("绍兴", "浙江省", "绍兴市", "柯桥区", 30.0820, 120.4950, 3),
    ("上虞", "浙江省", "绍兴市", "上虞区", 30.0322, 120.8687, 2),
    ("诸暨", "浙江省", "绍兴市", "诸暨市", 29.7136, 120.2464, 2),
    ("黄岩", "浙江省", "台州市", "黄岩区", 28.6496, 121.2620, 5),
    ("路桥", "浙江省", "台州市", "路桥区", 28.5821, 121.3650, 3),
    ("温岭", "浙江省", "台州市", "温岭市", 28.3718, 121.3859, 3),
    ("玉环", "浙江省", "台州市", "玉环市", 28.1353, 121.2319, 2),
    ("瑞安", "浙江省", "温州市", "瑞安市", 27.7781, 120.6553, 3),
    ("乐清", "浙江省", "温州市", "乐清市", 28.1128, 120.9836, 3),
    ("温州", "浙江省", "温州市", "龙湾区", 27.9329, 120.8112, 2),
    ("嘉兴", "浙江省", "嘉兴市", "南湖区", 30.7479, 120.7837, 2),
    ("海宁", "浙江省", "嘉兴市", "海宁市", 30.5097, 120.6806, 2),
    ("湖州", "浙江省", "湖州市", "吴兴区", 30.8567, 120.1852, 1),
    ("长兴", "浙江省", "湖州市", "长兴县", 31.0267, 119.9108, 1),
    ("苏州", "江苏省", "苏州市", "吴中区", 31.2624, 120.6319, 3),
    ("苏州", "江苏省", "苏州市", "相城区", 31.3690, 120.6423, 2),
    ("昆山", "江苏省", "苏州市", "昆山市", 31.3856, 120.9807, 4),
    ("常熟", "江苏省", "苏州市", "常熟市", 31.6540, 120.7523, 2),
    ("张家港", "江苏省", "苏州市", "张家港市", 31.8755, 120.5558, 1),
    ("无锡", "江苏省", "无锡市", "新吴区", 31.5500, 120.3567, 3),
    ("江阴", "江苏省", "无锡市", "江阴市", 31.9200, 120.2850, 2),
    ("常州", "江苏省", "常州市", "武进区", 31.7010, 119.9420, 2),
    ("上海", "上海市", "上海市", "嘉定区", 31.3747, 121.2655, 3),
    ("上海", "上海市", "上海市", "松江区", 31.0322, 121.2275, 3),
    ("上海", "上海市", "上海市", "青浦区", 31.1497, 121.1241, 2),
    ("上海", "上海市", "上海市", "奉贤区", 30.9180, 121.4740, 1),
    ("上海", "上海市", "上海市", "金山区", 30.7416, 121.3419, 1),
]
PROVIDER_CITIES = {"温州市", "台州市"}

COMPANY_WORDS = [
    "恒达", "金鑫", "华峰", "东升", "永泰", "宏图", "瑞丰", "天成", "博远", "精诚", "鑫源", "立信", "佳美",
    "新亚", "通达", "旭日", "康宁", "宝成", "嘉盛", "润泽", "隆兴", "盛世", "泰和", "富强", "联合", "兴业",
    "宇航", "明辉", "锦程", "裕丰", "凯利", "中鼎", "华通", "万利", "双林", "海鸿", "协力", "信达", "永安",
]  # fmt: skip
COMPANY_SUFFIXES = ["塑料制品", "塑胶", "模塑", "精密塑胶", "电器", "汽车部件", "塑业", "日用品", "包装", "橡塑"]
INDUSTRIES = ["汽车零部件", "家用电器", "日用品", "包装", "电子电器", "医疗器械", "玩具", "建材管件", "文具"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余叶程魏苏吕丁沈姚卢钟金陆汪戴"
GIVEN_NAMES = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "秀兰", "霞",
    "平", "刚", "建华", "国强", "海燕", "志刚", "晓东", "春梅", "文斌", "丽娟", "海波", "雪梅", "永刚", "振华",
    "立新", "红梅", "建军", "晓峰", "玉兰", "德明", "伟东", "佳琪", "浩然", "子涵",
]  # fmt: skip
CONTACT_TITLES = ["设备主管", "生产经理", "厂长", "设备科长", "采购经理", "注塑车间主任", "总经理"]
ROADS = ["工业", "兴业", "创业", "科技", "开发", "滨海", "环城", "新城", "机电", "园区", "金山", "东海", "长江"]
MOBILE_PREFIXES = [*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, *range(180, 190)]
INVALIDATION_REASONS = [
    "设备已报废",
    "整机转售给第三方",
    "重复登记，已合并",
    "客户工厂搬迁后设备出售",
    "火灾损毁，保险理赔",
]

SCREW_SIZES = [30, 40, 50, 65, 80]


def _parts() -> list[tuple[str, str, str, str]]:
    """(part number, name, specification, unit) for the catalogue."""
    parts = []
    for d in SCREW_SIZES:
        parts += [
            (f"HR-SCR-{d}", f"螺杆 Φ{d}", "38CrMoAlA 氮化，长径比 22:1", Unit.PIECE),
            (f"HR-BRL-{d}", f"料筒 Φ{d}", "双金属内衬，含法兰", Unit.PIECE),
            (f"HR-CHK-{d}", f"止逆环组件 Φ{d}", "螺杆头、止逆环、推力环", Unit.SET),
            (f"HR-HTB-{d}", f"加热圈 Φ{d + 35}", "陶瓷加热圈 220V", Unit.PIECE),
        ]
    parts += [
        ("HR-NZL-S", "射嘴 标准型", "SR10，孔径 Φ4", Unit.PIECE),
        ("HR-TC-J", "热电偶 J型", "M6 螺纹，线长 2 m", Unit.PIECE),
        ("HR-TC-K", "热电偶 K型", "压簧式，油温检测", Unit.PIECE),
        ("HR-HP-25", "液压泵 25cc", "内啮合齿轮泵", Unit.PIECE),
        ("HR-HP-40", "液压泵 40cc", "内啮合齿轮泵", Unit.PIECE),
        ("HR-HP-63", "液压泵 63cc", "内啮合齿轮泵", Unit.PIECE),
        ("HR-SM-1", "伺服电机 1 kW", "机械手轴电机，带抱闸", Unit.PIECE),
        ("HR-SM-11", "伺服电机 11 kW", "永磁同步，2000 rpm", Unit.PIECE),
        ("HR-SM-18", "伺服电机 18.5 kW", "永磁同步，2000 rpm", Unit.PIECE),
        ("HR-SM-30", "伺服电机 30 kW", "永磁同步，1700 rpm", Unit.PIECE),
        ("HR-SM-45", "伺服电机 45 kW", "永磁同步，1700 rpm", Unit.PIECE),
        ("HR-SD-1", "伺服驱动器 1 kW", "EtherCAT", Unit.PIECE),
        ("HR-SD-11", "伺服驱动器 11 kW", "380V 三相", Unit.PIECE),
        ("HR-SD-18", "伺服驱动器 18.5 kW", "380V 三相", Unit.PIECE),
        ("HR-SD-30", "伺服驱动器 30 kW", "380V 三相", Unit.PIECE),
        ("HR-SD-45", "伺服驱动器 45 kW", "380V 三相", Unit.PIECE),
        ("HR-PLC-CPU", "PLC 控制器主模块", "32 位，CANopen", Unit.PIECE),
        ("HR-PLC-DI", "PLC 数字量输入模块", "16 点 24VDC", Unit.PIECE),
        ("HR-PLC-DO", "PLC 数字量输出模块", "16 点晶体管", Unit.PIECE),
        ("HR-PLC-TMP", "PLC 温控模块", "8 路热电偶输入", Unit.PIECE),
        ("HR-HMI-10", "人机界面触摸屏", "10.4 英寸", Unit.PIECE),
        ("HR-SEAL-INJ", "注射油缸密封套件", "聚氨酯 + 导向带", Unit.SET),
        ("HR-SEAL-CLP", "锁模油缸密封套件", "聚氨酯 + 导向带", Unit.SET),
        ("HR-SEAL-EJ", "顶出油缸密封套件", "丁腈橡胶", Unit.SET),
        ("HR-ORING", "密封圈 O型圈套件", "氟橡胶，常用规格 30 种", Unit.SET),
        ("HR-PV-16", "比例压力流量阀", "NG16", Unit.PIECE),
        ("HR-DV-6", "电磁换向阀", "NG6，24VDC", Unit.PIECE),
        ("HR-FLT-R", "回油滤芯", "10 μm", Unit.PIECE),
        ("HR-LT-300", "电子尺 300 mm", "直线位移传感器", Unit.PIECE),
        ("HR-LT-600", "电子尺 600 mm", "直线位移传感器", Unit.PIECE),
        ("HR-PS-250", "压力传感器", "0–25 MPa，4–20 mA", Unit.PIECE),
        ("HR-PRX-8", "接近开关", "M8，PNP 常开", Unit.PIECE),
        ("HR-LUB", "集中润滑泵", "电动，2 L", Unit.PIECE),
        ("HR-OC", "液压油冷却器", "板式换热器", Unit.PIECE),
        ("HR-BSC-40", "滚珠丝杠 Φ40", "全电动注射/锁模", Unit.PIECE),
        ("HR-TBELT", "同步带", "HTD 8M-30", Unit.PIECE),
        ("HR-SSR-40", "固态继电器 40 A", "加热控制", Unit.PIECE),
        ("HR-VAC", "真空发生器", "机械手取件", Unit.PIECE),
        ("HR-SUC", "真空吸盘", "Φ30 硅胶", Unit.PIECE),
        ("HR-CYL", "气缸 SC32", "行程 100 mm", Unit.PIECE),
        ("HR-DH-6", "干燥机电加热管", "6 kW", Unit.PIECE),
        ("HR-FAN", "干燥机鼓风机", "0.37 kW", Unit.PIECE),
        ("HR-TMC", "干燥机温控器", "PID，数显", Unit.PIECE),
        ("HR-MESH", "干燥机过滤网", "不锈钢 80 目", Unit.PIECE),
    ]
    return parts


# code, name, line, warranty months, screw size, pump, servo, servo count, heater zones, transducer
HYDRAULIC = "伺服液压系列"
MACHINES = [
    ("HR-90", "伺服节能注塑机 90T", HYDRAULIC, 18, 30, "HR-HP-25", "11", 1, 3, "HR-LT-300"),
    ("HR-160", "伺服节能注塑机 160T", HYDRAULIC, 18, 40, "HR-HP-40", "18", 1, 4, "HR-LT-300"),
    ("HR-250", "伺服节能注塑机 250T", HYDRAULIC, 18, 50, "HR-HP-40", "18", 1, 4, "HR-LT-300"),
    ("HR-400", "伺服节能注塑机 400T", HYDRAULIC, 24, 65, "HR-HP-63", "30", 1, 5, "HR-LT-600"),
    ("HR-650", "伺服节能注塑机 650T", HYDRAULIC, 24, 80, "HR-HP-63", "45", 1, 5, "HR-LT-600"),
    ("HR-1000", "伺服节能注塑机 1000T", HYDRAULIC, 24, 80, "HR-HP-63", "45", 2, 6, "HR-LT-600"),
    ("HRT-1250", "二板式注塑机 1250T", "二板式系列", 24, 80, "HR-HP-63", "45", 2, 6, "HR-LT-600"),
    ("HRE-120", "全电动注塑机 120T", "全电动系列", 12, 30, None, "11", 3, 3, None),
]
MACHINE_WEIGHTS = {
    "HR-90": 14,
    "HR-160": 24,
    "HR-250": 20,
    "HR-400": 12,
    "HR-650": 7,
    "HR-1000": 4,
    "HRT-1250": 3,
    "HRE-120": 10,
}
AUXILIARIES = [
    (
        "HRA-5",
        "HRA-5 三轴伺服机械手",
        "辅机",
        12,
        [("HR-SM-1", 3), ("HR-SD-1", 3), ("HR-TBELT", 3), ("HR-VAC", 1), ("HR-SUC", 4), ("HR-CYL", 2),
         ("HR-PRX-8", 6), ("HR-PLC-DI", 1)],
    ),
    (
        "HRD-50",
        "HRD-50 除湿干燥机",
        "辅机",
        12,
        [("HR-DH-6", 2), ("HR-FAN", 1), ("HR-TMC", 1), ("HR-TC-K", 2), ("HR-MESH", 1), ("HR-SSR-40", 2),
         ("HR-ORING", 1), ("HR-PRX-8", 1)],
    ),
]  # fmt: skip


def _machine_bom(spec) -> list[tuple[str, int]]:
    _code, _name, _line, _months, size, pump, servo, servos, zones, transducer = spec
    lines = [
        (f"HR-SCR-{size}", 1),
        (f"HR-BRL-{size}", 1),
        (f"HR-CHK-{size}", 1),
        ("HR-NZL-S", 1),
        (f"HR-HTB-{size}", zones),
        ("HR-TC-J", zones),
        (f"HR-SM-{servo}", servos),
        (f"HR-SD-{servo}", servos),
        ("HR-PLC-CPU", 1),
        ("HR-PLC-TMP", 1),
        ("HR-HMI-10", 1),
    ]
    if pump:
        lines += [(pump, servos), ("HR-SEAL-INJ", 1), (transducer, 2)]
        if size >= 50:  # the smallest machines run on the pump's own pressure control
            lines += [("HR-PV-16", 1)]
    else:
        lines += [("HR-BSC-40", 2), ("HR-TBELT", 3), ("HR-LUB", 1)]
    return lines


class Command(BaseCommand):
    help = "Load demo data (an injection-moulding-machine maker in Ningbo). Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=float, default=1.0, help="Size factor: 1.0 = 200 customers, 1,000 machines."
        )
        parser.add_argument("--seed", type=int, default=2025, help="Random seed (default 2025).")
        parser.add_argument(
            "--orders", type=int, default=None, help="Historical work orders (default 2,000 × scale, at least 20)."
        )
        parser.add_argument(
            "--history-days", type=int, default=365, help="Days of service history before today (default 365)."
        )

    def handle(self, *args, scale: float, seed: int, orders: int | None = None, history_days: int = 365, **options):
        if not 0 < scale <= 10:
            raise CommandError("--scale must be more than 0 and at most 10.")
        if not 1 <= history_days <= 3650:
            raise CommandError("--history-days must be from 1 to 3650.")
        if Organisation.objects.filter(kind=OrganisationKind.OWN, name=OWN_NAME).exists():
            self.stdout.write("The demo data is already loaded; nothing was changed.")
            self._print_logins()
            return
        if Organisation.objects.exists() or User.objects.filter(username__in=LOGIN_ORDER).exists():
            raise CommandError(
                "This database already holds organisations or users that are not the demo. "
                "Load the demo into an empty database (e.g. FSM_VAR_DIR=$(mktemp -d))."
            )
        started = time.monotonic()
        self.step(f"Loading the demo data for {settings.FSM_PUBLIC_BASE_URL} …")
        with transaction.atomic():
            builder = DemoBuilder(random.Random(seed), scale, orders, history_days)
            builder.step = self.step
            builder.progress = lambda done, total: self.step(f"  service history: {done} of {total} orders")
            summary = builder.build()
        seconds = time.monotonic() - started
        self.stdout.write(f"Demo data loaded in {seconds:.1f} s: " + ", ".join(f"{n} {what}" for what, n in summary))
        self._print_walkthrough()
        self._print_logins()

    def step(self, line: str) -> None:
        """One line per step, flushed: a log file or a pipe shows the progress as it happens."""
        self.stdout.write(line)
        self.stdout.flush()

    def _print_walkthrough(self):
        """Where the money walk-through of the demo starts (see docs or the issue's "Done when")."""
        found = billing_demo.walkthrough()
        if found:
            self.stdout.write("\nMoney walk-through: " + "; ".join(found) + ".")
        found = demo_inspections.walkthrough()
        if found:
            self.stdout.write("\nInspections: " + "; ".join(found) + ".")
        found = iot_demo.walkthrough()
        if found:
            self.stdout.write("\nConnected machines: " + "; ".join(found) + ".")

    def _print_logins(self):
        users = {user.username: user for user in User.objects.filter(username__in=LOGIN_ORDER)}
        rows = []
        for username in LOGIN_ORDER:
            user = users.get(username)
            if user is None:
                continue
            roles = ", ".join(str(Role(code).label) for code in sorted(user.role_codes))
            rows.append((username, PASSWORD, roles, str(user.organisation or "")))
        width = max(len(row[2]) for row in rows) if rows else 10
        lines = [
            "",
            f"Open {settings.FSM_PUBLIC_BASE_URL} and sign in (demo passwords; never use them for real data):",
            "",
            f"  {'username':<12}{'password':<12}{'role':<{width + 2}}organisation",
        ]
        lines += [f"  {u:<12}{p:<12}{r:<{width + 2}}{o}" for u, p, r, o in rows]
        lines += [
            "",
            f"Every other demo user (engineers eng02…, provider engineers pe01…) also signs in with {PASSWORD}.",
        ]
        if settings.EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend":
            lines.append(f"E-mails are not sent: each is written as a file into {settings.EMAIL_FILE_PATH}")
        lines.append("")
        self.stdout.write("\n".join(lines))


class DemoBuilder:
    def __init__(self, rng: random.Random, scale: float, orders: int | None = None, history_days: int = 365):
        self.rng = rng
        self.scale = scale
        self.orders = orders
        self.history_days = history_days
        self.today = timezone.localdate()
        self.used_names: set[str] = set()
        self.serials: dict[str, int] = {}
        self.step = lambda line: None
        self.progress = None

    def count(self, full: int, minimum: int) -> int:
        return max(minimum, round(full * self.scale))

    # --- helpers ---

    def person_name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN_NAMES)

    def mobile(self) -> str:
        return f"{self.rng.choice(MOBILE_PREFIXES)}{self.rng.randrange(10**8):08d}"

    def near(self, latitude: float, longitude: float, spread: float = 0.04) -> tuple[Decimal, Decimal]:
        lat = latitude + self.rng.uniform(-spread, spread)
        lng = longitude + self.rng.uniform(-spread, spread)
        return Decimal(f"{lat:.6f}"), Decimal(f"{lng:.6f}")

    def working_hours(self, saturday: bool) -> dict:
        day = [["08:30", "12:00"], ["13:00", "17:30"]]
        hours = {name: day for name in ("mon", "tue", "wed", "thu", "fri")}
        if saturday:
            hours["sat"] = [["08:30", "12:00"]]
        return hours

    def staff(self, username: str, organisation, roles, display_name: str, actor):
        return accounts.create_user(
            actor=actor,
            username=username,
            organisation=organisation,
            roles=roles,
            password=PASSWORD,
            display_name=display_name,
            email=f"{username}@{MAIL_DOMAIN}",
            phone=self.mobile(),
        )

    # --- the build ---

    def build(self) -> list[tuple[str, int]]:
        self.step("  organisation, staff, engineers and service areas")
        self.organisation_and_people()
        self.step("  parts catalogue and product models")
        self.catalogue()
        self.step("  customers, contacts and sites")
        self.customer_base()
        self.step("  installed machines")
        self.installed_base()
        self.step("  warehouses, engineer stock and the opening stock")
        stock_demo.seed(
            rng=self.rng,
            start=timezone.now() - dt.timedelta(days=self.history_days + 1),
            admin=self.admin,
            keeper=User.objects.get(username="keeper"),
            provider=self.provider,
            provider_admin=User.objects.get(username="provider"),
        )
        self.step("  contracts and webhooks")
        contracts_demo.seed(rng=self.rng, now=timezone.now())
        webhooks_demo.seed(rng=self.rng, now=timezone.now())
        self.step("  engineer levels, prices and settlement rules")
        # The money side draws from its own generator: its choices do not reshape the history.
        self.money_rng = random.Random(self.rng.getrandbits(32))
        billing_demo.seed_prices(rng=self.money_rng, admin=self.admin)
        self.step("  job templates (standard job steps)")
        field_demo.seed_job_templates(admin=self.admin, models=self.models)
        with outbox.drain_left_to_recovery():
            self.step("  service history of the last year")
            history = self.history()
            self.step("  invoices and the monthly settlement statements")
            self.billing.finish()
            self.step("  maintenance plans and their year of visits")
            self.maintenance = maintenance_demo.seed(
                rng=random.Random(self.rng.getrandbits(32)),
                admin=self.admin,
                agent=User.objects.get(username="agent"),
                dispatcher=User.objects.get(username="dispatcher"),
                days=self.history_days,
            )
            self.step("  customer care: a festival greeting closed, a round of calls running")
            care_demo.seed(
                rng=random.Random(self.rng.getrandbits(32)),
                agent=User.objects.get(username="agent"),
                director=User.objects.get(username="director"),
            )
            self.step("  SLA check, dispatch rules, planned visits and the grab pool")
            # The history is the past: nobody is notified of a year-old dispatch now.
            OutboxMessage.objects.filter(processed_at__isnull=True).update(processed_at=timezone.now())
            # What is overdue today does alert: the SLA check runs once over the open orders,
            # and the worker's recovery, seconds after it starts, delivers its alerts.
            sla_demo.seed(rng=self.rng, now=timezone.now())
            # Rules act on orders created from now on; the history was dispatched by hand.
            dispatch_demo.seed(rng=self.rng, now=timezone.now())
            scheduling_demo.seed(rng=self.rng, now=timezone.now())
            pool_demo.seed(rng=self.rng, now=timezone.now())
            self.billing.open_repair()
            self.step("  a recall campaign, half done")
            demo_campaigns.seed_recall(
                rng=random.Random(self.rng.getrandbits(32)),
                admin=self.admin,
                director=User.objects.get(username="director"),
                dispatcher=User.objects.get(username="dispatcher"),
                agent=User.objects.get(username="agent"),
            )
            self.step("  inspections: one in progress, one closed with its report")
            demo_inspections.seed(
                rng=random.Random(self.rng.getrandbits(32)),
                dispatcher=User.objects.get(username="dispatcher"),
                engineer=User.objects.get(username="engineer"),
            )
            self.step("  connected machines: devices, a month of readings, one machine in alarm")
            iot_demo.seed(rng=random.Random(self.rng.getrandbits(32)), admin=self.admin, scale=self.scale)
        return [
            ("engineers", len(self.engineers) + len(self.provider_engineers)),
            ("parts", len(self.parts)),
            ("warehouses", Warehouse.objects.exclude(kind=WarehouseKind.TRANSIT).count()),
            ("stock moves", StockMove.objects.count()),
            ("product models", len(self.models)),
            ("customers", len(self.customers)),
            ("sites", sum(len(sites) for sites in self.sites.values())),
            ("machines", self.equipment_count),
            ("contracts", Contract.objects.count()),
            ("work orders", sum(n for state, n in history.items() if state != "consultations")),
            ("consultations", history["consultations"]),
            ("dispatch rules", DispatchRule.objects.count()),
            ("planned visits", Visit.objects.count()),
            ("pool offers", PoolOffer.objects.count()),
            *field_demo.counts(),
            *billing_demo.counts(),
            *care_demo.counts(),
            ("campaign machines", CampaignTarget.objects.count()),
            *demo_inspections.counts(),
            ("devices", Device.objects.count()),
            ("machine readings", Reading.objects.count()),
            *self.maintenance.items(),
        ]

    def history(self) -> dict:
        self.billing = billing_demo.BillingHistory(
            self.money_rng,
            agent=User.objects.get(username="agent"),
            director=User.objects.get(username="director"),
            provider_admin=User.objects.get(username="provider"),
        )
        builder = HistoryBuilder(
            self.rng,
            admin=self.admin,
            agent=User.objects.get(username="agent"),
            dispatcher=User.objects.get(username="dispatcher"),
            stock=StockHistory(
                self.rng,
                keeper=User.objects.get(username="keeper"),
                provider_admin=User.objects.get(username="provider"),
            ),
            billing=self.billing,
            count=self.orders if self.orders is not None else self.count(2000, 20),
            days=self.history_days,
            progress=self.progress,
        )
        self.billing.now = builder.now  # the history's end is the money's too
        return builder.build()

    def organisation_and_people(self):
        # No service creates the first organisation: creating one needs an administrator, who
        # needs an organisation. This is the bootstrap, like `createsuperuser`.
        own = Organisation.objects.create(
            name=OWN_NAME,
            kind=OrganisationKind.OWN,
            phone=normalise_phone("0574-86881234"),
            address="浙江省宁波市北仑区大碶街道海瑞路 88 号",
        )
        admin_name = STAFF_LOGINS[0][2]
        self.admin = admin = self.staff("admin", own, [Role.ADMINISTRATOR], admin_name, actor=None)
        for username, role, name in STAFF_LOGINS[1:]:
            self.staff(username, own, [role], name, actor=admin)

        # Reference data without services (no one edits it in the product yet).
        self.skills = [Skill.objects.create(code=code, name=name, name_en=name_en) for code, name, name_en in SKILLS]
        self.areas = {
            name: ServiceArea.objects.create(name=name, province=province, city=city) for name, province, city in AREAS
        }

        self.engineers = []
        engineer_count = self.count(20, len(TEAMS))
        members: list[list[User]] = [[] for _ in TEAMS]
        for index in range(engineer_count):
            username = "engineer" if index == 0 else f"eng{index + 1:02d}"
            user = self.staff(username, own, [Role.ENGINEER], self.person_name(), actor=admin)
            members[index % len(TEAMS)].append(user)
            self.engineers.append(user)
        for (team_name, area_names, bases), people in zip(TEAMS, members, strict=True):
            team = accounts.create_team(actor=admin, name=team_name, organisation=own, leader=people[0])
            team.areas.set([self.areas[name] for name in area_names])  # no service sets team areas yet
            for position, user in enumerate(people):
                address, lat, lng, covered = bases[position % len(bases)]
                if position == 0 or len(people) < 3:
                    covered = area_names
                self.profile(user, team, address, lat, lng, [self.areas[name] for name in covered])

        provider = accounts.create_organisation(
            actor=admin,
            name=PROVIDER_NAME,
            kind=OrganisationKind.PROVIDER,
            phone="0577-65881234",
            address="浙江省温州市瑞安市安阳街道万松路 66 号",
        )
        self.provider = provider
        self.staff("provider", provider, [Role.PROVIDER_ADMIN], "林志强", actor=admin)
        self.provider_engineers = [
            self.staff(f"pe{index + 1:02d}", provider, [Role.ENGINEER], self.person_name(), actor=admin)
            for index in range(self.count(5, 1))
        ]
        team = accounts.create_team(
            actor=admin, name="瑞安服务队", organisation=provider, leader=self.provider_engineers[0]
        )
        provider_areas = [self.areas["温州"], self.areas["台州"]]
        team.areas.set(provider_areas)
        for position, user in enumerate(self.provider_engineers):
            address, lat, lng = PROVIDER_BASES[position % len(PROVIDER_BASES)]
            self.profile(user, team, address, lat, lng, provider_areas)

        # A few engineers are off or on leave, never the demo login.
        for index, user in enumerate(self.engineers):
            if index % 7 == 6 or index % 9 == 8:
                availability = Availability.OFF if index % 7 == 6 else Availability.ON_LEAVE
                accounts.set_availability(user.engineer_profile, actor=admin, availability=availability)
        if len(self.provider_engineers) > 3:
            profile = self.provider_engineers[3].engineer_profile
            accounts.set_availability(profile, actor=admin, availability=Availability.ON_LEAVE)

    def profile(self, user, team, address, lat, lng, areas):
        latitude, longitude = self.near(lat, lng, 0.03)
        skills = {skill: self.rng.randint(1, 5) for skill in self.rng.sample(self.skills, self.rng.randint(2, 4))}
        accounts.save_engineer_profile(
            user,
            actor=self.admin,
            team=team,
            home_address=address,
            home_latitude=latitude,
            home_longitude=longitude,
            working_hours=self.working_hours(saturday=self.rng.random() < 0.3),
            areas=areas,
            skills=skills,
        )

    def catalogue(self):
        keeper = User.objects.get(username="keeper")
        self.parts = {
            number: inventory.create_part(actor=keeper, part_number=number, name=name, specification=spec, unit=unit)
            for number, name, spec, unit in _parts()
        }
        self.models = {}
        for spec in MACHINES:
            code, name, line, months = spec[:4]
            self.models[code] = self.product_model(code, name, line, months, _machine_bom(spec))
        for code, name, line, months, bom in AUXILIARIES:
            self.models[code] = self.product_model(code, name, line, months, bom)

    def product_model(self, code, name, line, months, bom):
        model = assets.create_product_model(
            actor=self.admin,
            code=code,
            name=name,
            product_line=line,
            default_warranty_months=months,
            description=f"{name}，海瑞精机制造。",
        )
        assets.set_bom(model, actor=self.admin, lines=[(self.parts[number], qty) for number, qty in bom])
        return model

    def company_name(self, short: str) -> str:
        for _attempt in range(50):
            name = f"{short}{self.rng.choice(COMPANY_WORDS)}{self.rng.choice(COMPANY_SUFFIXES)}有限公司"
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        # Many customers in one small town: number them rather than loop forever.
        name = f"{short}{self.rng.choice(COMPANY_WORDS)}{len(self.used_names)}号塑料制品有限公司"
        self.used_names.add(name)
        return name

    def customer_base(self):
        agent = User.objects.get(username="agent")
        n = self.count(200, 3)
        strategic, key = max(1, round(n * 0.10)), round(n * 0.25)
        tiers = [CustomerTier.STRATEGIC] * strategic + [CustomerTier.KEY] * key
        tiers += [CustomerTier.STANDARD] * (n - len(tiers))
        self.rng.shuffle(tiers)
        near_provider = [loc for loc in LOCATIONS if loc[2] in PROVIDER_CITIES]
        weights = [loc[6] for loc in LOCATIONS]
        self.customers, self.sites = [], {}
        for index in range(n):
            # Every ~7th customer (15%) is in Wenzhou/Taizhou and served by the partner in Ruian.
            served = index % 20 in (1, 8, 14)
            location = self.rng.choice(near_provider) if served else self.rng.choices(LOCATIONS, weights)[0]
            customer = customers.create_customer(
                actor=self.admin,
                name=self.company_name(location[0]),
                tier=tiers[index],
                industry=self.rng.choice(INDUSTRIES),
                service_provider=self.provider if served else None,
                account_owner=agent,
            )
            contacts = []
            for _number in range(self.rng.choice((1, 1, 2))):
                phone = self.mobile()
                if any(c.phone == normalise_phone(phone) for c in contacts):
                    continue
                contacts.append(
                    customers.add_contact(
                        customer,
                        actor=self.admin,
                        name=self.person_name(),
                        phone=phone,
                        title=self.rng.choice(CONTACT_TITLES),
                    )
                )
            sites = []
            site_names = ["一厂", "二厂"] if self.rng.random() < 0.3 else ["总厂"]
            for site_name in site_names:
                place = location
                if sites:
                    # A second plant: where the company's name says it is ("慈溪…" in Cixi,
                    # "宁波…" in one of Ningbo's districts), not anywhere in the province.
                    place = self.rng.choice([loc for loc in LOCATIONS if loc[0] == location[0]])
                _short, province, city, district, lat, lng, _weight = place
                latitude, longitude = self.near(lat, lng)
                road = f"{self.rng.choice(ROADS)}{self.rng.choice(['路', '大道', '北路', '南路'])}"
                # Province, city and district have their own fields: the address is the street.
                address = f"{road}{self.rng.randint(1, 999)}号"
                sites.append(
                    customers.create_site(
                        customer,
                        actor=self.admin,
                        name=site_name,
                        address=address,
                        province=province,
                        city=city,
                        district=district,
                        latitude=latitude,
                        longitude=longitude,
                        contact=contacts[0],
                    )
                )
            self.customers.append(customer)
            self.sites[customer.pk] = sites

        portal = next(c for c in self.customers if c.tier == CustomerTier.STRATEGIC)
        contact = portal.contacts.order_by("-is_primary", "pk").first()
        accounts.create_user(
            actor=self.admin,
            username="customer",
            organisation=portal.organisation,
            roles=[Role.CUSTOMER],
            password=PASSWORD,
            display_name=contact.name,
            phone=contact.phone,
        )

    def installed_base(self):
        total = self.count(1000, 6)
        module_count = max(1, round(total * 0.05))
        machine_count = total - module_count
        weights = {CustomerTier.STRATEGIC: 15, CustomerTier.KEY: 6, CustomerTier.STANDARD: 2}
        customer_weights = [weights[c.tier] for c in self.customers]
        codes = list(MACHINE_WEIGHTS)
        # Draw everything first, then number serials in build order so they rise over time.
        plan = []
        for _index in range(machine_count):
            customer = self.rng.choices(self.customers, customer_weights)[0]
            code = self.rng.choices(codes, [MACHINE_WEIGHTS[c] for c in codes])[0]
            installed = self.today - dt.timedelta(days=self.rng.randint(20, 6 * 365))
            built = installed - dt.timedelta(days=self.rng.randint(15, 60))
            plan.append((built, installed, code, customer))
        plan.sort(key=lambda item: (item[0], item[2]))
        machines = [
            self.register(code, built, installed, customer, self.rng.choice(self.sites[customer.pk]))
            for built, installed, code, customer in plan
        ]
        # A robot arm or a dryer registered as a module of its machine.
        parents = self.rng.sample(machines, min(module_count, len(machines)))
        for parent in parents:
            code = self.rng.choice([aux[0] for aux in AUXILIARIES])
            self.register(code, parent.installed_on, parent.installed_on, parent.customer, parent.site, parent)
        candidates = [machine for machine in machines if machine not in parents]
        for machine in self.rng.sample(candidates, min(len(candidates), max(1, round(total * 0.02)))):
            assets.invalidate_equipment(machine, actor=self.admin, reason=self.rng.choice(INVALIDATION_REASONS))
        self.equipment_count = total

    def register(self, code, built, installed, customer, site, parent=None):
        model = self.models[code]
        self.serials[code] = self.serials.get(code, 0) + 1
        quarter = (built.month - 1) // 3
        batch = quarter * len(self.models) + list(self.models).index(code) + 1
        return assets.register_equipment(
            actor=self.admin,
            product_model=model,
            serial_number=f"{code.replace('-', '')}-{built:%y}{self.serials[code]:04d}",
            lot_number=f"{built.year}-B{batch:02d}",
            customer=customer,
            site=site,
            installed_on=installed,
            parent=parent,
        )
