"""Plans live in code: each is data (quota, features, limits), never a scattered `if`.

Pure Python, no Django, so the parameter parser and the engine can use it anywhere.
"""

from dataclasses import dataclass

# Outputs a token's plan must include before a request may switch them on.
DEVELOPER_OUTPUTS = ("keypoints", "angles", "recommendations", "progression", "blazepose", "export")


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    monthly_calls: int | None  # None: set per organisation (business)
    features: frozenset[str]
    max_references: int | None  # None: unlimited

    def allows(self, feature: str) -> bool:
        return feature in self.features


FREE = Plan(
    id="free",
    name="Free",
    monthly_calls=500,
    features=frozenset(),
    max_references=1,
)
DEVELOPER = Plan(
    id="developer",
    name="Developer",
    monthly_calls=5_000,
    features=frozenset(DEVELOPER_OUTPUTS),
    max_references=20,
)
BUSINESS = Plan(
    id="business",
    name="Business",
    monthly_calls=None,
    features=frozenset(DEVELOPER_OUTPUTS) | {"team_reports"},
    max_references=None,
)

PLANS: dict[str, Plan] = {plan.id: plan for plan in (FREE, DEVELOPER, BUSINESS)}


def get_plan(plan_id: str) -> Plan:
    return PLANS[plan_id]
