"""Realistic, deterministic demo data shared by both sandboxes.

Person i is the same person in both vendors (same name and e-mail), so a seeded pair of
sandboxes has overlapping contacts to match by e-mail, plus people who exist on one side only.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

FIRST_NAMES = [
    "Ana",
    "Ben",
    "Chloé",
    "Daniel",
    "Elif",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kara",
    "Luis",
    "Maya",
    "Noah",
    "Olga",
    "Pedro",
    "Qi",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Amara",
    "Bruno",
    "Camille",
    "Dev",
    "Emma",
    "Felix",
    "Gianna",
    "Hugo",
    "Isla",
    "Jamal",
    "Kenji",
    "Lena",
    "Mateo",
    "Nadia",
    "Oscar",
    "Priya",
]
LAST_NAMES = [
    "Silva",
    "Müller",
    "Diaz",
    "Okafor",
    "Kowalski",
    "Nguyen",
    "Smith",
    "Tanaka",
    "Rossi",
    "Haddad",
    "Johansson",
    "O'Brien",
    "Garcia",
    "Novak",
    "Patel",
    "Kim",
    "Dubois",
    "Larsen",
    "Costa",
    "Schmidt",
    "Ivanova",
    "Moreau",
    "Yilmaz",
    "Brown",
    "Fischer",
    "Santos",
    "Chen",
    "Andersen",
    "Murphy",
    "Reyes",
    "Weber",
    "Sato",
    "Bianchi",
    "Ali",
    "Jensen",
    "Lopez",
]
COMPANY_STEMS = [
    "Contoso",
    "Fabrikam",
    "Northwind",
    "Adventure Works",
    "Tailspin",
    "Wingtip",
    "Litware",
    "Proseware",
    "Woodgrove",
    "Alpine Ski House",
    "Blue Yonder",
    "Coho Winery",
    "Fourth Coffee",
    "Humongous Insurance",
    "Lucerne Publishing",
    "Margie's Travel",
    "Trey Research",
    "Wide World Importers",
    "Graphic Design Institute",
    "City Power & Light",
    "School of Fine Art",
    "VanArsdel",
    "Relecloud",
    "Datum",
    "Southridge Video",
    "Nod Publishers",
    "Bellows College",
]
COMPANY_SUFFIXES = ["Ltd", "Inc", "GmbH", "SA", "BV", "Group", "Partners", "Labs", "AB", "Oy"]
JOB_TITLES = [
    "Marketing Manager",
    "Head of Sales",
    "CFO",
    "Procurement Lead",
    "Office Manager",
    "Product Manager",
    "IT Director",
    "Operations Analyst",
    "CEO",
    "Account Executive",
    "Customer Success Manager",
    "HR Business Partner",
    "Buyer",
    "Growth Marketer",
    "CTO",
]
# Dataverse lead source codes (leadsourcecode option values): §7.1 of sandbox/dataverse/README.md.
LEAD_SOURCES = {
    1: "Advertisement",
    2: "Employee Referral",
    3: "External Referral",
    4: "Partner",
    5: "Public Relations",
    6: "Seminar",
    7: "Trade Show",
    8: "Web",
    9: "Word of Mouth",
    10: "Other",
}
# opportunity.salesstage option values.
SALES_STAGES = {0: "Qualify", 1: "Develop", 2: "Propose", 3: "Close"}
CITIES = [
    ("Lisbon", "Portugal"),
    ("Berlin", "Germany"),
    ("Austin", "United States"),
    ("Lyon", "France"),
    ("Osaka", "Japan"),
    ("Toronto", "Canada"),
    ("Oslo", "Norway"),
    ("Dublin", "Ireland"),
    ("Milan", "Italy"),
    ("Melbourne", "Australia"),
]


@dataclass(frozen=True)
class Company:
    index: int
    name: str
    domain: str
    website: str
    phone: str
    city: str
    country: str
    employees: int
    revenue: int


@dataclass(frozen=True)
class Person:
    index: int
    first_name: str
    last_name: str
    email: str
    phone: str
    job_title: str
    company: Company
    lead_source: int  # a LEAD_SOURCES key
    # Which side(s) hold this person in a seeded pair of sandboxes.
    in_dynamics: bool
    in_activecampaign: bool
    dynamics_kind: str  # "lead" or "contact"


@dataclass(frozen=True)
class Opportunity:
    index: int
    person: Person
    name: str
    stage: int  # a SALES_STAGES key
    estimated_value: int
    close_probability: int
    estimated_close: str  # YYYY-MM-DD


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_text.lower() if ch.isalnum())


def companies(count: int, *, seed: int = 7) -> list[Company]:
    rng = random.Random(seed)  # noqa: S311 - demo data
    result = []
    for i in range(count):
        stem = COMPANY_STEMS[i % len(COMPANY_STEMS)]
        suffix = COMPANY_SUFFIXES[(i // len(COMPANY_STEMS)) % len(COMPANY_SUFFIXES)]
        round_ = i // (len(COMPANY_STEMS) * len(COMPANY_SUFFIXES))
        name = f"{stem} {suffix}" + (f" {round_ + 1}" if round_ else "")
        domain = f"{_slug(stem)}{_slug(suffix)}{round_ or ''}.example"
        city, country = CITIES[rng.randrange(len(CITIES))]
        result.append(
            Company(
                i,
                name,
                domain,
                f"https://www.{domain}",
                f"+1 555 {rng.randrange(1000, 9999)}",
                city,
                country,
                rng.choice([8, 25, 60, 140, 320, 900, 2400]),
                rng.randrange(2, 900) * 100_000,
            )
        )
    return result


def people(count: int, *, seed: int = 11) -> list[Person]:
    """count people; about 60% in both vendors, 25% only in Dynamics, 15% only in ActiveCampaign."""
    rng = random.Random(seed)  # noqa: S311 - demo data
    firms = companies(max(1, count // 8))
    result = []
    for i in range(count):
        first = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))]
        last = LAST_NAMES[rng.randrange(len(LAST_NAMES))]
        company = firms[rng.randrange(len(firms))]
        roll = rng.random()
        in_dynamics = roll < 0.85
        in_ac = roll < 0.60 or roll >= 0.85
        result.append(
            Person(
                index=i,
                first_name=first,
                last_name=last,
                email=f"{_slug(first)}.{_slug(last)}.{i}@{company.domain}",
                phone=f"+1 555 {rng.randrange(100, 999)} {rng.randrange(1000, 9999)}",
                job_title=JOB_TITLES[rng.randrange(len(JOB_TITLES))],
                company=company,
                lead_source=rng.choice(list(LEAD_SOURCES)),
                in_dynamics=in_dynamics,
                in_activecampaign=in_ac,
                dynamics_kind="lead" if rng.random() < 0.4 else "contact",
            )
        )
    return result


def opportunities(persons: list[Person], *, seed: int = 13) -> list[Opportunity]:
    """About one opportunity for every three Dynamics contacts."""
    rng = random.Random(seed)  # noqa: S311 - demo data
    topics = [
        "Renewal",
        "Expansion",
        "Pilot",
        "Platform licence",
        "Onboarding package",
        "Support upgrade",
        "Annual contract",
        "Training",
    ]
    result = []
    for person in persons:
        if not (person.in_dynamics and person.dynamics_kind == "contact") or rng.random() > 0.33:
            continue
        stage = rng.choice(list(SALES_STAGES))
        result.append(
            Opportunity(
                index=len(result),
                person=person,
                name=f"{rng.choice(topics)} {2026 + rng.randrange(2)} - {person.company.name}",
                stage=stage,
                estimated_value=rng.randrange(5, 500) * 1000,
                close_probability=[20, 40, 60, 80][stage],
                estimated_close=f"2027-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
            )
        )
    return result
