"""Root field of roster imports (part of the schools area)."""

from __future__ import annotations

import strawberry

from ediary_gql.resolvers import roster_import
from ediary_gql.schema.mutations import mutation
from ediary_gql.schema.types.roster_import import ImportRosterInput, ImportRosterPayload


@strawberry.type
class RosterImportMutation:
    import_roster: ImportRosterPayload = mutation(
        roster_import.import_roster,
        ImportRosterInput,
        ImportRosterPayload,
        description=(
            "Import CSV/XLSX roster files keyed by sourcedId (see docs/import.md); a dry run lists every bad row, "
            "the real run applies all or nothing (the school's admin or integrator; multipart request)"
        ),
    )
