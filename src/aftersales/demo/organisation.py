"""Regions, teams, staff and product models of the demo company (small, fixed, idempotent)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password

from aftersales.assets.models import ProductModel
from aftersales.core.models import Region, Team, TeamKind, User
from aftersales.core.roles import Role

from .catalogue import AREAS, DEMO_DOMAIN, DEMO_PASSWORD, GIVEN, PRODUCTS, SURNAMES, TEAMS, City, Product


@dataclass
class Place:
    """A city customers live in, with its region row and where it is."""

    city: City
    area_code: str
    region: Region

    @property
    def latitude(self) -> Decimal:
        return Decimal(str(self.city.latitude))

    @property
    def longitude(self) -> Decimal:
        return Decimal(str(self.city.longitude))


@dataclass
class Organisation:
    places: list[Place] = field(default_factory=list)
    teams: dict[str, Team] = field(default_factory=dict)
    members: dict[str, list[User]] = field(default_factory=dict)  # team kind → who works its tickets
    technicians: dict[str, list[User]] = field(default_factory=dict)  # city code → technicians
    technicians_by_area: dict[str, list[User]] = field(default_factory=dict)
    products: list[tuple[Product, ProductModel]] = field(default_factory=list)
    admin: User | None = None
    supervisor: User | None = None
    portal_user: User | None = None
    logins: list[tuple[str, str]] = field(default_factory=list)  # (username, what it shows)


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def mobile_number(rng: random.Random) -> str:
    return f"1{rng.choice('358')}{rng.randrange(10)}{rng.randrange(10**8):08d}"


def _region(code: str, name: str, name_en: str, level: str, parent: Region | None) -> Region:
    region, _created = Region.objects.get_or_create(
        code=code, defaults={"name": name, "name_en": name_en, "level": level, "parent": parent}
    )
    return region


def build_regions() -> list[Place]:
    places: list[Place] = []
    for area in AREAS:
        area_region = _region(area.code, area.name, area.name_en, Region.Level.AREA, None)
        for province in area.provinces:
            province_region = _region(
                province.code, province.name, province.name_en, Region.Level.PROVINCE, area_region
            )
            if province.municipality is not None:
                places.append(Place(province.municipality, area.code, province_region))
            for city in province.cities:
                city_region = _region(city.code, city.name, city.name_en, Region.Level.CITY, province_region)
                places.append(Place(city, area.code, city_region))
    return places


class _StaffMaker:
    def __init__(self, rng: random.Random, password_hash: str) -> None:
        self.rng = rng
        self.password_hash = password_hash

    def user(
        self,
        login: str,
        role: str,
        *,
        name: str | None = None,
        skills: list[str] | None = None,
        regions: list[Region] | None = None,
        superuser: bool = False,
    ) -> User:
        username = f"{login}@{DEMO_DOMAIN}"
        display_name = name or person_name(self.rng)
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "email": username,
                "role": role,
                "display_name": display_name,
                "password": self.password_hash,
                "first_name": display_name[1:],
                "last_name": display_name[:1],
                "skills": skills or [],
                "is_staff": superuser,
                "is_superuser": superuser,
                "preferred_language": "zh-hans",
                "phone": mobile_number(self.rng),
            },
        )
        if created and regions:
            user.regions.set(regions)
        return user


def build_organisation(*, rng: random.Random, places: list[Place]) -> Organisation:
    org = Organisation(places=places)
    make = _StaffMaker(rng, make_password(DEMO_PASSWORD))
    all_areas = list(Region.objects.filter(level=Region.Level.AREA, code__in=[a.code for a in AREAS]))
    for code, name, name_en, kind in TEAMS:
        team, _created = Team.objects.get_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "kind": kind}
        )
        team.regions.add(*all_areas)
        org.teams[kind] = team
        org.members[kind] = []

    org.admin = make.user("admin", Role.ADMIN, name="系统管理员", superuser=True)
    org.supervisor = make.user("supervisor", Role.SUPERVISOR, name="周敏")
    org.logins += [
        (org.admin.username, "管理员 · administrator"),
        (org.supervisor.username, "服务总监 · supervisor of every team"),
    ]
    for code, _name, _name_en, kind in TEAMS:
        lead = make.user(f"{code}-lead", Role.SUPERVISOR)
        team = org.teams[kind]
        if team.lead_id is None:
            team.lead = lead
            team.save(update_fields=["lead"])
        team.members.add(lead)

    def staff(
        kind: str,
        logins: list[str],
        role: str,
        skills: list[str] | None = None,
        regions: list[Region] | None = None,
    ) -> list[User]:
        users = [make.user(login, role, skills=skills, regions=regions) for login in logins]
        org.teams[kind].members.add(*users)
        org.members[kind].extend(users)
        return users

    categories = sorted({p.category for p in PRODUCTS})
    agents = staff(TeamKind.CUSTOMER_SERVICE, ["agent"] + [f"agent{n:02d}" for n in range(2, 9)], Role.AGENT)
    staff(TeamKind.TECHNICAL_SUPPORT, [f"support{n:02d}" for n in range(1, 5)], Role.AGENT, skills=categories)
    clerks = staff(TeamKind.SPARE_PARTS, ["parts", "parts02"], Role.PARTS_CLERK)
    staff(TeamKind.CUSTOMER_RELATIONS, [f"relations{n:02d}" for n in range(1, 4)], Role.AGENT)

    number = 1
    for place in places:
        for _ in range(1 + place.city.weight // 6):
            login = "technician" if number == 1 else f"tech{number:02d}"
            skills = sorted(rng.sample(categories, k=rng.randint(3, 6)))
            technician = staff(
                TeamKind.REPAIR_SERVICE, [login], Role.TECHNICIAN, skills=skills, regions=[place.region]
            )[0]
            org.technicians.setdefault(place.city.code, []).append(technician)
            org.technicians_by_area.setdefault(place.area_code, []).append(technician)
            number += 1

    org.logins += [
        (agents[0].username, "客服坐席 · agent"),
        (org.technicians["shanghai"][0].username, "上海维修技师 · technician"),
        (clerks[0].username, "备件管理员 · parts clerk"),
    ]

    org.portal_user = make.user("customer", Role.CUSTOMER, name="林晓雨")
    org.logins.append((org.portal_user.username, "客户门户 · customer portal (林晓雨, 上海)"))

    for product in PRODUCTS:
        model, _created = ProductModel.objects.get_or_create(
            code=product.code,
            defaults={
                "name": product.name,
                "name_en": product.name_en,
                "category": product.category,
                "warranty_months": product.warranty_months,
            },
        )
        org.products.append((product, model))
    return org
