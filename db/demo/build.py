"""Deterministic demo data: a working Dongguan with staff, grids, devices and months of cases.

:func:`build_demo` fills a database so the control room looks like an ordinary day in Dongguan:
36 towns with their 609 villages placed on the map, a responsibility grid per village plus one per
town centre, ~4,000 city-management staff, the fixed demo sign-in accounts (:data:`DEMO_ACCOUNTS`),
~300 cameras, ~200 sensors with a day of quiet readings, black spots, weekly inspections and
(by default) 100,000 cases whose history walks the closed loop of :mod:`db.cases.workflow`.

Determinism: the same ``seed`` and ``now`` give the same rows. Every random draw comes from a
``random.Random`` seeded from ``seed`` (one per phase, so changing one phase leaves the others
alone), every query is ordered, and no set is ever iterated. The only exception is the argon2 hash
of the demo password, whose salt is random by design.

Speed: cases and their history are built as plain dicts and inserted with executemany in chunks,
with ids assigned here; no ORM object is created per case.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from sqlalchemy import Table, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from db.core import feed
from db.worktime.calendar_data import load_calendar
from db.worktime.clock import SHANGHAI, WorkCalendar
from db.core.engine import Database
from db.core.errors import CityOpsError
from db.geo.polygons import Ring, rings_of
from db.models import (
    Alert,
    AppSetting,
    AuditLog,
    BlackSpot,
    Camera,
    Case,
    CaseClass,
    CaseHistory,
    ChangeLog,
    City,
    Department,
    Grid,
    GridMember,
    Inspection,
    InspectionFinding,
    Sensor,
    SensorReading,
    Staff,
    StaffPosition,
    StaffTrack,
    Town,
    UserAccount,
    Village,
    utcnow,
)
from db.reference.city import DONGGUAN, ensure_reference_data
from db.auth.roles import Role
from db.auth.security import hash_password
from db.reference.catalogue import DEPARTMENTS
from db.alerts.lifecycle import LEVEL_LABELS, LEVEL_SEVERITY, raise_alerts
from db.geo.map_data import sensor_level
from db.cases.workflow import REPORT_STEP, TRANSITIONS, Source, State, Urgency, audit, case_number

DEMO_SETTING = "demo"  # app_setting key marking a database as demo data (safe to rebuild)
DEMO_PASSWORD = "demo"
CHUNK = 5_000  # rows per executemany

UTC = dt.timezone.utc
# Asia/Shanghai has had no daylight saving since 1991: a fixed +8 h is exact for these dates and
# far cheaper than a zoneinfo conversion per timestamp.
CST = dt.timedelta(hours=8)
TAU = 2 * math.pi
KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON = 102.5  # at 23°N; Dongguan spans 22.6-23.2°N, under 0.5 % error

# -- the city -------------------------------------------------------------------------------

#: Dongguan's waterlogging-prone river and delta towns.
LOW_LYING_TOWNS = ("麻涌镇", "中堂镇", "望牛墩镇", "洪梅镇", "道滘镇", "沙田镇", "高埗镇", "石碣镇",
                   "万江街道", "东莞港", "东莞滨海湾新区")
#: Relative size (population, commerce) of each town; others count 1.0.
TOWN_WEIGHTS = {
    "长安镇": 3.0, "虎门镇": 2.9, "东城街道": 2.6, "南城街道": 2.4, "塘厦镇": 2.3, "常平镇": 2.3,
    "厚街镇": 2.2, "凤岗镇": 2.0, "大朗镇": 2.0, "寮步镇": 1.9, "清溪镇": 1.7, "大岭山镇": 1.6,
    "万江街道": 1.5, "莞城街道": 1.4, "黄江镇": 1.3, "樟木头镇": 1.2, "石碣镇": 1.2, "石龙镇": 1.1,
    "松山湖": 0.8, "东莞滨海湾新区": 0.5, "东莞生态园": 0.3, "东莞港": 0.3,
}
VILLAGE_RADIUS_KM = (0.5, 6.0)  # villages scatter this far from the town seat
GRID_GAP_KM = 2.0  # wanted gap between grid centres: hexagons of radius <= 1 km cannot overlap
GRID_RADIUS_KM = (0.6, 1.0)
TOWN_DEPARTMENTS = (("enforcement", "{town}城市管理和综合执法分局"), ("sanitation", "{town}环卫站"),
                    ("municipal", "{town}市政所"))
TOWN_KINDS = tuple(kind for kind, _ in TOWN_DEPARTMENTS)
#: Dongguan's city-management workforce (DOMAIN.md, "Scale").
STAFF_TITLES = (("公务员", 324), ("事业编", 843), ("协管员", 2868))
CAMERAS, WATER_SENSORS, GAS_SENSORS = 300, 140, 60
BLACK_SPOTS, BLACK_SPOTS_REMOVED = 94, 86
LINKED_ACCOUNTS = 20  # inspector1..20 / field1..20, one per town in town order

# -- case flow ------------------------------------------------------------------------------

SOURCE_SHARES = {
    Source.HOTLINE_12345: 0.34, Source.INSPECTOR: 0.30, Source.VIDEO: 0.12, Source.WALK_IN: 0.08,
    Source.LEADER: 0.06, Source.TRANSFER_110: 0.04, Source.SENSOR: 0.03, Source.ENTERPRISE: 0.02,
    Source.TRANSFER_119: 0.01,
}
# Reports per local hour 0..23. Hotline peaks 9-11 and 19-21; inspectors walk 8:30-17:30; video
# runs round the clock but sees less at night.
_HOTLINE_HOURS = (0.2, 0.1, 0.08, 0.06, 0.06, 0.1, 0.3, 0.8, 1.5, 2.6, 2.8, 2.4,
                  1.4, 1.2, 1.8, 2.0, 1.9, 1.7, 1.6, 2.3, 2.6, 2.2, 1.2, 0.5)
_OFFICE_HOURS = (0, 0, 0, 0, 0, 0, 0, 0, 0.5, 2.0, 2.4, 2.2,
                 0.6, 0.4, 1.6, 2.2, 2.2, 0.9, 0, 0, 0, 0, 0, 0)
_VIDEO_HOURS = (0.5, 0.4, 0.3, 0.3, 0.3, 0.4, 0.7, 1.0, 1.3, 1.4, 1.4, 1.4,
                1.3, 1.2, 1.2, 1.3, 1.4, 1.5, 1.5, 1.5, 1.4, 1.2, 0.9, 0.7)
_POLICE_HOURS = (0.8, 0.6, 0.4, 0.3, 0.3, 0.3, 0.5, 0.8, 1.0, 1.1, 1.1, 1.1,
                 1.0, 1.0, 1.0, 1.1, 1.2, 1.3, 1.4, 1.6, 1.7, 1.6, 1.4, 1.1)
_LEADER_HOURS = (0, 0, 0, 0, 0, 0, 0.2, 1.0, 2.0, 2.0, 2.0, 1.5,
                 0.5, 0.5, 1.5, 2.0, 2.0, 1.5, 0.8, 0.8, 0.6, 0.3, 0, 0)
_SENSOR_HOURS = tuple(0.8 if h < 7 else 1.0 for h in range(24))
SOURCE_HOURS = {
    Source.HOTLINE_12345: _HOTLINE_HOURS, Source.INSPECTOR: _OFFICE_HOURS,
    Source.VIDEO: _VIDEO_HOURS, Source.WALK_IN: _OFFICE_HOURS, Source.LEADER: _LEADER_HOURS,
    Source.TRANSFER_110: _POLICE_HOURS, Source.SENSOR: _SENSOR_HOURS,
    Source.ENTERPRISE: _OFFICE_HOURS, Source.TRANSFER_119: _POLICE_HOURS,
}
#: Office-hours channels start at 8:30 and stop at 17:30.
HALF_HOURS = frozenset({Source.INSPECTOR, Source.WALK_IN, Source.ENTERPRISE})
#: Share of a channel's weekday volume that still arrives on a day off.
OFFDAY_SHARE = {Source.INSPECTOR: 0.35, Source.WALK_IN: 0.2, Source.ENTERPRISE: 0.3,
                Source.LEADER: 0.5, Source.HOTLINE_12345: 0.9}
#: Channels that only report some classes, with their own relative weights.
SOURCE_CLASSES = {
    Source.SENSOR: {"道路积水/内涝": 7, "燃气泄漏": 1, "井盖缺失": 2},
    Source.TRANSFER_119: {"燃气泄漏": 3, "树木倒伏": 2, "户外设施倒塌坠落": 1.5, "电力线缆断落": 1.5,
                          "露天焚烧": 2, "路面塌陷": 1, "自来水管破裂": 1},
    Source.TRANSFER_110: {"机动车乱停放": 3, "施工扰民": 2, "社会生活噪声扰民": 3, "流浪乞讨": 1,
                          "无照经营游商": 1.5, "露天烧烤": 1.5, "井盖缺失": 1, "树木倒伏": 1,
                          "占道堆物": 1, "私设地锁地桩": 1},
    Source.VIDEO: {name: 1.0 for name in (
        "暴露垃圾", "机动车乱停放", "非机动车乱停放", "无照经营游商", "店外经营", "占道堆物", "沿街晾挂",
        "露天烧烤", "道路不洁", "占道洗车修车", "施工占道", "道路积水/内涝", "违规悬挂横幅",
        "占道废品收购", "道路遗撒")},  # 1.0 = keep the class's own weight
}
URGENT_SHARE = {Source.LEADER: 0.25, Source.TRANSFER_110: 0.3, Source.ENTERPRISE: 0.15}
URGENT_DEFAULT = 0.035
FIX_ON_SPOT_SHARE = {Source.INSPECTOR: 0.22, Source.VIDEO: 0.05, Source.HOTLINE_12345: 0.035,
                     Source.WALK_IN: 0.04, Source.TRANSFER_110: 0.03}
VOID_SHARE = {Source.HOTLINE_12345: 0.05, Source.WALK_IN: 0.05, Source.VIDEO: 0.04,
              Source.TRANSFER_110: 0.03, Source.ENTERPRISE: 0.02, Source.INSPECTOR: 0.008}
VOID_DEFAULT = 0.01
RETURN_SHARE, REWORK_SHARE, EXTENSION_SHARE, PARK_SHARE = 0.022, 0.016, 0.022, 0.005
LATE_SHARE = 0.07  # handled after the deadline
TOWN_LEVEL_SHARE = 0.85  # enforcement/sanitation/municipal work goes to the town's own branch

# -- words ----------------------------------------------------------------------------------

SURNAMES = (("陈", 9), ("李", 7), ("黄", 6), ("张", 5), ("梁", 4), ("林", 4), ("刘", 4), ("王", 3),
            ("何", 3), ("罗", 3), ("郑", 3), ("叶", 2.5), ("钟", 2.5), ("吴", 2.5), ("谢", 2),
            ("邓", 2), ("冯", 2), ("杨", 2), ("周", 2), ("曾", 1.5), ("朱", 1.5), ("卢", 1.5),
            ("蔡", 1.5), ("莫", 1.2), ("麦", 1.2), ("袁", 1.2), ("徐", 1.2), ("苏", 1.2), ("彭", 1),
            ("赖", 1), ("潘", 1), ("方", 1), ("郭", 1), ("廖", 1), ("孙", 1), ("胡", 1), ("温", 0.8),
            ("邱", 0.8), ("余", 0.8), ("唐", 0.8), ("江", 0.7), ("尹", 0.5), ("韦", 0.5), ("区", 0.3),
            ("翟", 0.3), ("卓", 0.3), ("欧阳", 0.3), ("司徒", 0.2))
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚华建文辉志红玲斌鹏飞俊浩宇欣怡婷雪梅琳晨子轩佳嘉国"
         "海荣锦永泽振锋健彬坤鑫思慧晓燕凤春秋耀汉家德兴桂英颖诗雅展晖灿铭炜棠基润源达丰键昊钊铿")
MOBILE_PREFIXES = ("30", "31", "32", "33", "35", "36", "37", "38", "39", "50", "51", "52", "55",
                   "56", "57", "58", "59", "77", "80", "81", "82", "86", "87", "88", "89")
ROADS = ("东纵大道", "鸿福路", "莞太路", "东莞大道", "环城路", "莞樟路", "莞龙路", "莞长路", "松山湖大道",
         "振兴路", "人民路", "建设路", "新城路", "中心路", "体育路", "育才路", "光明路", "解放路", "迎宾路",
         "沿河路", "银湖路", "富民路", "长青路", "振安路", "虎门大道", "太沙路", "常黄路", "金龙路",
         "健升路", "旗峰路", "胜和路", "兴业路", "工业大道", "府前路", "学院路", "花园路", "文化路",
         "康乐路", "青年路", "和平路", "沙田大道", "港口大道", "环湖路", "南堤路", "运河路", "彩虹路",
         "振华路", "景湖路", "新安路", "富强路")
COMPANY_WORDS = ("华阳", "新科", "东聚", "德泰", "宏达", "永盛", "联合", "金鹏", "恒通", "信达", "嘉华",
                 "美景", "裕元", "正通", "力宝")
COMPANY_TRADES = ("电子", "精密", "五金", "塑胶", "科技", "实业", "纺织", "家具", "食品", "模具")
#: What a report says about the most frequent classes; others use their opening standard.
DETAILS: dict[str, tuple[str, ...]] = {
    "暴露垃圾": ("路边垃圾堆放多日无人清运，气味难闻", "垃圾桶周边散落大量生活垃圾",
                 "绿化带内被倾倒装修垃圾和生活垃圾", "巷道口堆积垃圾，蚊蝇滋生"),
    "机动车乱停放": ("多辆小车长期占用人行道停放", "车辆停放在消防通道，影响通行",
                   "路口车辆乱停，造成交通拥堵", "货车占道停放卸货"),
    "非法小广告": ("电线杆和墙面被张贴大量小广告", "楼道内喷涂办证、通渠小广告", "公交站亭贴满小广告",
                  "路面被喷涂电话号码广告"),
    "无照经营游商": ("流动摊贩占道经营水果", "夜间有流动小吃摊聚集", "三轮车占道兜售蔬菜",
                   "学校门口有游商聚集"),
    "店外经营": ("商铺将货物摆放至门前人行道", "餐饮店在店外摆放桌椅经营", "维修店在店外占道作业",
                "超市门前堆放货架占道"),
    "道路不洁": ("路面有大量落叶和泥沙未清扫", "路面油污明显，影响行车", "人行道积尘严重",
                "路面散落纸屑和塑料袋"),
    "非机动车乱停放": ("共享单车大量堆放在人行道上", "电动车乱停堵塞盲道", "地铁口周边单车停放杂乱",
                     "非机动车占用机动车道停放"),
    "积存垃圾渣土": ("空地上堆积大量建筑渣土", "路边堆放建筑垃圾未及时清运", "积存垃圾长期未清理"),
    "占道堆物": ("商户在路边堆放杂物", "人行道上堆放木材和建材", "楼道口堆放废旧家具"),
    "违法建设": ("楼顶正在加建铁皮房", "有人在空地上搭建简易棚房", "商铺私自扩建雨棚",
                "民房正在违规加层施工"),
    "沿街晾挂": ("临街住户在护栏上晾晒衣物", "商铺在行道树上拉绳晾挂", "沿街窗外晾挂被褥"),
    "路灯": ("路灯晚上不亮，行人出行不便", "多盏路灯白天常亮", "灯杆倾斜，存在安全隐患", "灯罩破损脱落"),
    "露天烧烤": ("夜间有商户在店外露天烧烤，油烟扰民", "路边烧烤摊烟雾较大", "有人在绿地内烧烤"),
    "绿地脏乱": ("绿化带内有大量垃圾", "绿地内堆放杂物", "草坪被踩踏且散落垃圾"),
    "人行道板": ("人行道板松动翘起，容易绊倒行人", "人行道砖破损缺失", "人行道板塌陷积水"),
    "雨水井盖": ("雨水井盖破损", "井盖松动，车辆经过有异响", "井盖移位，存在安全隐患"),
    "垃圾箱": ("垃圾箱破损无法使用", "垃圾箱满溢未及时清理", "垃圾箱被撞倒"),
    "道路遗撒": ("运输车辆遗撒泥土，路面污染严重", "路面有大量砂石遗撒", "渣土车沿途撒漏"),
    "车行道路面": ("路面出现坑洞，车辆通行颠簸", "路面开裂", "路面沉陷"),
    "施工扰民": ("工地夜间施工噪音大，影响居民休息", "凌晨仍有机械施工", "施工机械噪音扰民"),
    "社会生活噪声扰民": ("商铺使用高音喇叭招揽生意", "广场舞音响声音过大", "夜间娱乐场所噪音扰民"),
    "道路积水/内涝": ("强降雨后路面积水约20厘米，车辆涉水通行", "下穿通道积水，车辆无法通行",
                    "低洼路段积水严重，行人无法通过"),
    "燃气泄漏": ("现场闻到明显燃气味", "餐饮店燃气管道疑似泄漏", "燃气阀门处有泄漏声"),
    "井盖缺失": ("井盖缺失，存在严重安全隐患", "井口敞开，无任何警示"),
    "树木倒伏": ("大树倒伏压住车道", "树木倾倒压到电线", "树枝断落阻塞道路"),
    "占道洗车修车": ("汽修店在路边占道维修车辆", "有人在人行道上洗车，污水横流"),
    "违规户外广告": ("楼顶广告牌未经审批设置", "广告牌破损，存在坠落隐患"),
    "行道树": ("行道树枯死未及时更换", "行道树枝叶遮挡路灯和交通标志", "行道树倾斜，有倒伏隐患"),
    "水域不洁": ("河面漂浮大量垃圾", "河道内有死鱼和漂浮物"),
    "护栏": ("道路护栏被撞变形", "护栏缺失"),
    "违规悬挂横幅": ("沿街违规悬挂广告横幅",),
    "工地扬尘": ("工地未覆盖裸土，扬尘严重",),
    "施工占道": ("施工围挡超范围占用车道",),
}
SOURCE_LEADS = {
    Source.HOTLINE_12345: "市民来电反映：", Source.TRANSFER_110: "110转办：群众报警称",
    Source.TRANSFER_119: "119转办：", Source.INSPECTOR: "巡查发现：", Source.VIDEO: "视频智能识别：",
    Source.SENSOR: "物联感知设备报警：", Source.LEADER: "领导交办：", Source.ENTERPRISE: "企业直通车：",
    Source.WALK_IN: "群众来访反映：",
}
HOTLINE_TAILS = ("市民要求尽快处理。", "来电人希望尽快处理。", "已反映多次，请尽快处理。", "")
OPINIONS = {
    "open": ("符合立案标准，予以立案", "情况属实，立案处理", "予以立案"),
    "dispatch": ("请按时限处置并反馈", "请尽快处置", "请核实处理"),
    "dispatch_emergency": ("紧急事项，请立即到场处置", "请30分钟内到场处置"),
    "return": ("非本部门职责，请重新派遣", "该问题属其他部门管辖，申请回退", "地址不在本辖区，请改派"),
    "feedback": ("已到场处置完毕，现场恢复正常", "已安排人员处理完毕", "问题已整改，附现场照片",
                 "已清理完毕"),
    "extension": ("需协调产权单位，申请延期", "需采购材料，申请延期", "涉及多个部门，申请延期处置"),
    "approve": ("同意延期", "同意，请在延期内办结"),
    "park": ("需纳入年度计划实施，予以挂账", "涉及规划调整，暂时挂账", "需资金预算，挂账管理"),
    "unpark": ("计划已落实，恢复处置",),
    "verify": ("现场核查，问题已处置到位", "核查通过", "经核实已整改"),
    "rework": ("现场核查未整改到位，请返工", "整改不彻底，返工处理"),
    "close": ("同意结案", "结案", "处置到位，予以结案"),
    "on_spot": ("已现场劝导整改", "已当场处理完毕", "已自行处置"),
    "void": ("经核实，非城市管理职责范围，已告知反映人", "重复上报，已合并处理", "现场核查无此问题",
             "视频误识别，作废"),
}
FINDING_PROBLEMS = ("路面散落垃圾", "垃圾桶满溢", "店外经营占道", "违规悬挂横幅", "绿化带枯死缺株",
                    "井盖破损", "燃气瓶违规存放", "沿街晾挂", "乱堆杂物", "非法小广告", "公厕保洁不到位",
                    "车辆乱停放")
SPOT_CATEGORIES = (("village", 35), ("road", 25), ("market", 15), ("park", 10), ("toilet", 15))
SPOT_PROBLEMS = ("垃圾堆积、污水横流，群众反映强烈", "乱摆卖、乱堆放问题反复出现", "卫生死角长期无人清理",
                 "占道经营、乱停放问题突出", "设施破损、环境脏乱")


class DemoRefused(CityOpsError):
    """The database holds real work; building demo data would destroy it."""

    code = "demo_refused"


@dataclass(frozen=True)
class DemoStats:
    cases: int
    history_rows: int
    staff: int
    grids: int
    cameras: int
    sensors: int
    seconds: float


def _demo_account_plan() -> list[tuple[str, Role]]:
    plan = [(f"duty{i}", Role.DUTY_OFFICER) for i in range(1, 7)]
    plan += [(f"dispatch{i}", Role.DISPATCHER) for i in range(1, 4)]
    plan += [(f"shift{i}", Role.SHIFT_LEADER) for i in range(1, 3)]
    plan += [("chief1", Role.LEADER)]
    plan += [(f"inspector{i}", Role.INSPECTOR) for i in range(1, LINKED_ACCOUNTS + 1)]
    plan += [(f"field{i}", Role.FIELD_OFFICER) for i in range(1, LINKED_ACCOUNTS + 1)]
    plan += [(f"dept_{kind}", Role.DEPARTMENT_HANDLER) for kind in DEPARTMENTS]
    return plan


#: The fixed demo sign-in accounts, username -> role value; all use :data:`DEMO_PASSWORD`.
DEMO_ACCOUNTS: dict[str, str] = {username: role.value for username, role in _demo_account_plan()}


# =============================================================================================
# Small helpers
# =============================================================================================

def _rng(seed: int, phase: str) -> random.Random:
    """One generator per phase; string seeds hash the same way in every process."""
    return random.Random(f"cityops-demo/{seed}/{phase}")


def _local(at: dt.datetime) -> dt.datetime:
    return at + CST  # still tagged UTC: only its wall-clock fields are used


def _from_local(day: dt.date, seconds: int) -> dt.datetime:
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
    return midnight + dt.timedelta(seconds=seconds) - CST


def _cum(weights: Sequence[float]) -> list[float]:
    return list(accumulate(weights))


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` in proportion to ``weights`` (largest remainder, ties by position)."""
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _offset(lat: float, lon: float, km: float, angle: float) -> tuple[float, float]:
    return (round(lat + km * math.sin(angle) / KM_PER_DEG_LAT, 6),
            round(lon + km * math.cos(angle) / KM_PER_DEG_LON, 6))


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    return math.hypot((lat1 - lat2) * KM_PER_DEG_LAT, (lon1 - lon2) * KM_PER_DEG_LON)


