"""Moved: kept importable until its last importer (schema/types/staff_bindings.py)
switches. Import from the modules that hold these now:

- `resolvers/enrolments.py`: children's schools and enrolments, who may see a child;
- `resolvers/school_structure.py`: a school's years, periods, holidays, subjects,
  control types, classes, and who may see them;
- `resolvers/class_rosters.py`: a class's children and teaching assignments;
- `resolvers/school_setup.py`: `binding_invited` (next to inviteTeacher).
"""

from __future__ import annotations

from ediary_gql.resolvers.class_rosters import class_assignments, class_children
from ediary_gql.resolvers.enrolments import (
    child_enrollments,
    child_school_ids,
    current_enrollment,
    family_school_ids,
    may_view_child,
    may_view_child_documents,
)
from ediary_gql.resolvers.school_setup import binding_invited
from ediary_gql.resolvers.school_structure import (
    academic_years,
    classes,
    control_types,
    holidays,
    may_view_school_structure,
    periods,
    subjects,
)

__all__ = [
    "academic_years",
    "binding_invited",
    "child_enrollments",
    "child_school_ids",
    "class_assignments",
    "class_children",
    "classes",
    "control_types",
    "current_enrollment",
    "family_school_ids",
    "holidays",
    "may_view_child",
    "may_view_child_documents",
    "may_view_school_structure",
    "periods",
    "subjects",
]
