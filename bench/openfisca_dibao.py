"""The subsistence allowance written as an OpenFisca-core tax-benefit system, to compare whole-population
re-evaluation against the reference open-source rules engine on the same population.

Entities Person and Household (members); inputs: each person's monthly income, the household's financial assets,
region and urban/rural; a dated parameter node of subsistence standards per region (urban and rural) built from
the same catalogue the platform evaluates, and the asset limit in months of the standard. Formulas: per-capita
income (household.sum / household.nb_persons), assets per capita, eligibility, and the monthly top-up
(standard − per-capita income) × members, rounded to whole fen.

The standard is read from the parameter node in one of two ways: `fancy` indexing with the region enum array
(the idiom OpenFisca documents) or `select`, one lookup per region combined with numpy.select.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from openfisca_core.entities import build_entity
from openfisca_core.indexed_enums import Enum
from openfisca_core.parameters import ParameterNode
from openfisca_core.periods import ETERNITY, MONTH
from openfisca_core.simulations import SimulationBuilder
from openfisca_core.taxbenefitsystems import TaxBenefitSystem
from openfisca_core.variables import Variable

from services.matching.domain.catalogue.parameters import Parameter
from services.matching.domain.catalogue.policy_catalogue import PolicyCatalogue

Array = np.ndarray[Any, Any]
STANDARD_WAYS = ("fancy", "select")
OTHER_REGION = "other"
INT32_MAX = np.iinfo(np.int32).max


@dataclass(frozen=True)
class DibaoInputs:
    """The population as OpenFisca inputs: member rows grouped by household."""

    person_household: Array
    """Index of each person's household row."""
    person_income_fen: Array
    household_assets_fen: Array
    household_region: Array
    """Region code strings."""
    household_urban: Array


@dataclass(frozen=True)
class DibaoRun:
    """One simulation: seconds spent in calculate() (wall clock, and CPU seconds of this process), the eligibility
    mask per household, the total monthly top-up and the bytes of the simulation's arrays (inputs and computed
    variables)."""

    seconds: float
    eligible: Array
    total_top_up_fen: int
    simulation_bytes: int
    cpu_seconds: float = 0.0

    @property
    def eligible_households(self) -> int:
        return int(np.count_nonzero(self.eligible))


def _values(parameter: Parameter, region: str | None, urban: bool) -> dict[str, float | int]:
    """The parameter's dated values for one region as OpenFisca values: at every date any value (the region's
    own or the default) changes, what the catalogue resolves for that region then."""
    dates = sorted({v.effective_from for v in parameter.values})
    return {d.isoformat(): parameter.resolve(region, urban, d) for d in dates}


def parameter_tree(catalogue: PolicyCatalogue) -> tuple[ParameterNode, list[str]]:
    """The standard (node per region, urban/rural leaves) and the asset limit months, from `catalogue`; with the
    region codes named in the node (the enum of regions has one member per code, plus 'other')."""
    standard = catalogue.parameters["standard"]
    regions = sorted(standard.regions())
    children: dict[str, Any] = {
        _member(code): {"urban": {"values": _values(standard, code, True)},
                        "rural": {"values": _values(standard, code, False)}}
        for code in regions
    }
    children[OTHER_REGION] = {"urban": {"values": _values(standard, None, True)},
                              "rural": {"values": _values(standard, None, False)}}
    months = catalogue.parameters["asset_limit_months"]
    data = {"subsistence": {"standard": children,
                            "asset_limit_months": {"values": _values(months, None, True)}}}
    return ParameterNode("", data=data), regions


def _member(code: str) -> str:
    return f"r{code}"


