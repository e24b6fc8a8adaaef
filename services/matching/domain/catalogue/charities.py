"""Registered charity programmes a household can be referred to when a need remains after government
assistance (policies/charities.yaml). A policy's `referral_need` names the need; programmes list the needs and
regions they serve."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

from services.matching.domain.catalogue.parameter_reading import IDENTIFIER
from services.matching.domain.catalogue.policy_catalogue import CatalogueError
from services.matching.domain.catalogue.yaml_document import DocumentReader

NEEDS = ("medical", "disaster", "education", "housing", "elderly", "disability")
EVERYWHERE = "*"
_REQUIRED = ("id", "name", "organisation", "registration", "needs", "regions")


@dataclass(frozen=True)
class CharityProgramme:
    """A programme run by a registered charitable organisation."""

    id: str
    name: str
    organisation: str
    registration: str
    needs: frozenset[str]
    regions: frozenset[str]
    """Region codes served, or '*' for all."""
    description: str

    def serves(self, need: str, region: str) -> bool:
        return need in self.needs and (EVERYWHERE in self.regions or region in self.regions)


def load_charity_programmes(text: str, origin: str) -> tuple[CharityProgramme, ...]:
    """Parse the programme list; raises CatalogueError listing every problem."""
    reader = DocumentReader(origin)
    root = reader.compose(text)
    programmes: list[CharityProgramme] = []
    top = reader.mapping(root, "charities", ("programmes",), ()) if root is not None else None
    items = reader.sequence(top["programmes"], "programmes") if top and "programmes" in top else None
    seen: set[str] = set()
    for index, item in enumerate(items or [], start=1):
        fields = reader.mapping(item, f"programme #{index}", _REQUIRED, ("description",))
        if fields is None or any(key not in fields for key in _REQUIRED):
            continue
        programme_id = reader.text(fields["id"], f"programme #{index}")
        context = f"programme {programme_id}"
        if programme_id is None or not IDENTIFIER.match(programme_id) or programme_id in seen:
            reader.problem(item, context, "needs a unique snake_case id")
            continue
        seen.add(programme_id)
        needs = _texts(reader, fields["needs"], f"{context}: needs")
        regions = _texts(reader, fields["regions"], f"{context}: regions")
        for need in needs - set(NEEDS):
            reader.problem(fields["needs"], f"{context}: needs", f"unknown need {need!r} (known: {', '.join(NEEDS)})")
        texts = [reader.text(fields[k], context) for k in ("name", "organisation", "registration")]
        about = reader.text(fields["description"], context) if "description" in fields else ""
        if needs and regions and needs <= set(NEEDS) and None not in texts:
            name, organisation, registration = (t or "" for t in texts)
            programmes.append(CharityProgramme(programme_id, name, organisation, registration, frozenset(needs),
                                               frozenset(regions), about or ""))
    if reader.problems:
        raise CatalogueError(origin, reader.problems)
    return tuple(programmes)


def _texts(reader: DocumentReader, node: yaml.Node, context: str) -> set[str]:
    items = reader.sequence(node, context)
    texts = [reader.text(item, context) for item in items or []]
    if items is not None and not items:
        reader.problem(node, context, "is empty")
    return {t for t in texts if t}


def programmes_for(programmes: tuple[CharityProgramme, ...], need: str, region: str) -> tuple[CharityProgramme, ...]:
    """The programmes serving `need` in `region`, in file order."""
    return tuple(p for p in programmes if p.serves(need, region))
