"""Reports rendered from an already-built document into PDF, HTML, XLSX or CSV.

A leaf: it knows nothing of the database or the API. Whoever gathers a report's figures
builds a `ReportDocument` and calls `render(document, ReportFormat.…)` for the bytes.
"""

from ediary_gql.reports.document import Cell, Column, ColumnKind, ReportDocument, Section
from ediary_gql.reports.render import ReportFormat, render

__all__ = ["Cell", "Column", "ColumnKind", "ReportDocument", "ReportFormat", "Section", "render"]
