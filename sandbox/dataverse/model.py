"""The organization's data model at run time: tables by logical name and by entity set, and
their navigation properties (single-valued for bind/expand, collection-valued for the
one-to-many side)."""

from __future__ import annotations

from dataclasses import dataclass

from .schema import Column, Relationship, Table, relationships, standard_tables


@dataclass(frozen=True)
class Caller:
    """Who makes a request: the application user behind the bearer token."""

    user_id: str
    business_unit_id: str
    client_id: str
    object_id: str


class Model:
    def __init__(self, tables: dict[str, Table] | None = None) -> None:
        self.tables = tables if tables is not None else standard_tables()
        self.refresh()

    def refresh(self) -> None:
        """Recompute the relationship maps (after a custom lookup column was added)."""
        self.by_set = {t.entity_set: t for t in self.tables.values()}
        self.relationships = relationships(self.tables)
        self.navs: dict[str, dict[str, list[Relationship]]] = {}
        self.collections: dict[str, dict[str, Relationship]] = {}
        for rel in self.relationships:
            self.navs.setdefault(rel.referencing_entity, {}).setdefault(rel.nav, []).append(rel)
            self.collections.setdefault(rel.referenced_entity, {})[rel.collection_nav] = rel

    def table_by_set(self, entity_set: str) -> Table | None:
        return self.by_set.get(entity_set)

    def nav(self, table: Table, name: str) -> list[Relationship] | None:
        return self.navs.get(table.logical, {}).get(name)

    def nav_column(self, table: Table, name: str) -> Column | None:
        rels = self.nav(table, name)
        return table.columns[rels[0].referencing_attribute] if rels else None

    def collection(self, table: Table, name: str) -> Relationship | None:
        return self.collections.get(table.logical, {}).get(name)

    def nav_for_target(self, table: Table, column: Column, target: str) -> str:
        """The navigation property that reaches `target` through `column` (for annotations)."""
        for name, rels in self.navs.get(table.logical, {}).items():
            for rel in rels:
                if rel.referencing_attribute == column.logical and rel.referenced_entity == target:
                    return name
        return column.logical

    # adapters for odata.SqlFilter
    def filter_nav(self, table: Table, name: str) -> tuple[Column, Table] | None:
        rels = self.nav(table, name)
        if not rels or len(rels) != 1:
            # ownerid reaches two tables; a path through it can't pick one, as in OData where
            # its type is the abstract `principal`.
            return None
        rel = rels[0]
        return table.columns[rel.referencing_attribute], self.tables[rel.referenced_entity]

    def filter_collection(self, table: Table, name: str) -> tuple[Table, Column] | None:
        rel = self.collection(table, name)
        if rel is None:
            return None
        child = self.tables[rel.referencing_entity]
        return child, child.columns[rel.referencing_attribute]
