"""Roster imports: CSV and XLSX files of subjects, teachers, classes, children,
guardians and weekly timetables, keyed by the school's external IDs (OneRoster
`sourcedId`), so that importing the same files again updates instead of duplicating.

Every row is checked, and every problem is reported with its file, line and
column; the rows are applied only when there is none, in the caller's one
transaction (all or nothing). Existing rows are read in bulk by sourcedId, a
handful of statements per file whatever its length: a 1,000-row file imports
in seconds. The formats are described in docs/import.md.

- `importer`: `import_roster`, the entry point
- `run`: what an import takes and gives back, and the state of one run
- `files`, `cells`: reading the files and checking their cells
- `lookup`: matching rows to existing records in bulk
- `subjects`, `people`, `classes`, `children`, `timetable`: applying each file
"""