def _name(rng: random.Random) -> str:
    surname = rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0]
    size = 1 if rng.random() < 0.3 else 2
    return surname + "".join(rng.choice(GIVEN) for _ in range(size))


_SURNAMES = [s for s, _ in SURNAMES]
_SURNAME_CUM = _cum([w for _, w in SURNAMES])


def _mobile(rng: random.Random) -> str:
    return f"1{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10 ** 8):08d}"


def _short_village(name: str) -> str:
    """岗贝社区居民委员会 -> 岗贝社区, 水濂村民委员会 -> 水濂村, 扶涌村村民委员会 -> 扶涌村."""
    for suffix in ("居民委员会", "村民委员会", "委员会"):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            return base + "村" if suffix == "村民委员会" and not base.endswith("村") else base
    return name


def _insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    for i in range(0, len(rows), CHUNK):
        session.execute(insert(table), rows[i:i + CHUNK])


class _Outline:
    """The city outline with its edges bucketed by latitude band.

    :func:`db.geo.polygons.in_polygons` walks all ~3,200 outline edges per point (~0.5 ms); the demo
    places well over 100,000 points, so each ring's edges are sorted into bands once. The
    crossing test is the same expression as :func:`db.geo.polygons.in_ring` and an edge that can cross a
    latitude is always in that latitude's band, so the answers are identical, only faster.
    """

    BANDS = 512

    def __init__(self, polygons: list[list[Ring]]) -> None:
        self._polygons = [[self._index(ring) for ring in poly] for poly in polygons]

    @classmethod
    def _band(cls, y: float, y0: float, height: float) -> int:
        return min(cls.BANDS - 1, max(0, int((y - y0) / height)))

    @classmethod
    def _index(cls, ring: Ring) -> tuple[float, float, float, list[list[tuple]]]:
        ys = [y for _, y in ring]
        y0, y1 = min(ys), max(ys)
        height = (y1 - y0) / cls.BANDS or 1.0
        bands: list[list[tuple]] = [[] for _ in range(cls.BANDS)]
        j = len(ring) - 1
        for i in range(len(ring)):
            (xi, yi), (xj, yj) = ring[i], ring[j]
            low, high = cls._band(min(yi, yj), y0, height), cls._band(max(yi, yj), y0, height)
            for b in range(low, high + 1):
                bands[b].append((xi, yi, xj, yj))
            j = i
        return y0, y1, height, bands

    @classmethod
    def _in_ring(cls, lon: float, lat: float, index) -> bool:
        y0, y1, height, bands = index
        if not y0 <= lat <= y1:
            return False
        inside = False
        for xi, yi, xj, yj in bands[cls._band(lat, y0, height)]:
            if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
                inside = not inside
        return inside

    def contains(self, lat: float, lon: float) -> bool:
        for outer, *holes in self._polygons:
            if self._in_ring(lon, lat, outer) and \
                    not any(self._in_ring(lon, lat, h) for h in holes):
                return True
        return False


