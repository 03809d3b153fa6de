"""Child, Enrollment, BirthCertificate and Sex are defined with SchoolClass, which they
name and which lists them (schema/types/school_class.py); imported here by their old path."""

from ediary_gql.schema.types.school_class import BirthCertificate, Child, Enrollment, Sex

__all__ = ["BirthCertificate", "Child", "Enrollment", "Sex"]
