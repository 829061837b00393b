"""A few months of tickets with their thread and status history, written in bulk batches."""

from __future__ import annotations

import bisect
import datetime as dt
import random
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from aftersales.assets.models import add_months
from aftersales.core.models import TeamKind, User
from aftersales.tickets.lifecycle import FINAL_STATUSES, WORKING_STAGES, TicketStatus
from aftersales.tickets.models import Tag, Ticket, TicketMessage, TicketStatusChange

from . import catalogue as cat
from .catalogue import DEMO_DOMAIN
from .customers import TICKET_WEIGHT, CustomerInfo
from .lifecycle import plan_hours, plan_path
from .organisation import Organisation
from .promises import LATE_SHARE, Promises, plan_moments

S = TicketStatus
REPLY, NOTE, EVENT = TicketMessage.Kind.REPLY, TicketMessage.Kind.NOTE, TicketMessage.Kind.EVENT

TYPE_WEIGHTS = {
    "repair": 40,
    "consultation": 18,
    "installation": 15,
    "maintenance": 10,
    "complaint": 6,
    "return_exchange": 7,
    "upgrade": 4,
}
TYPE_LABEL = {
    "repair": "报修",
    "consultation": "咨询",
    "installation": "安装预约",
    "maintenance": "保养预约",
    "complaint": "投诉",
    "return_exchange": "退换货申请",
    "upgrade": "升级申请",
}
TEAM_FOR_TYPE = {
    "repair": TeamKind.REPAIR_SERVICE,
    "installation": TeamKind.REPAIR_SERVICE,
    "maintenance": TeamKind.REPAIR_SERVICE,
    "consultation": TeamKind.CUSTOMER_SERVICE,
    "complaint": TeamKind.CUSTOMER_RELATIONS,
    "return_exchange": TeamKind.SPARE_PARTS,
    "upgrade": TeamKind.TECHNICAL_SUPPORT,
}
NEXT_STEP = {
    TeamKind.REPAIR_SERVICE: "我们将安排就近的维修师傅与您联系。",
    TeamKind.TECHNICAL_SUPPORT: "技术支持工程师会尽快与您联系。",
    TeamKind.CUSTOMER_SERVICE: "客服专员正在为您查询。",
    TeamKind.CUSTOMER_RELATIONS: "客户关系专员会在 24 小时内给您回电。",
    TeamKind.SPARE_PARTS: "我们正在核实订单并安排备件。",
}
CHANNELS = (
    ("phone", 35),
    ("wechat", 20),
    ("chat", 14),
    ("app", 10),
    ("web", 10),
    ("email", 5),
    ("social", 4),
    ("api", 2),
)
PRIORITIES = (("urgent", 4), ("high", 18), ("normal", 63), ("low", 15))
# Tickets per hour of the day (Beijing time): the hotline is busiest mid-morning and afternoon.
HOURLY = (1, 0.5, 0.3, 0.3, 0.3, 0.5, 1, 3, 6, 9, 10, 9, 7, 8, 9, 9, 8, 7, 6, 6, 5, 4, 3, 2)
_HOURLY_CDF = [0.0, *accumulate(w / sum(HOURLY) for w in HOURLY)]
BEIJING = dt.timezone(dt.timedelta(hours=8))


def share_of_day_before(hours: float) -> float:
    """The share of a day's tickets that arrive before ``hours`` since midnight."""
    hour = min(int(hours), 23)
    return _HOURLY_CDF[hour] + (min(hours, 24.0) - hour) * (_HOURLY_CDF[hour + 1] - _HOURLY_CDF[hour])


def hour_of_day(fraction: float) -> float:
    """Invert the hourly distribution: a uniform fraction of the day → hours since midnight."""
    hour = min(bisect.bisect_right(_HOURLY_CDF, fraction) - 1, 23)
    span = _HOURLY_CDF[hour + 1] - _HOURLY_CDF[hour]
    return hour + (fraction - _HOURLY_CDF[hour]) / span


def join_without_repeat(head: str, tail: str) -> str:
    """``head`` + ``tail`` without saying the overlapping word twice: 马桶 + 马桶堵塞 → 马桶堵塞,
    厨房龙头 + 龙头滴水 → 厨房龙头滴水 (a customer does not write "马桶马桶堵塞")."""
    for size in range(min(len(head), len(tail)), 1, -1):
        if head.endswith(tail[:size]):
            return head + tail[size:]
    return head + tail


@dataclass
class Batch:
    tickets: list[Ticket]
    changes: list[TicketStatusChange]
    messages: list[TicketMessage]
    tags: list[tuple[Ticket, Tag]]