class _SpatialHash:
    """Points in cells of ~2 km, to find the nearest neighbour while scattering villages."""

    CELL = 0.02  # degrees: at least GRID_GAP_KM in both directions

    def __init__(self) -> None:
        self._cells: dict[tuple[int, int], list[tuple[float, float]]] = {}

    def _key(self, lat: float, lon: float) -> tuple[int, int]:
        return int(math.floor(lat / self.CELL)), int(math.floor(lon / self.CELL))

    def add(self, lat: float, lon: float) -> None:
        self._cells.setdefault(self._key(lat, lon), []).append((lat, lon))

    def gap(self, lat: float, lon: float, *, skip_self: bool = False) -> float:
        """Distance to the nearest point, capped at GRID_GAP_KM (all that matters here)."""
        best = GRID_GAP_KM
        ky, kx = self._key(lat, lon)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                for plat, plon in self._cells.get((ky + dy, kx + dx), ()):
                    d = _km(lat, lon, plat, plon)
                    if d < best and not (skip_self and d < 1e-9):
                        best = d
        return best


# =============================================================================================
# The world the cases happen in
# =============================================================================================

@dataclass(eq=False)
class _Village:
    id: int
    code: str
    name: str
    short: str
    lat: float = 0.0
    lon: float = 0.0


@dataclass(eq=False)
class _Grid:
    id: int
    code: str
    name: str
    place: str  # how a report names the place: village or "{town}中心区"
    town: _Town
    village_id: int | None
    lat: float
    lon: float
    radius_km: float = 1.0
    safe_km: float = 0.5  # a disc of this radius lies inside the hexagon
    polygon: str = ""
    leader: _Person | None = None
    members: list[_Person] = field(default_factory=list)


@dataclass(eq=False)
class _Person:
    id: int
    code: str
    name: str
    phone: str
    title: str
    kind: str  # department kind within the town
    town: _Town
    grids: list[_Grid] = field(default_factory=list)


@dataclass(eq=False)
class _Town:
    id: int
    code: str
    name: str
    lat: float
    lon: float
    index: int
    weight: float
    low_lying: bool
    villages: list[_Village] = field(default_factory=list)
    grids: list[_Grid] = field(default_factory=list)
    grid_cum: list[float] = field(default_factory=list)
    depts: dict[str, int] = field(default_factory=dict)
    staff: list[_Person] = field(default_factory=list)
    dept_staff: dict[str, list[_Person]] = field(default_factory=dict)
    cameras: list[str] = field(default_factory=list)  # names of analytics cameras
    sensors: dict[str, list[str]] = field(default_factory=lambda: {"water_level": [], "gas": []})

    def pick_grid(self, rng: random.Random) -> _Grid:
        return rng.choices(self.grids, cum_weights=self.grid_cum)[0]


@dataclass(frozen=True, eq=False)
class _Class:
    id: int
    minor_name: str
    amount: int
    unit: str
    dept_kind: str
    weight: float
    details: tuple[str, ...]

    @property
    def emergency(self) -> bool:
        return self.unit == "minutes"


@dataclass(frozen=True)
class _Actor:
    id: int
    name: str
    staff_id: int | None = None


@dataclass
class _World:
    """Everything later phases need, loaded or built inside the build transaction."""

    now: dt.datetime
    days: int
    seed: int
    city_id: int
    outline: _Outline
    calendar: WorkCalendar
    towns: list[_Town]
    classes: list[_Class]
    city_depts: dict[str, int]  # kind -> city-level department id
    admin: UserAccount
    grids: list[_Grid] = field(default_factory=list)
    people: list[_Person] = field(default_factory=list)
    cast: _Cast | None = None
    ids: dict[str, int] = field(default_factory=dict)  # table -> last id used

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    def point_in(self, rng: random.Random, grid: _Grid) -> tuple[float, float]:
        """A point inside ``grid`` and inside the city; the grid centre if none is found."""
        for _ in range(8):
            lat, lon = _offset(grid.lat, grid.lon, grid.safe_km * math.sqrt(rng.random()),
                               rng.random() * TAU)
            if self.outline.contains(lat, lon):
                return lat, lon
        return grid.lat, grid.lon


class _Cast:
    """Which demo account plausibly took a step, by shift and by town."""

    def __init__(self, actors: dict[str, _Actor]) -> None:
        self.duty = [actors[f"duty{i}"] for i in range(1, 7)]
        self.dispatchers = [actors[f"dispatch{i}"] for i in range(1, 4)]
        self.shift = [actors["shift1"], actors["shift2"]]
        self.chief = actors["chief1"]
        self.inspectors = [actors[f"inspector{i}"] for i in range(1, LINKED_ACCOUNTS + 1)]
        self.fields = [actors[f"field{i}"] for i in range(1, LINKED_ACCOUNTS + 1)]
        self.depts = {kind: actors[f"dept_{kind}"] for kind in DEPARTMENTS}

    @staticmethod
    def _shift_of(at: dt.datetime) -> int:
        hour = _local(at).hour
        return 0 if 8 <= hour < 16 else 1 if hour >= 16 else 2

    def duty_at(self, rng: random.Random, at: dt.datetime) -> _Actor:
        return self.duty[self._shift_of(at) * 2 + rng.randrange(2)]

    def dispatcher_at(self, at: dt.datetime) -> _Actor:
        return self.dispatchers[self._shift_of(at)]

    def leader_at(self, at: dt.datetime) -> _Actor:
        return self.shift[0] if 8 <= _local(at).hour < 20 else self.shift[1]

    def inspector(self, town: _Town) -> _Actor:
        # Inspectors (监督员) are city staff: towns beyond the twentieth share them.
        return self.inspectors[town.index % len(self.inspectors)]

    def handler(self, town: _Town | None, kind: str) -> _Actor:
        """Who reports back for a department: the town's field officer, or the city
        department's handler for city-level work and towns without a demo field account."""
        if town is not None and town.index < len(self.fields):
            return self.fields[town.index]
        return self.depts.get(kind) or self.depts["enforcement"]


# =============================================================================================
# Public entry point
# =============================================================================================

