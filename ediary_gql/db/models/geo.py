"""The directory of regions (subjects of the Russian Federation) and settlements."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ediary_gql.db.base import Base, IntPk
from ediary_gql.db.models._checks import only_chars


def normalize_name(name: str) -> str:
    """The search key for names: lower case, ё read as е, spaces collapsed."""
    return " ".join(name.lower().replace("ё", "е").split())


class Region(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(2), primary_key=True)  # "77", "50", …
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(50))  # область, край, республика, город …

    __table_args__ = (CheckConstraint(only_chars("code", 2), name="code_digits"),)


class Settlement(Base):
    __tablename__ = "settlements"

    id: Mapped[IntPk]
    region_code: Mapped[str] = mapped_column(String(2), ForeignKey("regions.code", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(String(200))
    # normalize_name(name): prefix search that ignores case and ё/е.
    name_normalized: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(50))  # город, село, посёлок …
    okato: Mapped[str | None] = mapped_column(String(11))
    oktmo: Mapped[str | None] = mapped_column(String(11))

    __table_args__ = (
        # settlements(regionCode, query): equality on the region, LIKE 'prefix%' on
        # the name; text_pattern_ops lets PostgreSQL use it whatever the collation.
        Index(
            "ix_settlements_region_name",
            "region_code",
            "name_normalized",
            postgresql_ops={"name_normalized": "text_pattern_ops"},
        ),
        # OKATO codes are hierarchical (2 to 11 digits); OKTMO has 8 or 11.
        CheckConstraint(
            "okato IS NULL OR (length(okato) BETWEEN 2 AND 11 AND trim(okato, '0123456789') = '')",
            name="okato_digits",
        ),
        CheckConstraint(
            "oktmo IS NULL OR (length(oktmo) IN (8, 11) AND trim(oktmo, '0123456789') = '')",
            name="oktmo_digits",
        ),
    )