RECENT = dt.timedelta(days=5)
RECENT_SLOWDOWN = 3.0
DEMO_SHARE = 0.3
DEMO_AGENT_SHARE = 0.6  # consultations close within hours, so the agent needs a larger share


class TicketMaker:
    """Generates ticket ``i`` of ``total`` deterministically from one random stream."""

    def __init__(
        self,
        *,
        rng: random.Random,
        org: Organisation,
        customers: list[CustomerInfo],
        total: int,
        first_number: int,
        anchor: dt.datetime,
        days: int,
        tags: dict[str, Tag],
        promises: Promises | None = None,
    ) -> None:
        self.promises = promises
        self.rng, self.org, self.customers, self.total = rng, org, customers, total
        self.first_number, self.days, self.tags = first_number, days, tags
        self.anchor = anchor.astimezone(dt.UTC)
        # The window starts at a Beijing midnight so the hourly shape lines up with local time.
        start_local = (anchor - dt.timedelta(days=days)).astimezone(BEIJING)
        self.start = start_local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)
        # The tickets run up to the anchor itself: whole days, then today's share until now.
        anchor_local = anchor.astimezone(BEIJING)
        into_today = anchor_local - anchor_local.replace(hour=0, minute=0, second=0, microsecond=0)
        self.span_days = days + share_of_day_before(into_today.total_seconds() / 3600)
        self.cum_weights = list(
            accumulate(TICKET_WEIGHT[c.tier] * (4 if c.is_company else 1) for c in customers)
        )
        self.portal_customer = next((c for c in customers if c.portal_user_id), None)
        self.demo_every = max(total // 8, 1)
        self.users: dict[int, User] = {}
        # The people a visitor signs in as get a share of the recent, still open work, so
        # their "mine" queue shows what a working day looks like.
        everyone = [user for group in [*org.members.values(), *org.technicians.values()] for user in group]
        self.demo_agent = next((u for u in everyone if u.username == f"agent@{DEMO_DOMAIN}"), None)
        self.demo_technician = next((u for u in everyone if u.username == f"technician@{DEMO_DOMAIN}"), None)
        for group in [*org.members.values(), *org.technicians.values()]:
            for user in group:
                self.users[user.pk] = user

    def created_at(self, index: int) -> dt.datetime:
        position = (index + self.rng.random()) / self.total * self.span_days
        day = int(position)
        created = self.start + dt.timedelta(days=day, hours=hour_of_day(position - day))
        return min(created, self.anchor - dt.timedelta(minutes=1))

    def _pick(self, pairs: tuple[tuple[str, int], ...]) -> str:
        return self.rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]

    def _assignee(self, team_kind: str, customer: CustomerInfo) -> User:
        if team_kind == TeamKind.REPAIR_SERVICE:
            place = self.org.places[customer.place_index]
            local = self.org.technicians.get(place.city.code) or self.org.technicians_by_area[place.area_code]
            return self.rng.choice(local)
        return self.rng.choice(self.org.members[team_kind])

    def batch(self, start: int, stop: int) -> Batch:
        result = Batch([], [], [], [])
        for index in range(start, stop):
            self._one(index, result)
        return result

    def _texts(
        self, ticket_type: str, customer: CustomerInfo, created: dt.datetime
    ) -> tuple[str, str, dict[str, str]]:
        """Subject, description and the words later messages reuse (fault cause and fix)."""
        rng = self.rng
        owned = rng.choice(customer.products) if customer.products else None
        if ticket_type == "installation" or owned is None:
            product = rng.choices(cat.PRODUCTS, weights=[p.weight for p in cat.PRODUCTS])[0]
        else:
            product = cat.PRODUCTS[owned.product_index]
        words = {
            "short": product.short,
            "model": f"{cat.BRAND}{product.name}",
            "floor": rng.choice(cat.FLOORS),
            "count": str(rng.randint(12, 80)),
            "warranty": str(product.warranty_months),
            "purchased": "",
            "warranty_state": "",
            "serial": "",
            "cause": "",
            "fix": "",
            "leak": "",
        }
        if owned is not None and ticket_type != "installation":
            words["serial"] = owned.serial_number
            words["purchased"] = f"{owned.purchased_on:%Y年%m月}"
            in_warranty = created.date() < add_months(owned.purchased_on, product.warranty_months)
            words["warranty_state"] = "仍在保修期内" if in_warranty else "已过保修期"
        if ticket_type == "repair":
            symptom, cause, fix, leaks = rng.choice(cat.FAULTS[product.category])
            words.update(cause=cause, fix=fix, leak="1" if leaks else "")
            subject = join_without_repeat(product.short, symptom)
            description = f"{symptom}，{rng.choice(cat.SINCE)}。型号：{words['model']}"
            if words["serial"]:
                description += (
                    f"，序列号 {words['serial']}，{words['purchased']}购买，{words['warranty_state']}"
                )
            description += f"。{rng.choice(cat.EXTRAS)}"
            return subject, description, words
        table = {
            "consultation": cat.CONSULTATIONS,
            "complaint": cat.COMPLAINTS,
            "installation": cat.INSTALLATIONS,
            "maintenance": cat.MAINTENANCES,
            "return_exchange": cat.RETURNS,
            "upgrade": cat.UPGRADES,
        }[ticket_type]
        if ticket_type == "consultation":
            table = tuple(t for t in table if len(t) < 4 or product.category in t[3])
        template: tuple[Any, ...] = rng.choice(table)
        if ticket_type == "consultation":
            words["fix"] = str(template[2]).format(**words)
        return str(template[0]).format(**words), str(template[1]).format(**words), words

    def _one(self, index: int, out: Batch) -> None:  # noqa: C901 - one ticket's story, read top to bottom
        rng = self.rng
        created = self.created_at(index)
        if self.portal_customer is not None and index % self.demo_every == 3:
            customer = self.portal_customer
        else:
            customer = rng.choices(self.customers, cum_weights=self.cum_weights)[0]
        ticket_type = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]
        subject, description, words = self._texts(ticket_type, customer, created)
        priority = self._pick(PRIORITIES)
        if words["leak"] and priority in ("normal", "low"):
            priority = "high" if rng.random() < 0.7 else "urgent"
        if ticket_type == "complaint" and priority == "low":
            priority = "high"
        channel = self._pick(CHANNELS)
        team_kind = TEAM_FOR_TYPE[ticket_type]
        if ticket_type == "repair" and words["short"].startswith("智能") and rng.random() < 0.15:
            team_kind = TeamKind.TECHNICAL_SUPPORT
        intake = rng.choice(self.org.members[TeamKind.CUSTOMER_SERVICE])
        recent = self.anchor - created < RECENT
        if recent and self.demo_agent is not None and rng.random() < DEMO_AGENT_SHARE:
            intake = self.demo_agent
        assignee = intake if team_kind == TeamKind.CUSTOMER_SERVICE else self._assignee(team_kind, customer)
        if (
            recent
            and team_kind == TeamKind.REPAIR_SERVICE
            and self.demo_technician
            and rng.random() < DEMO_SHARE
        ):
            assignee = self.demo_technician

        path = plan_path(rng, ticket_type)
        hours, auto_closed = plan_hours(rng, path, priority, channel)
        if recent:
            # This week's work is still in the pipeline (parts on order, visits booked).
            hours = [spent * RECENT_SLOWDOWN for spent in hours]
        promises = (
            self.promises.for_ticket(
                ticket_type=ticket_type, priority=priority, tier=customer.tier, channel=channel
            )
            if self.promises is not None
            else None
        )
        moments = plan_moments(
            rng=rng,
            path=path,
            hours=hours,
            created=created,
            anchor=self.anchor,
            promises=promises,
            on_time=rng.random() >= LATE_SHARE,
        )
        path = path[: len(moments)]
        status = path[-1]

        ticket = Ticket(
            number=f"T{self.first_number + index:07d}",
            subject=subject[:200],
            description=description,
            type=ticket_type,
            channel=channel,
            priority=priority,
            status=status,
            customer_id=customer.id,
            customer_tier=customer.tier,
            contact_id=customer.contact_id,
            region_id=customer.region_id,
            team=self.org.teams[team_kind],
            created_by=intake if channel == "phone" else None,
            created_at=created,
            status_changed_at=moments[-1],
            updated_at=moments[-1],
            version=len(path),
        )
        if words["serial"]:
            ticket.installed_product_id = next(
                p.id for p in customer.products if p.serial_number == words["serial"]
            )
        out.tickets.append(ticket)
        customer_user = self.users.get(customer.portal_user_id or 0) if customer.portal_user_id else None
        reached_work = False
        previous = ""
        for step, (to_status, moment) in enumerate(zip(path, moments, strict=True)):
            actor: User | None = assignee
            author: User | None = assignee
            body, kind, from_customer = "", REPLY, False
            if step == 0:
                actor = ticket.created_by
            elif to_status == S.ACCEPTED and not reached_work:
                actor = author = intake
                body = f"您好，您的{TYPE_LABEL[ticket_type]}已受理，工单号 {ticket.number}。{NEXT_STEP[team_kind]}"
            elif to_status == S.WAITING_ON_CUSTOMER:
                actor = author = assignee if reached_work else intake
                body = rng.choice(
                    (
                        "您好，请补充产品照片和购买凭证，方便我们判断。",
                        "请问您哪天方便师傅上门？",
                        "请确认一下产品铭牌上的型号和序列号。",
                    )
                )
            elif previous == S.WAITING_ON_CUSTOMER:
                actor, author, from_customer = None, customer_user, True
                body = rng.choice(
                    ("照片和发票已经上传了。", "周六上午在家，可以上门。", "型号和序列号已经拍给你们了。")
                )
            elif to_status == S.DIAGNOSING:
                kind = NOTE
                body = f"初步判断：{words['cause']}。" if words["cause"] else "已核实订单、物流和安装记录。"
            elif to_status == S.SOLUTION_PROPOSED:
                fee = (
                    "在保修期内，免费处理。"
                    if words["warranty_state"] != "已过保修期"
                    else "已过保修期，按收费标准收取上门费 50 元及配件费。"
                )
                body = (
                    f"处理方案：{words['fix']}。{fee}" if words["fix"] else f"处理方案已发给您，请查收。{fee}"
                )
            elif to_status == S.IN_SERVICE:
                day = (moment + dt.timedelta(days=1)).astimezone(BEIJING)
                body = f"已安排{assignee.display_name}师傅{day:%m月%d日}{rng.choice(('上午', '下午'))}上门，请保持电话畅通。"
            elif to_status == S.RESOLVED:
                # A repair's fix is a verb phrase ("更换进水阀"), a consultation's a sentence.
                fix = words["fix"].rstrip("。")
                if not fix:
                    body = "已处理完毕，请您确认，如有问题随时联系我们。"
                elif fix.startswith(("已", "您", "可", "建议")):
                    body = f"{fix}。问题已处理，请您确认。"
                else:
                    body = f"已{fix}，问题已处理，请您确认。"
            elif to_status == S.REOPENED:
                actor, author, from_customer = intake, customer_user, True
                body = "问题又出现了，麻烦再来看看。"
                ticket.reopened_count += 1
                ticket.resolved_at = None
            elif to_status == S.CLOSED:
                actor = customer_user if not auto_closed else None
                ticket.closed_at, ticket.close_reason = moment, "auto_closed" if auto_closed else "confirmed"
                if auto_closed:
                    kind, author, body = EVENT, None, "客户 7 天未回复，工单自动关闭。"
                elif rng.random() < 0.5:
                    author, from_customer, body = customer_user, True, "已经好了，谢谢！"
            elif to_status == S.CANCELLED:
                actor = author = intake
                kind, ticket.close_reason = NOTE, "cancelled"
                body = "客户来电取消：" + rng.choice(("问题已自行解决", "已找其他师傅处理", "重复提交"))
            if to_status == S.RESOLVED:
                ticket.resolved_at = moment
            if step > 0 and previous == S.NEW and ticket.first_responded_at is None:
                ticket.first_responded_at = moment
            reached_work = reached_work or to_status in WORKING_STAGES
            out.changes.append(
                TicketStatusChange(
                    ticket=ticket,
                    from_status=previous,
                    to_status=to_status,
                    occurred_at=moment,
                    actor=actor,
                    from_status_entered_at=moments[step - 1] if step else None,
                )
            )
            if body:
                out.messages.append(
                    TicketMessage(
                        ticket=ticket,
                        kind=kind,
                        author=author,
                        body=body,
                        is_from_customer=from_customer,
                        created_at=moment,
                        channel=channel if kind == REPLY else "",
                    )
                )
            previous = to_status
        if reached_work:
            ticket.assignee = assignee
        if status == S.WAITING_ON_CUSTOMER and len(path) > 1 and path[-2] in WORKING_STAGES | {S.NEW}:
            ticket.resume_status = path[-2]
        if status in FINAL_STATUSES and status == S.CANCELLED:
            ticket.closed_at = None
        self._tag(ticket, customer, words, out)

    def _tag(self, ticket: Ticket, customer: CustomerInfo, words: dict[str, str], out: Batch) -> None:
        names = []
        if words["leak"]:
            names.append("漏水")
        if customer.tier == "high_value" and self.rng.random() < 0.5:
            names.append("VIP客户")
        if ticket.reopened_count:
            names.append("二次上门")
        if ticket.type == "installation" and words["count"] and "工程" in ticket.subject:
            names.append("批量工程")
        if ticket.priority == "urgent" and self.rng.random() < 0.5:
            names.append("加急")
        out.tags.extend((ticket, self.tags[name]) for name in names)