def build_demo(database: Database, *, cases: int = 100_000, seed: int = 1, days: int = 90,
               force: bool = False, now: dt.datetime | None = None,
               progress: Callable[[str], None] | None = None) -> DemoStats:
    """Fill ``database`` with a deterministic demo Dongguan; return what was built.

    Refuses (:class:`DemoRefused`) a database that holds real cases unless ``force``; a previous
    demo is replaced without asking. Everything after the reference data is one transaction.
    """
    if cases < 0 or days < 1:
        raise ValueError("cases must be >= 0 and days >= 1")
    if now is None:
        now = utcnow().replace(microsecond=0)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now = now.astimezone(UTC)
    say = progress or (lambda _message: None)
    started = time.perf_counter()

    with database.read() as session:  # refuse before touching anything
        _check_refusal(session, force)
    ensure_reference_data(database, admin_password=DEMO_PASSWORD)  # demo: admin/demo

    with database.write() as session:
        _check_refusal(session, force)  # again, under the write lock
        high_water = _high_water(session)
        say("清除旧数据…")
        _wipe(session)
        world = _load_world(session, now=now, days=days, seed=seed, high_water=high_water)
        say("村居、网格与人员…")
        _build_places(session, world)
        _build_people(session, world)
        _build_accounts(session, world)
        say("摄像头与传感器…")
        n_cameras, n_sensors = _build_devices(session, world)
        maker = _CaseMaker(world, _rng(seed, "cases"))
        history_rows = _build_cases(session, maker, cases, say)
        say("黑点与巡检…")
        spots, inspections, findings = _build_spots_and_inspections(session, world, maker.links)
        _finish(session, world, cases=cases, history_rows=history_rows, cameras=n_cameras,
                sensors=n_sensors, spots=spots, inspections=inspections, findings=findings)
    database.invalidate()
    stats = DemoStats(cases=cases, history_rows=history_rows, staff=len(world.people),
                      grids=len(world.grids), cameras=n_cameras, sensors=n_sensors,
                      seconds=round(time.perf_counter() - started, 2))
    say(f"完成：{cases:,} 件案件，{history_rows:,} 条流转记录，用时 {stats.seconds:.1f} 秒")
    return stats


def _check_refusal(session: Session, force: bool) -> None:
    """Real work = cases in a database that is not a demo, or, in a demo database, case work
    done by any account that is not a demo account (the simulator and demo sign-ins use demo
    accounts; a real officer who signed in to a demo database has done real work)."""
    if force or session.scalar(select(Case.id).limit(1)) is None:
        return
    real = session.get(AppSetting, DEMO_SETTING) is None or session.scalar(
        select(AuditLog.id).join(UserAccount, UserAccount.id == AuditLog.actor_id)
        .where(AuditLog.action.like("case.%"), UserAccount.username.not_in(list(DEMO_ACCOUNTS)))
        .limit(1)) is not None
    if real:
        raise DemoRefused(
            "数据库中已有真实案件数据，生成演示数据会删除全部业务数据；如确需覆盖，请加 --force 参数。"
            " / This database holds real cases; building demo data would delete all operational "
            "data. Pass --force to overwrite it.")


# Tables whose ids the demo assigns itself: ids continue after the highest ever used, so a
# rebuilt demo never reuses a case id (or case number) an open screen may still show.
_ID_TABLES: tuple[type, ...] = (Case, CaseHistory, Staff, Grid, Department, UserAccount, Camera,
                                Sensor, SensorReading, BlackSpot, Inspection, InspectionFinding)


def _high_water(session: Session) -> dict[str, int]:
    """The highest id each table has used, counting rows deleted since (sequences)."""
    bind = session.get_bind().dialect.name
    out: dict[str, int] = {}
    for model in _ID_TABLES:
        name = model.__tablename__
        top = session.scalar(select(func.max(model.id))) or 0
        if bind == "sqlite":
            # Only AUTOINCREMENT tables have a row here (and the table may not exist yet).
            has_seq = session.scalar(text(
                "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'"))
            if has_seq:
                seq = session.scalar(text("SELECT seq FROM sqlite_sequence WHERE name = :n"),
                                     {"n": name})
                top = max(top, seq or 0)
        elif bind == "postgresql":
            seq = session.scalar(text(
                "SELECT pg_sequence_last_value(pg_get_serial_sequence(:t, 'id')::regclass)"),
                {"t": f'"{name}"'})
            top = max(top, seq or 0)
        out[name] = int(top)
    return out


def _wipe(session: Session) -> None:
    """Delete all operational rows in foreign-key order; reference data and audit_log stay."""
    t = {m.__tablename__: m.__table__ for m in (
        InspectionFinding, Inspection, BlackSpot, Alert, SensorReading, Sensor, Camera,
        CaseHistory, Case, StaffTrack, StaffPosition, GridMember, Grid, UserAccount, Staff,
        Department, AppSetting, ChangeLog, AuditLog)}
    users, depts = t["user_account"], t["department"]
    non_admin = select(users.c.id).where(users.c.role != Role.ADMIN.value)
    session.execute(update(t["app_setting"]).where(t["app_setting"].c.updated_by_id.in_(non_admin))
                    .values(updated_by_id=None))
    for name in ("inspection_finding", "inspection", "black_spot", "alert", "sensor_reading",
                 "sensor", "camera", "case_history", "case", "staff_track", "staff_position",
                 "grid_member"):
        session.execute(delete(t[name]))
    session.execute(update(t["grid"]).values(leader_id=None))
    session.execute(delete(t["grid"]))
    # The append-only audit log may name an account as actor; such accounts cannot be deleted.
    # They stay, unlinked and inactive (a demo account of the same name is revived below).
    audited = select(t["audit_log"].c.actor_id).where(t["audit_log"].c.actor_id.is_not(None))
    session.execute(delete(users).where(users.c.role != Role.ADMIN.value,
                                        users.c.id.not_in(audited)))
    town_depts = select(depts.c.id).where(depts.c.town_id.is_not(None))
    session.execute(update(users).where(users.c.role != Role.ADMIN.value)
                    .values(staff_id=None, department_id=None, active=False))
    session.execute(update(users).where(users.c.staff_id.is_not(None)).values(staff_id=None))
    session.execute(update(users).where(users.c.department_id.in_(town_depts))
                    .values(department_id=None))
    session.execute(delete(t["staff"]))
    session.execute(delete(depts).where(depts.c.town_id.is_not(None)))
    session.execute(delete(t["change_log"]))  # seq is AUTOINCREMENT: followers never go back


def _load_world(session: Session, *, now: dt.datetime, days: int, seed: int,
                high_water: dict[str, int]) -> _World:
    city = session.scalar(select(City).where(City.code == DONGGUAN.code))
    outline = _Outline(rings_of(json.loads(city.outline_geojson)))
    towns: list[_Town] = []
    by_id: dict[int, _Town] = {}
    for i, row in enumerate(session.execute(
            select(Town.id, Town.code, Town.name, Town.lat, Town.lon)
            .where(Town.city_id == city.id).order_by(Town.id))):
        town = _Town(row.id, row.code, row.name, row.lat, row.lon, i,
                     TOWN_WEIGHTS.get(row.name, 1.0), row.name in LOW_LYING_TOWNS)
        towns.append(town)
        by_id[town.id] = town
    for row in session.execute(select(Village.id, Village.town_id, Village.code, Village.name)
                               .where(Village.town_id.in_(list(by_id))).order_by(Village.id)):
        by_id[row.town_id].villages.append(
            _Village(row.id, row.code, row.name, _short_village(row.name)))
    city_depts = dict(session.execute(
        select(Department.kind, Department.id)
        .where(Department.city_id == city.id, Department.town_id.is_(None))
        .order_by(Department.id)).all())
    kind_of = {dept_id: kind for kind, dept_id in city_depts.items()}
    classes = [
        _Class(c.id, c.minor_name, c.limit_amount, c.limit_unit,
               kind_of.get(c.department_id, "enforcement"), c.weight,
               DETAILS.get(c.minor_name) or _details_from_standard(c.opening_standard))
        for c in session.scalars(select(CaseClass).where(CaseClass.active.is_(True))
                                 .order_by(CaseClass.id))
    ]
    admin = session.scalar(select(UserAccount).where(UserAccount.role == Role.ADMIN.value)
                           .order_by(UserAccount.id).limit(1))
    towns_table = Town.__table__
    session.execute(update(towns_table).where(towns_table.c.city_id == city.id)
                    .values(low_lying=towns_table.c.name.in_(LOW_LYING_TOWNS)))
    return _World(now=now, days=days, seed=seed, city_id=city.id, outline=outline,
                  calendar=load_calendar(session), towns=towns, classes=classes,
                  city_depts=city_depts, admin=admin, ids=dict(high_water))


def _details_from_standard(standard: str) -> tuple[str, ...]:
    """Fragments of an opening standard ("路灯夜间不亮、白天常亮…") to describe a problem."""
    clause = standard.split("，")[0].split("。")[0]
    parts = tuple(p for p in clause.replace("或", "、").split("、") if len(p) >= 2)
    return parts or (clause,)


# =============================================================================================
# Places: villages on the map, grids, town departments
# =============================================================================================

def _build_places(session: Session, w: _World) -> None:
    rng = _rng(w.seed, "places")
    spread = _SpatialHash()
    for town in w.towns:  # every village keeps its distance from every town centre too
        spread.add(town.lat, town.lon)
    for town in w.towns:
        for village in town.villages:
            village.lat, village.lon = _scatter(rng, w.outline, spread, town)
            spread.add(village.lat, village.lon)
    session.execute(
        update(Village.__table__).where(Village.__table__.c.id == bindparam("vid"))
        .values(lat=bindparam("vlat"), lon=bindparam("vlon")),
        [{"vid": v.id, "vlat": v.lat, "vlon": v.lon} for t in w.towns for v in t.villages])

    for town in w.towns:
        specs = [(None, f"DG-{town.code}000", f"{town.name}中心区网格", f"{town.name}中心区",
                  town.lat, town.lon, 3.0)]
        specs += [(v.id, f"DG-{v.code}", f"{town.name}{v.short}网格", v.short, v.lat, v.lon, 1.0)
                  for v in town.villages]
        weights = []
        for village_id, code, name, place, lat, lon, weight in specs:
            grid = _Grid(w.next_id("grid"), code, name, place, town, village_id, lat, lon)
            _shape(rng, grid, spread.gap(lat, lon, skip_self=True))
            town.grids.append(grid)
            w.grids.append(grid)
            weights.append(weight)  # the town centre is the busiest grid
        town.grid_cum = _cum(weights)

    rows = []
    for town in w.towns:
        for kind, pattern in TOWN_DEPARTMENTS:
            town.depts[kind] = w.next_id("department")
            rows.append({"id": town.depts[kind], "code": f"{town.code}-{kind}",
                         "name": pattern.format(town=town.name), "kind": kind,
                         "city_id": w.city_id, "town_id": town.id,
                         "parent_id": w.city_depts.get(kind),
                         "phone": f"0769-2{rng.randrange(10 ** 7):07d}"})
    _insert(session, Department.__table__, rows)


def _scatter(rng: random.Random, outline: _Outline, spread: _SpatialHash,
             town: _Town) -> tuple[float, float]:
    """A village point 0.5-6 km from the town seat, inside the city, away from other grids."""
    best, best_gap = None, -1.0
    far = VILLAGE_RADIUS_KM[1]
    for _ in range(150):
        lat, lon = _offset(town.lat, town.lon, rng.uniform(VILLAGE_RADIUS_KM[0], far),
                           rng.random() * TAU)
        if not outline.contains(lat, lon):
            far = max(VILLAGE_RADIUS_KM[0] + 0.1, far * 0.8)  # near the coast: come closer
            continue
        gap = spread.gap(lat, lon)
        if gap >= GRID_GAP_KM:
            return lat, lon
        if gap > best_gap:
            best, best_gap = (lat, lon), gap
    if best is not None:  # a crowded town: take the least crowded spot seen
        return best
    for k in range(12):  # last resort: close to the seat, which is inside the city
        lat, lon = _offset(town.lat, town.lon, VILLAGE_RADIUS_KM[0], k * TAU / 12)
        if outline.contains(lat, lon):
            return lat, lon
    return town.lat, town.lon


