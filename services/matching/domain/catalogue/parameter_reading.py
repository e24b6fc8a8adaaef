"""Reading the `parameters` of a catalogue document: a number (one value everywhere from the catalogue's
effective date) or dated values, each for every region (no `region`) or one region, as `value` or as `urban`
and `rural`."""

from __future__ import annotations

import datetime as dt
import re

import yaml

from services.matching.domain.catalogue.parameters import Parameter, ParameterValue
from services.matching.domain.catalogue.yaml_document import DocumentReader
from services.matching.domain.policy_language.syntax import FUNCTIONS, KEYWORDS

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


def identifier(reader: DocumentReader, node: yaml.Node, context: str, what: str) -> str | None:
    """A snake_case name that is not a keyword or function of the expression language."""
    name = reader.text(node, context)
    if name is None:
        return None
    if not IDENTIFIER.match(name) or name in KEYWORDS or name in FUNCTIONS:
        reader.problem(node, context, f"{what} {name!r} must be snake_case and not a keyword or function name")
        return None
    return name


def parameters_declared(node: yaml.Node | None) -> set[str]:
    """Every parameter name written, valid or not."""
    if not isinstance(node, yaml.MappingNode):
        return set()
    return {str(key.value) for key, _ in node.value}


def read_parameters(reader: DocumentReader, node: yaml.Node,
                    effective_from: dt.date | None) -> dict[str, Parameter]:
    """The valid parameters of a catalogue's `parameters` mapping; problems are recorded on `reader`."""
    entries = reader.mapping(node, "parameters")
    if entries is None:
        return {}
    parameters: dict[str, Parameter] = {}
    for key_node, value_node in node.value:
        name = identifier(reader, key_node, "parameters", "parameter name")
        if name is None:
            continue
        context = f"parameter {name}"
        if isinstance(value_node, yaml.ScalarNode):
            number = reader.number(value_node, context)
            if number is not None and effective_from is not None:
                parameters[name] = Parameter.of(name, [ParameterValue(effective_from, None, number, number)])
            continue
        fields = reader.mapping(value_node, context, ("values",), ("description",))
        if fields is None or "values" not in fields:
            continue
        about = reader.text(fields["description"], context) if "description" in fields else ""
        values = _values(reader, fields["values"], context)
        if values is not None:
            parameters[name] = Parameter.of(name, values, about or "")
    return parameters

def _values(reader: DocumentReader, node: yaml.Node, context: str) -> list[ParameterValue] | None:
    items = reader.sequence(node, context)
    if not items:
        if items is not None:
            reader.problem(node, context, "no values")
        return None
    values: list[ParameterValue] = []
    seen: set[tuple[str | None, dt.date]] = set()
    complete = True
    for item in items:
        fields = reader.mapping(item, context, ("from",), ("region", "value", "urban", "rural"))
        if fields is None or "from" not in fields:
            complete = False
            continue
        value = _value(reader, item, fields, context)
        if value is None:
            complete = False
            continue
        if (value.region, value.effective_from) in seen:
            reader.problem(item, context, f"two values for region {value.region or 'default'} "
                                        f"from {value.effective_from.isoformat()}")
            complete = False
        seen.add((value.region, value.effective_from))
        values.append(value)
    if complete and not any(v.region is None for v in values):
        reader.problem(node, context, "no default value (a value without region)")
        complete = False
    return values if complete else None

def _value(reader: DocumentReader, item: yaml.Node, fields: dict[str, yaml.Node],
           context: str) -> ParameterValue | None:
    since = reader.date(fields["from"], context)
    region = reader.text(fields["region"], context) if "region" in fields else None
    if "value" in fields and ("urban" not in fields and "rural" not in fields):
        urban = rural = reader.number(fields["value"], context)
    elif "value" not in fields and "urban" in fields and "rural" in fields:
        urban, rural = reader.number(fields["urban"], context), reader.number(fields["rural"], context)
    else:
        reader.problem(item, context, "give either 'value' or both 'urban' and 'rural'")
        return None
    if since is None or urban is None or rural is None:
        return None
    return ParameterValue(since, region, urban, rural)
