"""The districts the synthetic population lives in: real division codes with the simulator's economic assumptions.

The subsistence standards follow the 2026 demonstration values of policies/national-demo.yaml, so that households
drawn as receiving the allowance are below the standard the matching service applies; the wages are round
illustrative figures. They only shape the synthetic incomes: the catalogue stays the authority on thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class District:
    """A county-level division (6-digit code) and what the simulator assumes about living there."""

    code: str
    name: str
    urban: bool
    subsistence_line_fen: int
    """Assumed local subsistence standard: monthly per-person income below it qualifies (fen)."""
    median_wage_fen: int
    """Median monthly wage of the employed (fen)."""
    share: float
    """Share of the synthetic households registered here."""
    name_zh: str = ""
    """How a Chinese address names it: province, prefecture and county or district."""

    @property
    def region(self) -> str:
        """Province-level region code: the first two digits followed by 0000."""
        return self.code[:2] + "0000"


DISTRICTS: tuple[District, ...] = (
    District("110101", "Dongcheng, Beijing", True, 145_000, 950_000, 0.06, "北京市东城区"),
    District("110105", "Chaoyang, Beijing", True, 145_000, 900_000, 0.16, "北京市朝阳区"),
    District("110108", "Haidian, Beijing", True, 145_000, 1_050_000, 0.14, "北京市海淀区"),
    District("510104", "Jinjiang, Chengdu", True, 80_000, 550_000, 0.10, "四川省成都市锦江区"),
    District("510107", "Wuhou, Chengdu", True, 80_000, 560_000, 0.12, "四川省成都市武侯区"),
    District("513433", "Mianning County, Liangshan", False, 65_000, 280_000, 0.10, "四川省凉山彝族自治州冕宁县"),
    District("440103", "Liwan, Guangzhou", True, 110_000, 700_000, 0.10, "广东省广州市荔湾区"),
    District("440305", "Nanshan, Shenzhen", True, 110_000, 950_000, 0.12, "广东省深圳市南山区"),
    District("441781", "Yangchun, Yangjiang", False, 90_000, 320_000, 0.10, "广东省阳江市阳春市"),
)

BY_CODE: dict[str, District] = {d.code: d for d in DISTRICTS}

REGION_CAPITAL: dict[str, str] = {"110000": "110105", "510000": "510107", "440000": "440103"}
"""Where a region's big hospitals are: serious cases from rural counties are treated there."""


def district(code: str) -> District:
    """The district with this division code; KeyError for a code the simulator does not populate."""
    return BY_CODE[code]