def dibao_system(catalogue: PolicyCatalogue, standard_way: str) -> tuple[TaxBenefitSystem, Any]:
    """The tax-benefit system and its Region enum."""
    if standard_way not in STANDARD_WAYS:
        raise ValueError(f"standard_way must be one of {STANDARD_WAYS}")
    parameters, regions = parameter_tree(catalogue)
    region_enum = Enum("Region", [(_member(code), code) for code in regions] + [(OTHER_REGION, OTHER_REGION)])
    person = build_entity("person", "persons", "A person", is_person=True)
    household = build_entity("household", "households", "A household",
                             roles=[{"key": "member", "plural": "members", "label": "Member"}])

    class monthly_income(Variable):  # type: ignore[misc]  # noqa: N801 (OpenFisca names variables by class)
        value_type = int
        entity = person
        definition_period = MONTH
        label = "Monthly income (fen)"

    class financial_assets(Variable):  # type: ignore[misc]  # noqa: N801
        value_type = int
        entity = household
        definition_period = MONTH
        label = "Financial assets (fen)"

    class region(Variable):  # type: ignore[misc]  # noqa: N801
        value_type = Enum
        possible_values = region_enum
        default_value = region_enum[OTHER_REGION]
        entity = household
        definition_period = ETERNITY
        label = "Province-level region"

    class urban(Variable):  # type: ignore[misc]  # noqa: N801
        value_type = bool
        entity = household
        definition_period = ETERNITY
        label = "Urban household registration"

    class subsistence_standard(Variable):  # type: ignore[misc]  # noqa: N801
        value_type = int
        entity = household
        definition_period = MONTH
        label = "Subsistence standard per person (fen)"

        def formula(household: Any, period: Any, parameters: Any) -> Array:  # noqa: N805
            node = parameters(period).subsistence.standard
            where = household("region", period)
            is_urban = household("urban", period)
            if standard_way == "fancy":
                by_region = node[where]
                result: Array = np.where(is_urban, by_region.urban, by_region.rural)
                return result
            names = list(region_enum.names)
            conditions = [where == region_enum[name] for name in names]
            values = [np.where(is_urban, node[name].urban, node[name].rural) for name in names]
            selected: Array = np.select(conditions, values)
            return selected

    class per_capita_income(Variable):  # type: ignore[misc]  # noqa: N801
        value_type = float
        entity = household
        definition_period = MONTH
        label = "Household monthly income per person (fen)"

        def formula(household: Any, period: Any, parameters: Any) -> Array:  # noqa: N805
            total = household.sum(household.members("monthly_income", period))
            per_capita: Array = total / household.nb_persons()
            return per_capita

    class assets_per_capita(Variable):  # type: ignore[misc]  # noqa: N801
        value_type = float
        entity = household
        definition_period = MONTH
        label = "Financial assets per person (fen)"

        def formula(household: Any, period: Any, parameters: Any) -> Array:  # noqa: N805
            per_capita: Array = household("financial_assets", period) / household.nb_persons()
            return per_capita

    class subsistence_eligible(Variable):  # type: ignore[misc]  # noqa: N801
        value_type = bool
        entity = household
        definition_period = MONTH
        label = "Eligible for the subsistence allowance"

        def formula(household: Any, period: Any, parameters: Any) -> Array:  # noqa: N805
            standard = household("subsistence_standard", period)
            limit = parameters(period).subsistence.asset_limit_months * standard
            below: Array = (household("per_capita_income", period) < standard) & (
                household("assets_per_capita", period) <= limit)
            return below

    class subsistence_top_up(Variable):  # type: ignore[misc]  # noqa: N801
        value_type = int
        entity = household
        definition_period = MONTH
        label = "Monthly subsistence allowance (fen)"

        def formula(household: Any, period: Any, parameters: Any) -> Array:  # noqa: N805
            gap = household("subsistence_standard", period) - household("per_capita_income", period)
            amount = np.round(gap * household.nb_persons())
            top_up: Array = np.where(household("subsistence_eligible", period), np.maximum(amount, 0), 0)
            return top_up

    system = TaxBenefitSystem([person, household])
    system.parameters = parameters
    for variable in (monthly_income, financial_assets, region, urban, subsistence_standard, per_capita_income,
                     assets_per_capita, subsistence_eligible, subsistence_top_up):
        system.add_variable(variable)
    return system, region_enum


def _simulation(system: TaxBenefitSystem, region_enum: Any, inputs: DibaoInputs, period: str) -> Any:
    n_h = len(inputs.household_assets_fen)
    builder = SimulationBuilder()
    builder.create_entities(system)
    builder.declare_person_entity("person", np.arange(len(inputs.person_household)))
    households = builder.declare_entity("household", np.arange(n_h))
    builder.join_with_persons(households, inputs.person_household, np.zeros(len(inputs.person_household), np.int16))
    simulation = builder.build(system)
    known = {name: i for i, name in enumerate(region_enum.names)}
    codes, rows = np.unique(inputs.household_region, return_inverse=True)
    region_index = np.array([known.get(_member(str(c)), known[OTHER_REGION]) for c in codes], np.int16)[rows]
    simulation.set_input("monthly_income", period, inputs.person_income_fen.astype(np.int32))
    # OpenFisca's int is int32. Capping assets at its maximum changes no outcome: the cap is a hundred times any
    # asset limit (24 months of a standard per person), so a capped household stays ineligible.
    simulation.set_input("financial_assets", period, np.minimum(inputs.household_assets_fen, INT32_MAX))
    simulation.set_input("region", period, region_enum.encode(region_index))
    simulation.set_input("urban", period, inputs.household_urban.astype(bool))
    return simulation


def run_dibao(catalogue: PolicyCatalogue, inputs: DibaoInputs, on_date: dt.date, standard_way: str) -> DibaoRun:
    """A fresh simulation of the population; times only the first calculate("subsistence_top_up") of the month
    of `on_date`, which computes every variable it depends on."""
    system, region_enum = dibao_system(catalogue, standard_way)
    period = f"{on_date.year:04d}-{on_date.month:02d}"
    if on_date.day != 1:
        raise ValueError("OpenFisca evaluates monthly periods: use the first day of a month")
    simulation = _simulation(system, region_enum, inputs, period)
    started, cpu = time.perf_counter(), time.process_time()
    top_up = simulation.calculate("subsistence_top_up", period)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    eligible = simulation.calculate("subsistence_eligible", period)
    return DibaoRun(seconds, np.asarray(eligible, dtype=bool), int(np.sum(top_up, dtype=np.int64)),
                    int(simulation.get_memory_usage()["total_nb_bytes"]), cpu_seconds)
