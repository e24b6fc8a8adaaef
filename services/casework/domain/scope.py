"""Who may see and do what.

A caseworker works in the districts named in their token; a supervisor across a region: every district whose
first two digits are the region's. A task outside one's scope is answered as if it did not exist, so task ids
cannot be probed. Escalated tasks sit in the region's supervisor queue: only a supervisor claims them there.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DIVISION_CODE = re.compile(r"^[0-9]{6}$")
REGION_CODE = re.compile(r"^[0-9]{2}(0000)?$")


class Role(enum.Enum):
    CASEWORKER = "caseworker"
    SUPERVISOR = "supervisor"


class InvalidStaff(ValueError):
    """Claims or arguments that do not describe a member of staff."""


def region_of(district: str) -> str:
    """Province-level region of a district: its first two digits followed by 0000."""
    return district[:2] + "0000"


def district_queue(district: str) -> str:
    return f"d:{district}"


def region_queue(region: str) -> str:
    return f"r:{region_of(region)}"


def is_region_queue(queue: str) -> bool:
    return queue.startswith("r:")


def queue_code(queue: str) -> str:
    """The division code a queue is named by: a district, or a region for a supervisor's queue."""
    return queue[2:]


@dataclass(frozen=True)
class Staff:
    """An authenticated member of staff: a caseworker with districts, or a supervisor with a region."""

    sub: str
    role: Role
    districts: frozenset[str] = frozenset()
    region: str | None = None

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

    def sees(self, district: str) -> bool:
        """Whether a task of `district` is visible to (and actionable by) this member of staff."""
        if self.role is Role.SUPERVISOR:
            return self.region is not None and district[:2] == self.region[:2]
        return district in self.districts

    def sees_queue(self, queue: str) -> bool:
        code = queue_code(queue)
        if is_region_queue(queue):
            return self.is_supervisor and self.sees(code)
        return self.sees(code)

    def scope_token(self) -> str:
        """The scope in the compact form the Redis scripts check: 'r:<2 digits>' or 'd:<code>,<code>,...'."""
        if self.role is Role.SUPERVISOR:
            return f"r:{(self.region or '--')[:2]}"
        return "d:" + ",".join(sorted(self.districts))

    def claims(self) -> dict[str, Any]:
        """The token claims naming this member of staff (without times)."""
        if self.role is Role.SUPERVISOR:
            return {"sub": self.sub, "role": self.role.value, "region": self.region}
        return {"sub": self.sub, "role": self.role.value, "districts": sorted(self.districts)}


def staff(sub: str, role: str, districts: Iterable[str] = (), region: str | None = None) -> Staff:
    """Validated Staff; InvalidStaff names what is wrong."""
    if not sub or len(sub) > 64 or not sub.isprintable() or sub in ("system", "citizen"):
        raise InvalidStaff("sub must be 1-64 printable characters and not a reserved actor name")
    try:
        kind = Role(role)
    except ValueError:
        raise InvalidStaff("role must be caseworker or supervisor") from None
    if kind is Role.SUPERVISOR:
        if region is None or not REGION_CODE.match(region):
            raise InvalidStaff("a supervisor needs a region: two digits or a six-digit code ending 0000")
        return Staff(sub, kind, frozenset(), region_of(region))
    codes = frozenset(districts)
    if not codes or not all(DIVISION_CODE.match(c) for c in codes):
        raise InvalidStaff("a caseworker needs one or more six-digit district codes")
    return Staff(sub, kind, codes, None)


def staff_from_claims(claims: Mapping[str, Any]) -> Staff:
    """Staff from verified token claims; InvalidStaff when they do not describe one."""
    districts = claims.get("districts") or ()
    region = claims.get("region")
    if not isinstance(districts, list | tuple) or not all(isinstance(d, str) for d in districts):
        raise InvalidStaff("districts must be a list of codes")
    if region is not None and not isinstance(region, str):
        raise InvalidStaff("region must be a code")
    return staff(str(claims.get("sub", "")), str(claims.get("role", "")), districts, region)