def _shape(rng: random.Random, grid: _Grid, gap_km: float) -> None:
    """A slightly irregular hexagon around the grid centre, sized by its nearest neighbour."""
    radius = min(GRID_RADIUS_KM[1], max(GRID_RADIUS_KM[0], gap_km / 2))
    turn = rng.random() * TAU / 6
    corners = []
    shortest = radius
    for k in range(6):
        r = radius * rng.uniform(0.9, 1.0)
        shortest = min(shortest, r)
        lat, lon = _offset(grid.lat, grid.lon, r, turn + k * TAU / 6)
        corners.append([lon, lat])
    corners.append(corners[0])  # counter-clockwise and closed, as GeoJSON wants
    grid.radius_km = radius
    # Each corner lies on its own ray beyond ``shortest``, so the regular hexagon of that
    # radius, and the disc inscribed in it, lie inside (with a margin for the rounding).
    grid.safe_km = shortest * math.cos(math.pi / 6) * 0.97
    grid.polygon = json.dumps({"type": "Polygon", "coordinates": [corners]})


# =============================================================================================
# People: staff, grid members, positions, sign-in accounts
# =============================================================================================

def _build_people(session: Session, w: _World) -> None:
    rng = _rng(w.seed, "people")
    titles = [title for title, n in STAFF_TITLES for _ in range(n)]
    rng.shuffle(titles)
    # Staff follow the grids (each needs a leader and 5-8 members) plus a town office.
    counts = _apportion(len(titles), [len(t.grids) * 6 + 12 for t in w.towns])
    it = iter(titles)
    for town, n in zip(w.towns, counts):
        town.dept_staff = {kind: [] for kind in TOWN_KINDS}
        for _ in range(n):
            sid = w.next_id("staff")
            kind = rng.choices(TOWN_KINDS, cum_weights=(55, 80, 100))[0]
            person = _Person(sid, f"DG{sid:06d}", _name(rng), _mobile(rng), next(it), kind, town)
            town.staff.append(person)
            town.dept_staff[kind].append(person)
            w.people.append(person)
        _staff_grids(rng, town)

    _insert(session, Staff.__table__, [
        {"id": p.id, "code": p.code, "name": p.name, "phone": p.phone, "title": p.title,
         "department_id": p.town.depts[p.kind], "town_id": p.town.id, "active": True}
        for p in w.people])
    _insert(session, Grid.__table__, [
        {"id": g.id, "code": g.code, "name": g.name, "town_id": g.town.id,
         "village_id": g.village_id, "polygon_geojson": g.polygon, "center_lat": g.lat,
         "center_lon": g.lon, "leader_id": g.leader.id if g.leader else None}
        for g in w.grids])
    members = []
    for g in w.grids:
        if g.leader is not None:
            members.append({"grid_id": g.id, "staff_id": g.leader.id, "duty": "网格长", "sort": 0})
        members += [{"grid_id": g.id, "staff_id": p.id, "duty": "网格员", "sort": k}
                    for k, p in enumerate(g.members, 1)]
    _insert(session, GridMember.__table__, members)

    positions = []
    for p in w.people:
        if not p.grids:
            continue  # office staff: no live position
        lat, lon = w.point_in(rng, p.grids[0])
        positions.append({"staff_id": p.id, "lat": lat, "lon": lon,
                          "at": w.now - dt.timedelta(seconds=rng.randrange(600)),
                          "on_duty": rng.random() < 0.9})
    _insert(session, StaffPosition.__table__, positions)


def _staff_grids(rng: random.Random, town: _Town) -> None:
    """Leaders from the established staff, members from the assistants, in rotation so that
    everyone is used before anyone serves a second grid."""
    leaders = [p for p in town.staff if p.title != "协管员"] or list(town.staff)
    helpers = [p for p in town.staff if p.title == "协管员"]
    if len(helpers) < 9:
        helpers = list(town.staff)
    rng.shuffle(leaders)
    rng.shuffle(helpers)
    cursor = 0
    for k, grid in enumerate(town.grids):
        grid.leader = leaders[k % len(leaders)]
        grid.leader.grids.append(grid)
        wanted = rng.randint(5, 8)
        for _ in range(len(helpers) * 2):
            if len(grid.members) == wanted:
                break
            person = helpers[cursor % len(helpers)]
            cursor += 1
            if person is not grid.leader and person not in grid.members:
                grid.members.append(person)
                person.grids.append(grid)


def _build_accounts(session: Session, w: _World) -> None:
    """The fixed demo accounts; kept accounts of the same name (audit-logged) are revived."""
    rng = _rng(w.seed, "accounts")
    # One argon2 hash for every account: hashing costs ~0.1 s by design, so hashing 68 times
    # would add seconds to every build for no gain (they all share DEMO_PASSWORD anyway).
    password_hash = hash_password(DEMO_PASSWORD)
    linked: dict[str, _Person] = {}
    used: set[int] = set()  # membership tests only, never iterated
    for town in w.towns[:LINKED_ACCOUNTS]:
        n = town.index + 1
        field_staff = [p for p in town.staff if p.title == "协管员" and p.grids] or town.staff
        linked[f"field{n}"] = field_staff[0]
        used.add(field_staff[0].id)
        pool = [p for p in town.staff if p.title == "事业编" and p.id not in used] or \
            [p for p in town.staff if p.id not in used]
        linked[f"inspector{n}"] = pool[0]
        used.add(pool[0].id)
    if len(w.towns) < LINKED_ACCOUNTS:  # another city: fill up from the first town
        spare = [p for p in w.people if p.id not in used]
        for n in range(len(w.towns) + 1, LINKED_ACCOUNTS + 1):
            linked[f"field{n}"], linked[f"inspector{n}"] = spare.pop(), spare.pop()

    kept = dict(session.execute(select(UserAccount.username, UserAccount.id)
                                .where(UserAccount.username.in_(list(DEMO_ACCOUNTS)))).all())
    created = w.now - dt.timedelta(days=w.days + 30)
    rows, revive, actors = [], [], {}
    for username, role in _demo_account_plan():
        person = linked.get(username)
        if person is not None:
            name, staff_id, dept_id = person.name, person.id, person.town.depts[person.kind]
        else:
            name, staff_id = _name(rng), None
            dept_id = w.city_depts.get(username[5:]) if role == Role.DEPARTMENT_HANDLER else None
        values = {"username": username, "display_name": name, "role": role.value,
                  "password_hash": password_hash, "staff_id": staff_id,
                  "department_id": dept_id, "active": True}
        if username in kept:
            uid = kept[username]
            revive.append({"uid": uid, **values})
        else:
            uid = w.next_id("user_account")
            rows.append({"id": uid, "created_at": created, "last_login_at": None, **values})
        actors[username] = _Actor(uid, name, staff_id)
    _insert(session, UserAccount.__table__, rows)
    if revive:
        users = UserAccount.__table__
        columns = ("display_name", "role", "password_hash", "staff_id", "department_id", "active")
        session.execute(update(users).where(users.c.id == bindparam("uid"))
                        .values({c: bindparam(f"new_{c}") for c in columns}),
                        [{"uid": r["uid"], **{f"new_{c}": r[c] for c in columns}} for r in revive])
    w.cast = _Cast(actors)


# =============================================================================================
# Devices
# =============================================================================================

def _build_devices(session: Session, w: _World) -> tuple[int, int]:
    rng = _rng(w.seed, "devices")
    # Cameras: at least two a town, the rest where people and traffic are.
    per_town = [n + 2 for n in _apportion(CAMERAS - 2 * len(w.towns), [t.weight for t in w.towns])]
    cameras = []
    for town, n in zip(w.towns, per_town):
        roads = rng.sample(ROADS, min(n, len(ROADS)))
        for k in range(n):
            cid = w.next_id("camera")
            code = f"DG-CAM-{len(cameras) + 1:04d}"
            name = f"{town.name}{roads[k % len(roads)]}路口"
            if k >= len(roads):  # more cameras than road names: number the repeats
                name += str(k // len(roads) + 1)
            lat, lon = w.point_in(rng, town.pick_grid(rng))
            analytics = rng.random() < 1 / 3
            if analytics:
                town.cameras.append(name)
            cameras.append({
                "id": cid, "code": code, "name": name, "lat": lat, "lon": lon, "town_id": town.id,
                # Placeholder address: the video work will serve real streams here.
                "stream_url": f"http://127.0.0.1:8890/cam/{code}.ts",
                "kind": rng.choices(("fixed", "ptz", "dome"), cum_weights=(6, 8, 10))[0],
                "analytics": analytics, "active": True})
    _insert(session, Camera.__table__, cameras)

    low = [t for t in w.towns if t.low_lying] or w.towns
    high = [t for t in w.towns if not t.low_lying] or w.towns
    town_cum = _cum([t.weight for t in w.towns])
    high_cum = _cum([t.weight for t in high])
    sensors = []
    last_at = w.now.replace(second=0, microsecond=0) - dt.timedelta(minutes=w.now.minute % 10)
    readings = []
    # The control room's situation now: a few sensors rising over the last two hours.
    rising = set(rng.sample(range(WATER_SENSORS), 3)) | {WATER_SENSORS + rng.randrange(GAS_SENSORS)}
    rise_peaks = iter((0.34, 0.58, 0.86, 23.5))  # yellow, orange, red; gas past the alarm
    alarms = []
    for n in range(WATER_SENSORS + GAS_SENSORS):
        sid = w.next_id("sensor")
        if n < WATER_SENSORS:
            kind, unit = "water_level", "m"
            if rng.random() < 0.7:  # most water sensors watch the low-lying towns
                town = rng.choice(low)
            else:
                town = rng.choices(high, cum_weights=high_cum)[0]
            code = f"DG-WL-{n + 1:04d}"
            spot = rng.choice(("下穿隧道", "低洼路段", "桥底涵洞", "立交桥下"))
            name = f"{town.name}{rng.choice(ROADS)}{spot}积水监测点"
            thresholds = {"blue": 0.15, "yellow": 0.3, "orange": 0.5, "red": 0.8}
            base, noise, digits = rng.uniform(0.0, 0.03), 0.004, 3  # a dry road: a few cm at most
        else:
            kind, unit = "gas", "%LEL"
            town = rng.choices(w.towns, cum_weights=town_cum)[0]
            code = f"DG-GAS-{n - WATER_SENSORS + 1:04d}"
            village = rng.choice(town.villages).short if town.villages else town.name
            name = f"{town.name}{village}{rng.choice(('餐饮街', '农贸市场', '燃气调压站', '地下管廊'))}燃气监测点"
            thresholds = {"alarm": 20, "cutoff": 35}
            base, noise, digits = rng.uniform(0.0, 1.5), 0.3, 1  # clean air reads near zero
        town.sensors[kind].append(name)
        lat, lon = w.point_in(rng, town.pick_grid(rng))
        value = 0.0
        peak = next(rise_peaks) if n in rising else 0.0
        for k in range(144):  # 24 h every 10 minutes
            climb = peak * max(0.0, (k - 131) / 12)  # the last two hours
            value = round(max(0.0, base + climb + rng.gauss(0.0, noise)), digits)
            readings.append({"id": w.next_id("sensor_reading"), "sensor_id": sid,
                             "at": last_at - dt.timedelta(minutes=10 * (143 - k)), "value": value})
        sensors.append({"id": sid, "code": code, "name": name, "kind": kind, "unit": unit,
                        "lat": lat, "lon": lon, "town_id": town.id,
                        "thresholds_json": json.dumps(thresholds), "last_value": value,
                        "last_at": last_at, "active": True})
        if peak:
            alarms.append(_sensor_alarm(sensors[-1], town, value, thresholds))
    _insert(session, Sensor.__table__, sensors)
    _insert(session, SensorReading.__table__, readings)
    alarms += _current_incidents(rng, w, cameras)
    raise_alerts(session, [a for a in alarms if a is not None], last_at)
    return len(cameras), len(sensors)


def _sensor_alarm(sensor: dict, town: _Town, value: float, thresholds: dict) -> dict | None:
    """The alert a rising sensor has raised by now (the simulator raises the same ones live)."""
    level = sensor_level(value, json.dumps(thresholds))
    severity = LEVEL_SEVERITY.get(level)
    if severity is None:
        return None
    what = "积水" if sensor["kind"] == "water_level" else "燃气浓度"
    return {"source": "sensor", "type": sensor["kind"], "severity": severity,
            "title": f"{sensor['name']}{what}{LEVEL_LABELS[level]}预警"[:120],
            "detail": f"{town.name} {sensor['name']} 读数 {value} {sensor['unit']}",
            "lat": sensor["lat"], "lon": sensor["lon"], "town_id": sensor["town_id"],
            "sensor_id": sensor["id"], "value": value}


def _current_incidents(rng: random.Random, w: _World, cameras: list[dict]) -> list[dict]:
    """A few camera detections and 110/119 transfers waiting in the alert panel."""
    out = []
    for cam, (label, zh, severity) in zip(
            rng.sample([c for c in cameras if c["analytics"]], 3),
            (("garbage", "暴露垃圾", "minor"), ("street_vending", "占道经营", "minor"),
             ("smoke", "烟雾", "major"))):
        out.append({"source": "camera", "type": f"video:{label}", "severity": severity,
                    "dedup_key": f"camera:{cam['id']}:video:{label}",
                    "title": f"{cam['name']}视频识别：{zh}", "detail": f"智能分析发现{zh}",
                    "lat": cam["lat"], "lon": cam["lon"], "town_id": cam["town_id"],
                    "camera_id": cam["id"]})
    for n, (source, zh, severity) in enumerate((("110", "交通事故占道", "major"),
                                                ("119", "广告牌松动有坠落危险", "critical"))):
        town = rng.choice(w.towns)
        lat, lon = w.point_in(rng, town.pick_grid(rng))
        number = f"{source}{w.now.astimezone(SHANGHAI):%Y%m%d}{n + 1:04d}"
        out.append({"source": source, "type": "transfer", "severity": severity,
                    "dedup_key": f"{source}:{number}", "title": f"{source}转办：{zh}",
                    "detail": f"{town.name}，接警单号 {number}。", "lat": lat, "lon": lon,
                    "town_id": town.id})
    return out


# =============================================================================================
# Cases
# =============================================================================================

_NEXT_STATE = {(t.step.value, t.source.value): t.target.value for t in TRANSITIONS}


class _Sim:
    """One case walking the state machine. Each step mirrors the body of the matching
    :mod:`db.cases.workflow` function, and refuses to happen at or after ``now``: a path cut short by
    the present leaves the case open in whatever state it had reached."""

    __slots__ = ("maker", "row", "history", "last", "cls")

    def __init__(self, maker: _CaseMaker, row: dict[str, Any], cls: _Class) -> None:
        self.maker = maker
        self.row = row
        self.cls = cls
        self.history: list[dict[str, Any]] = []
        self.last = row["reported_at"]

    # -- plumbing -------------------------------------------------------------------------
    def _when(self, at: dt.datetime) -> dt.datetime | None:
        if at <= self.last:
            at = self.last + dt.timedelta(seconds=1)  # history times strictly increase
        return None if at >= self.maker.now else at

    def _record(self, step: str, at: dt.datetime, actor: _Actor, opinion: str,
                data: dict[str, Any] | None) -> dt.datetime:
        row = self.row
        source = row["state"]
        target = _NEXT_STATE.get((step, source))
        if target is None:  # a bug in the paths below, never data: stop the build loudly
            raise AssertionError(f"demo path takes {step} from {source}")
        row["state"] = target
        row["version"] += 1
        row["updated_at"] = self.last = at
        self.history.append({
            "id": self.maker.world.next_id("case_history"), "case_id": row["id"], "step": step,
            "from_state": source, "to_state": target, "actor_id": actor.id,
            "actor_name": actor.name, "at": at, "opinion": opinion,
            "data_json": json.dumps(data, ensure_ascii=False) if data else "{}",
            "version": row["version"]})
        return at

    def _deadline(self, start: dt.datetime) -> None:
        d = self.maker.cal.deadline(start, self.cls.amount, self.cls.unit)
        self.row["deadline_at"], self.row["deadline_estimated"] = d.at, d.estimated

    # -- the steps ------------------------------------------------------------------------
    def report(self, actor: _Actor) -> None:
        row = self.row
        self.history.append({
            "id": self.maker.world.next_id("case_history"), "case_id": row["id"],
            "step": REPORT_STEP, "from_state": None, "to_state": row["state"],
            "actor_id": actor.id, "actor_name": actor.name, "at": row["reported_at"],
            "opinion": "", "data_json": json.dumps({"source": row["source"]}), "version": 1})

    def accept(self, at: dt.datetime, actor: _Actor, opinion: str = "") -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        data = {"class_id": self.row["class_id"], "urgency": self.row["urgency"]}
        return self._record("accept", at, actor, opinion, data)

    def open(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        self.row["opened_at"] = at
        return self._record("open", at, actor, opinion, None)

    def dispatch(self, at: dt.datetime, actor: _Actor, dept_id: int, staff_id: int | None,
                 user_id: int | None, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        row = self.row
        row["assignee_department_id"], row["assignee_staff_id"] = dept_id, staff_id
        row["assignee_user_id"], row["dispatched_at"] = user_id, at
        self._deadline(at)
        data = {"department_id": dept_id, "staff_id": staff_id, "user_id": user_id,
                "deadline_at": row["deadline_at"].isoformat(),
                "estimated": row["deadline_estimated"]}
        return self._record("dispatch", at, actor, opinion, data)

    def return_(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        row = self.row
        previous = row["assignee_department_id"]
        row["assignee_department_id"] = row["assignee_staff_id"] = row["assignee_user_id"] = None
        row["dispatched_at"] = row["deadline_at"] = None
        row["deadline_estimated"] = False
        return self._record("return", at, actor, opinion, {"returned_by_department_id": previous})

    def feedback(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        row = self.row
        row["handled_at"] = at
        row["handled_on_time"] = row["deadline_at"] is not None and at <= row["deadline_at"]
        return self._record("feedback", at, actor, opinion,
                            {"on_time": row["handled_on_time"], "media": []})

    def request_extension(self, at: dt.datetime, actor: _Actor, amount: int, unit: str,
                          opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        self.row["pending_extension_json"] = json.dumps({"amount": amount, "unit": unit})
        return self._record("request_extension", at, actor, opinion,
                            {"amount": amount, "unit": unit})

    def approve_extension(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        row = self.row
        ask = json.loads(row["pending_extension_json"])
        old = row["deadline_at"]
        moved = self.maker.cal.deadline(old, ask["amount"], ask["unit"])
        row["deadline_at"] = moved.at
        row["deadline_estimated"] = row["deadline_estimated"] or moved.estimated
        row["extension_count"] += 1
        row["pending_extension_json"] = None
        return self._record("approve_extension", at, actor, opinion,
                            {"old_deadline_at": old.isoformat(),
                             "deadline_at": moved.at.isoformat(), **ask})

    def park(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        return self._record("park", at, actor, opinion, None)

    def unpark(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        self._deadline(at)
        return self._record("unpark", at, actor, opinion,
                            {"deadline_at": self.row["deadline_at"].isoformat()})

    def verify(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        return self._record("verify", at, actor, opinion, None)

    def rework(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        row = self.row
        row["rework_count"] += 1
        row["handled_at"] = row["closed_at"] = row["handled_on_time"] = row["resolution"] = None
        row["dispatched_at"] = at
        self._deadline(at)
        return self._record("rework", at, actor, opinion,
                            {"deadline_at": row["deadline_at"].isoformat()})

    def close(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        self.row["closed_at"], self.row["resolution"] = at, "closed"
        return self._record("close", at, actor, opinion, None)

    def fix_on_spot(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        row = self.row
        row["handled_at"] = row["closed_at"] = at
        row["resolution"] = "on_spot"
        return self._record("fix_on_spot", at, actor, opinion, {"class_id": row["class_id"]})

    def void(self, at: dt.datetime, actor: _Actor, opinion: str) -> dt.datetime | None:
        if (at := self._when(at)) is None:
            return None
        self.row["closed_at"], self.row["resolution"] = at, "void"
        return self._record("void", at, actor, opinion, None)


@dataclass
class _Plan:
    """How one case will go, decided up front."""

    path: str = "loop"  # loop / on_spot / void
    void_stage: int = 0  # 0 pending_accept, 1 pending_open, 2 pending_dispatch
    accept_first: bool = False  # on_spot after acceptance
    returned: bool = False
    reworked: bool = False
    rework_by_inspector: bool = True
    extended: bool = False
    parked: bool = False
    unparked: bool = False


class _CaseMaker:
    def __init__(self, world: _World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        self.cal = world.calendar
        self.now = world.now
        self.cast = world.cast
        self.sources = [s.value for s in SOURCE_SHARES]  # plain str for the driver
        self.source_cum = _cum(list(SOURCE_SHARES.values()))
        self.hour_cum = {s: _cum(SOURCE_HOURS[s]) for s in self.sources}
        self.class_pick = {s: self._class_table(SOURCE_CLASSES.get(s)) for s in self.sources}
        self.town_cum = _cum([t.weight for t in world.towns])
        # Waterlogging happens where the land is low.
        self.wet_town_cum = _cum([t.weight * (4 if t.low_lying else 1) for t in world.towns])
        #: (town id, local date) -> inspector cases, for linking inspection findings.
        self.links: dict[tuple[int, dt.date], list[tuple[int, float, float, str]]] = {}
        self.workday: dict[dt.date, bool] = {}

    def _class_table(self, only: dict[str, float] | None) -> tuple[list[_Class], list[float]]:
        classes = self.world.classes
        if only:
            chosen = [c for c in classes if c.minor_name in only]
            if chosen:
                weights = [c.weight if only[c.minor_name] == 1.0 else only[c.minor_name]
                           for c in chosen]
                return chosen, _cum(weights)
        return list(classes), _cum([c.weight for c in classes])

    # -- when ------------------------------------------------------------------------------
    def timeline(self, n: int) -> list[tuple[dt.datetime, str]]:
        """``n`` report times with their channels over the last ``days``, oldest first."""
        rng, now = self.rng, self.now
        start = now - dt.timedelta(days=self.world.days)
        first = _local(start).date()
        span = (_local(now).date() - first).days + 1
        out = []
        for _ in range(n):
            source = rng.choices(self.sources, cum_weights=self.source_cum)[0]
            while True:  # re-draw the time, never the channel, so the channel shares hold
                day = first + dt.timedelta(days=rng.randrange(span))
                if not self._is_workday(day) and rng.random() > OFFDAY_SHARE.get(source, 1.0):
                    continue
                hour = rng.choices(range(24), cum_weights=self.hour_cum[source])[0]
                lo, hi = 0, 3600
                if source in HALF_HOURS:  # 8:30-17:30
                    lo, hi = (1800, 3600) if hour == 8 else (0, 1800) if hour == 17 else (0, 3600)
                at = _from_local(day, hour * 3600 + rng.randrange(lo, hi))
                if start <= at < now:
                    out.append((at, source))
                    break
        out.sort(key=lambda pair: pair[0])  # stable: ties keep their drawing order
        return out

    def _is_workday(self, day: dt.date) -> bool:
        known = self.workday.get(day)
        if known is None:
            known = self.workday[day] = self.cal.is_workday(day)[0]
        return known

    def _minutes(self, lo: float, hi: float, pace: float = 1.0) -> dt.timedelta:
        return dt.timedelta(seconds=self.rng.randint(int(lo * 60 * pace), int(hi * 60 * pace)))

    def _work_after(self, start: dt.datetime, lo_hours: float, hi_hours: float) -> dt.datetime:
        """Some working hours after ``start``: departments and inspectors keep office hours."""
        seconds = int(self.rng.uniform(lo_hours, hi_hours) * 3600)
        return self.cal.add_working_seconds(start, seconds).at

    def _handled_at(self, start: dt.datetime, deadline: dt.datetime, cls: _Class) -> dt.datetime:
        """When the department reports back: usually well inside the limit, sometimes late."""
        rng, cal = self.rng, self.cal
        late = rng.random() < LATE_SHARE
        if cls.emergency:
            span = (deadline - start).total_seconds()
            if not late and span > 120:
                return start + dt.timedelta(seconds=int(span * rng.uniform(0.3, 0.95)))
            return max(deadline, start) + self._minutes(3, 90)
        left = cal.working_seconds_between(start, deadline)
        if not late and left > 120:
            return cal.add_working_seconds(start, int(left * rng.uniform(0.1, 0.95))).at
        limit = cal.limit_seconds(cls.amount, cls.unit)
        # Late work runs up to two and a half limits over: the overdue list has a long tail.
        over = 60 + int(limit * rng.uniform(0.05, 2.5))
        return cal.add_working_seconds(max(deadline, start), over).at

    # -- what and where --------------------------------------------------------------------
    def make(self, case_id: int, at: dt.datetime, source: str) -> tuple[dict, list[dict]]:
        """One case and its history."""
        rng, w = self.rng, self.world
        classes, cum = self.class_pick[source]
        cls = rng.choices(classes, cum_weights=cum)[0]
        town_cum = self.wet_town_cum if cls.minor_name == "道路积水/内涝" else self.town_cum
        town = rng.choices(w.towns, cum_weights=town_cum)[0]
        grid = town.pick_grid(rng)
        lat, lon = w.point_in(rng, grid)
        if cls.emergency:
            urgency = Urgency.EMERGENCY.value
        elif rng.random() < URGENT_SHARE.get(source, URGENT_DEFAULT):
            urgency = Urgency.URGENT.value
        else:
            urgency = Urgency.NORMAL.value
        road = rng.choice(ROADS)
        title, description = self._describe(source, cls, town, grid, road)
        reporter = reporter_phone = external_ref = None
        local_day = _local(at)
        if source in (Source.HOTLINE_12345, Source.WALK_IN, Source.ENTERPRISE):
            reporter, reporter_phone = _name(rng), _mobile(rng)
        if source == Source.HOTLINE_12345:
            external_ref = f"GD12345-{local_day:%Y%m%d}-{rng.randrange(10 ** 6):06d}"
        elif source in (Source.TRANSFER_110, Source.TRANSFER_119):
            external_ref = f"{source[-3:]}-{local_day:%Y%m%d}-{rng.randrange(10 ** 5):05d}"
        elif source == Source.ENTERPRISE:
            external_ref = f"QYZTC-{local_day:%Y%m%d}-{rng.randrange(10 ** 4):04d}"
        reporter_actor = self._reporter(source, town, at)
        row = {
            "id": case_id, "number": case_number(at, case_id), "city_id": w.city_id,
            "source": source, "state": State.PENDING_ACCEPT.value, "urgency": urgency,
            # Every channel arrives classified here (12345 work orders carry a category too),
            # so urgency "emergency" always matches an emergency class.
            "class_id": cls.id, "lat": lat, "lon": lon,
            "address": f"东莞市{town.name}{grid.place if grid.village_id else ''}{road}"
                       f"{rng.randint(1, 300)}号附近",
            "town_id": town.id, "village_id": grid.village_id, "grid_id": grid.id,
            "title": title, "description": description, "reporter_name": reporter,
            "reporter_phone": reporter_phone, "media_json": "[]", "external_ref": external_ref,
            "reported_at": at, "opened_at": None, "dispatched_at": None, "deadline_at": None,
            "deadline_estimated": False, "handled_at": None, "closed_at": None,
            "handled_on_time": None, "resolution": None, "assignee_department_id": None,
            "assignee_staff_id": None, "assignee_user_id": None, "created_by_id": reporter_actor.id,
            "extension_count": 0, "rework_count": 0, "pending_extension_json": None,
            "updated_at": at, "version": 1,
        }
        sim = _Sim(self, row, cls)
        sim.report(reporter_actor)
        self._walk(sim, self._plan(source, cls), town, grid, reporter_actor)
        if source == Source.INSPECTOR:
            key = (town.id, local_day.date())
            found = self.links.setdefault(key, [])
            if len(found) < 4:
                found.append((case_id, lat, lon, f"{grid.place}{cls.minor_name}"))
        return row, sim.history

    def _describe(self, source: str, cls: _Class, town: _Town, grid: _Grid,
                  road: str) -> tuple[str, str]:
        rng = self.rng
        lead = SOURCE_LEADS[Source(source)]
        if source == Source.VIDEO and town.cameras:
            lead = f"视频智能识别（{rng.choice(town.cameras)}）："
        elif source == Source.SENSOR:
            sensors = town.sensors["gas" if cls.minor_name == "燃气泄漏" else "water_level"]
            if sensors:
                lead = f"物联感知报警（{rng.choice(sensors)}）："
        elif source == Source.ENTERPRISE:
            lead += (f"东莞市{rng.choice(COMPANY_WORDS)}{rng.choice(COMPANY_TRADES)}有限公司反映，")
        place = grid.place if grid.village_id else f"{town.name}中心区"
        tail = rng.choice(HOTLINE_TAILS) if source == Source.HOTLINE_12345 else ""
        description = f"{lead}{place}{road}附近{cls.minor_name}，{rng.choice(cls.details)}。{tail}"
        return f"{place}{cls.minor_name}", description

    def _reporter(self, source: str, town: _Town, at: dt.datetime) -> _Actor:
        if source == Source.INSPECTOR:
            return self.cast.inspector(town)
        if source == Source.LEADER:
            return self.cast.chief
        return self.cast.duty_at(self.rng, at)  # the control room records every other channel

    def _plan(self, source: str, cls: _Class) -> _Plan:
        rng = self.rng
        plan = _Plan()
        fix = 0.0 if cls.emergency else FIX_ON_SPOT_SHARE.get(source, 0.0)
        roll = rng.random()
        if roll < fix:
            plan.path = "on_spot"
            plan.accept_first = rng.random() < 0.2
        elif roll < fix + VOID_SHARE.get(source, VOID_DEFAULT):
            plan.path = "void"
            plan.void_stage = rng.choices((0, 1, 2), cum_weights=(55, 85, 100))[0]
        else:
            plan.returned = rng.random() < RETURN_SHARE
            plan.reworked = rng.random() < REWORK_SHARE
            plan.rework_by_inspector = rng.random() < 0.7
            if not cls.emergency:
                plan.parked = rng.random() < PARK_SHARE
                plan.unparked = rng.random() < 0.5
                plan.extended = not plan.parked and rng.random() < EXTENSION_SHARE
        return plan

    def _assignee(self, town: _Town, grid: _Grid, cls: _Class,
                  wrong: bool) -> tuple[int, int | None, _Actor]:
        """Department, staff member and handling account of a dispatch. ``wrong`` picks a
        plausible but mistaken department (one that will return the case)."""
        rng, w = self.rng, self.world
        kind = cls.dept_kind
        if wrong:
            others = [k for k in ("enforcement", "sanitation", "municipal", "landscape", "water")
                      if k != kind and k in w.city_depts]
            kind = rng.choice(others) if others else kind
        if kind in TOWN_KINDS and kind in town.depts and rng.random() < TOWN_LEVEL_SHARE:
            handler = self.cast.handler(town, kind)
            staff_id = handler.staff_id
            if staff_id is None or kind != "enforcement":
                people = town.dept_staff.get(kind) or grid.members or town.staff
                staff_id = rng.choice(people).id
            return town.depts[kind], staff_id, handler
        dept = w.city_depts.get(kind) or w.city_depts["enforcement"]
        return dept, None, self.cast.handler(None, kind)

    # -- how it went -----------------------------------------------------------------------
    def _walk(self, sim: _Sim, plan: _Plan, town: _Town, grid: _Grid, reporter: _Actor) -> None:
        rng, cast, cls = self.rng, self.cast, sim.cls
        say = lambda key: rng.choice(OPINIONS[key])  # noqa: E731 - a one-line lookup
        t = sim.last
        night = _local(t).hour < 7
        pace = 0.4 if sim.row["urgency"] != Urgency.NORMAL.value else 2.0 if night else 1.0
        if cls.emergency:
            pace = 0.1

        if plan.path == "on_spot":
            if plan.accept_first:
                at = t + self._minutes(2, 20, pace)
                if (t := sim.accept(at, cast.duty_at(rng, at))) is None:
                    return
            fixer = reporter if reporter in cast.inspectors else (
                cast.fields[town.index] if town.index < len(cast.fields) else cast.inspector(town))
            sim.fix_on_spot(t + self._minutes(1, 20), fixer, say("on_spot"))
            return

        at = t + self._minutes(2, 25, pace)
        if plan.path == "void" and plan.void_stage == 0:
            sim.void(at, cast.duty_at(rng, at), say("void"))
            return
        if (t := sim.accept(at, cast.duty_at(rng, at))) is None:
            return
        at = t + self._minutes(3, 45, pace)
        if plan.path == "void" and plan.void_stage == 1:
            sim.void(at, cast.duty_at(rng, at), say("void"))
            return
        if (t := sim.open(at, cast.leader_at(at), say("open"))) is None:
            return
        at = t + self._minutes(5, 60, pace)
        if plan.path == "void":
            sim.void(at, cast.leader_at(at), say("void"))
            return

        order = say("dispatch_emergency") if cls.emergency else say("dispatch")
        dept, staff, handler = self._assignee(town, grid, cls, wrong=plan.returned)
        if (t := sim.dispatch(at, cast.dispatcher_at(at), dept, staff, handler.id, order)) is None:
            return
        if plan.returned:
            at = t + self._minutes(3, 15) if cls.emergency else self._work_after(t, 0.3, 3.0)
            if (t := sim.return_(at, handler, say("return"))) is None:
                return
            at = t + self._minutes(10, 90, pace)
            dept, staff, handler = self._assignee(town, grid, cls, wrong=False)
            t = sim.dispatch(at, cast.dispatcher_at(at), dept, staff, handler.id, order)
            if t is None:
                return
        if plan.parked:
            at = self._work_after(t, 2, 16)
            if (t := sim.park(at, cast.leader_at(at), say("park"))) is None or not plan.unparked:
                return
            at = t + dt.timedelta(seconds=rng.randrange(7 * 86400, 40 * 86400))
            if (t := sim.unpark(at, cast.leader_at(at), say("unpark"))) is None:
                return
        if plan.extended:
            left = self.cal.working_seconds_between(t, sim.row["deadline_at"])
            at = self.cal.add_working_seconds(t, max(600, int(left * rng.uniform(0.3, 0.8)))).at
            amount, unit = (rng.choice((2, 3, 5)), "work_days") if cls.unit == "work_days" \
                else (rng.choice((4, 8)), "work_hours")
            if (t := sim.request_extension(at, handler, amount, unit, say("extension"))) is None:
                return
            at = t + self._minutes(20, 240)
            if (t := sim.approve_extension(at, cast.leader_at(at), say("approve"))) is None:
                return

        for round_ in range(2 if plan.reworked else 1):
            at = self._handled_at(t, sim.row["deadline_at"], cls)
            if (t := sim.feedback(at, handler, say("feedback"))) is None:
                return
            # Inspectors check on site within about a working day; emergencies the same day.
            at = t + self._minutes(20, 180) if cls.emergency else self._work_after(t, 0.5, 8.0)
            inspector = cast.inspector(town)
            if round_ == 0 and plan.reworked and plan.rework_by_inspector:
                if (t := sim.rework(at, inspector, say("rework"))) is None:
                    return
                continue
            if (t := sim.verify(at, inspector, say("verify"))) is None:
                return
            at = t + self._minutes(10, 720)  # shift leaders close in batches
            if round_ == 0 and plan.reworked:  # the shift leader sends it back at closing
                if (t := sim.rework(at, cast.leader_at(at), say("rework"))) is None:
                    return
                continue
            sim.close(at, cast.leader_at(at), say("close"))


def _build_cases(session: Session, maker: _CaseMaker, total: int,
                 say: Callable[[str], None]) -> int:
    """Generate and insert ``total`` cases in chunks; return the number of history rows."""
    cases_table, history_table = Case.__table__, CaseHistory.__table__
    world = maker.world
    case_rows: list[dict] = []
    history_rows: list[dict] = []
    written = 0

    def flush() -> None:
        nonlocal written
        if case_rows:
            session.execute(insert(cases_table), case_rows)
            _insert(session, history_table, history_rows)
            written += len(history_rows)
            case_rows.clear()
            history_rows.clear()

    for done, (at, source) in enumerate(maker.timeline(total), 1):
        row, history = maker.make(world.next_id("case"), at, source)
        case_rows.append(row)
        history_rows.extend(history)
        if len(case_rows) >= CHUNK:
            flush()
        if done % 10_000 == 0:
            say(f"案件 {done:,}/{total:,}")
    flush()
    return written


# =============================================================================================
# Black spots and inspections ("一必检、三随机")
# =============================================================================================

def _build_spots_and_inspections(session: Session, w: _World,
                                 links: dict[tuple[int, dt.date], list]) -> tuple[int, int, int]:
    rng = _rng(w.seed, "inspections")
    cal = w.calendar
    first = _local(w.now - dt.timedelta(days=w.days)).date()
    today = _local(w.now).date()
    inspectors = [a.staff_id for a in w.cast.inspectors if a.staff_id is not None] or \
        [p.id for p in w.people[:20]]
    quality = {t.id: rng.uniform(74, 92) for t in w.towns}  # how well kept each town is

    inspections: list[dict] = []
    visits: list[tuple[dict, _Grid]] = []
    monday = first - dt.timedelta(days=first.weekday())
    while monday <= today:
        week = [monday + dt.timedelta(days=k) for k in range(5)]
        for town in w.towns:
            open_days = [d for d in week if first <= d <= today and cal.is_workday(d)[0]]
            if not open_days:
                continue
            day = rng.choice(open_days)
            centre = town.grids[0]
            picks = rng.sample(town.grids[1:], min(3, len(town.grids) - 1))
            for kind, grid in [("mandatory", centre)] + [("random", g) for g in picks]:
                scores = {}
                for key, bias in (("score_cleanliness", 0), ("score_six_disorders", -3),
                                  ("score_landscaping", 1), ("score_facilities", 0),
                                  ("score_gas_safety", 4)):
                    score = rng.gauss(quality[town.id] + bias, 6)
                    scores[key] = round(min(100.0, max(60.0, score)), 1)
                row = {"id": w.next_id("inspection"), "kind": kind, "town_id": town.id,
                       "village_id": grid.village_id, "inspected_on": day,
                       "inspector_id": rng.choice(inspectors),
                       "notes": ("一必检：" if kind == "mandatory" else "三随机：") + grid.place,
                       **scores}
                inspections.append(row)
                visits.append((row, grid))
        monday += dt.timedelta(days=7)
    _insert(session, Inspection.__table__, inspections)

    # The first batch of black spots comes from the first weeks' inspections.
    early_end = first + dt.timedelta(days=max(7, min(21, w.days // 3)))
    early = [v for v in visits if v[0]["inspected_on"] <= early_end] or visits
    spots, findings = [], []
    removed = set(rng.sample(range(BLACK_SPOTS), BLACK_SPOTS_REMOVED))  # membership only
    category_cum = _cum([weight for _, weight in SPOT_CATEGORIES])
    for n in range(BLACK_SPOTS if early else 0):
        visit, grid = rng.choice(early)
        town = grid.town
        category = rng.choices([c for c, _ in SPOT_CATEGORIES], cum_weights=category_cum)[0]
        name = _spot_name(rng, category, town, grid)
        found = min(_from_local(visit["inspected_on"], rng.randrange(9 * 3600, 17 * 3600)),
                    w.now - dt.timedelta(hours=2))
        lat, lon = w.point_in(rng, grid)
        gone = None
        if n in removed:
            gone = min(found + dt.timedelta(seconds=rng.randrange(6 * 86400, 33 * 86400)),
                       w.now - dt.timedelta(hours=1))
            gone = gone if gone > found else None
        spot_id = w.next_id("black_spot")
        spots.append({
            "id": spot_id, "code": f"DG-HD-{_local(found):%Y%m}-{n + 1:03d}", "name": name,
            "category": category, "town_id": town.id, "village_id": grid.village_id,
            "lat": lat, "lon": lon, "description": rng.choice(SPOT_PROBLEMS),
            "status": "removed" if gone else "active", "found_at": found, "removed_at": gone,
            "last_recheck_at": gone,
            "failed_rechecks": 0 if gone or rng.random() < 0.6 else 1})
        findings.append({"id": w.next_id("inspection_finding"), "inspection_id": visit["id"],
                         "black_spot_id": spot_id, "case_id": None,
                         "description": f"黑点：{name}，{spots[-1]['description']}",
                         "lat": lat, "lon": lon})
    _insert(session, BlackSpot.__table__, spots)

    for visit, grid in visits:
        candidates = links.get((grid.town.id, visit["inspected_on"]), [])
        for _ in range(rng.choices((0, 1, 2, 3), cum_weights=(35, 70, 90, 100))[0]):
            if candidates and rng.random() < 0.5:  # the finding was also reported as a case
                case_id, lat, lon, what = candidates.pop()
                description = what
            else:
                case_id, (lat, lon) = None, w.point_in(rng, grid)
                description = f"{grid.place}{rng.choice(FINDING_PROBLEMS)}"
            findings.append({"id": w.next_id("inspection_finding"), "inspection_id": visit["id"],
                             "black_spot_id": None, "case_id": case_id,
                             "description": description, "lat": lat, "lon": lon})
    _insert(session, InspectionFinding.__table__, findings)
    return len(spots), len(inspections), len(findings)


def _spot_name(rng: random.Random, category: str, town: _Town, grid: _Grid) -> str:
    place = grid.place if grid.village_id else f"{town.name}中心区"
    if category == "village":
        return f"{place}{rng.choice(('背街小巷', '出租屋聚集区', '垃圾收集点周边', '城中村巷道'))}"
    if category == "road":
        a, b = rng.sample(ROADS, 2)
        return f"{town.name}{a}（{b}路口段）"
    if category == "market":
        return f"{town.name}{place.removeprefix(town.name)}农贸市场"
    if category == "park":
        return f"{town.name}{rng.choice(('文化广场', '体育公园', '滨河公园', '中心公园'))}"
    return f"{place}{rng.choice(('公厕', '垃圾转运站'))}"


# =============================================================================================
# Finishing
# =============================================================================================

def _finish(session: Session, w: _World, **counts: int) -> None:
    setting = session.get(AppSetting, DEMO_SETTING)
    value = json.dumps({"seed": w.seed, "cases": counts["cases"], "days": w.days,
                        "now": w.now.isoformat(), "built_at": utcnow().isoformat()})
    if setting is None:
        session.add(AppSetting(key=DEMO_SETTING, value_json=value))
    else:
        setting.value_json, setting.updated_at, setting.updated_by_id = value, utcnow(), None
    # One audit row for the whole build, not one per case: the demo is invented history, not
    # work anybody did in this system, and 100,000 audit rows would bury the real ones.
    audit(session, w.admin, "demo.build", "demo", None,
          {"seed": w.seed, "days": w.days, "now": w.now.isoformat(), "staff": len(w.people),
           "grids": len(w.grids), **counts})
    feed.publish(session, "*", [None], op=feed.RELOAD)
    if session.get_bind().dialect.name == "postgresql":
        # Ids were set here, so the sequences never moved: bring them up to the rows.
        for model in _ID_TABLES:
            name = f'"{model.__tablename__}"'
            session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {name}), 1), "
                f"(SELECT max(id) FROM {name}) IS NOT NULL)"))


__all__ = ["DEMO_ACCOUNTS", "DEMO_PASSWORD", "DemoRefused", "DemoStats", "build_demo"]
