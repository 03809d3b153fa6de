"""SQL expressions giving values as the API serializes them, shared by the type descriptions."""

from __future__ import annotations

from ediary_gql.db.json_shapes import SqlNested, SqlObject

# A time as Python's isoformat() writes it: seconds always, microseconds only when there are any.
TIME = (
    "CASE WHEN date_part('microseconds', {0})::int % 1000000 = 0 THEN to_char({0}, 'HH24:MI:SS') "
    "ELSE to_char({0}, 'HH24:MI:SS.US') END"
)
# A UTC timestamp as Python's isoformat() writes it (NULL stays NULL).
DATETIME = (
    "(to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
    "date_part('microseconds', {0})::int % 1000000 = 0 THEN '' ELSE to_char({0} AT TIME ZONE 'UTC', '.US') END "
    "|| '+00:00')"
)


def zoned(date: str, time: str, zone: str, a: str) -> str:
    """`date` at `time` in `zone` (an IANA name) as Python's isoformat() writes the aware
    datetime.combine(date, time, tzinfo=ZoneInfo(zone)): the local time as given, then the
    zone's offset at that moment as ±HH:MM (±HH:MM:SS for an offset with seconds: LMT).

    A local time in a gap or fold is ambiguous, and PostgreSQL's `AT TIME ZONE` picks
    otherwise than Python's fold=0 in a fold. So the offset is taken as zoneinfo does: the
    one in effect at the local time read with the greater of the offsets a day before and a
    day after (exact unless a zone changed its offset twice within two days). Both sides
    read their own tz database: they agree where those do. `a`: the prefix of its aliases."""
    zt, zm, zo = f"{a}_zt", f"{a}_zm", f"{a}_zo"
    t, m, o = f"{zt}.t", f"{zm}.m", f"{zo}.o"
    near = ", ".join(
        f"timezone({zt}.z, timezone('UTC', {t} {sign} interval '1 day')) - ({t} {sign} interval '1 day')"
        for sign in "-+"
    )
    seconds = f"abs(extract(epoch FROM {o})::int)"
    offset = (
        f"CASE WHEN {o} < interval '0' THEN '-' ELSE '+' END || lpad(({seconds} / 3600)::text, 2, '0') || ':' "
        f"|| lpad(({seconds} % 3600 / 60)::text, 2, '0') "
        f"|| CASE WHEN {seconds} % 60 = 0 THEN '' ELSE ':' || lpad(({seconds} % 60)::text, 2, '0') END"
    )
    local = (
        f"to_char({t}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN date_part('microseconds', {t})::int % 1000000 = 0 "
        f"THEN '' ELSE to_char({t}, '.US') END"
    )
    return (
        f"(SELECT {local} || {offset} FROM (SELECT ({date} + {time})::timestamp AS t, {zone} AS z) {zt}, "
        f"LATERAL (SELECT greatest({near}) AS m) {zm}, "
        f"LATERAL (SELECT timezone({zt}.z, timezone('UTC', {t} - {m})) - ({t} - {m}) AS o) {zo})"
    )


def gid(type_name: str, column: str) -> str:
    """Relay's global ID: base64 of "Type:id" (short enough for PostgreSQL to add no line breaks)."""
    return f"encode(convert_to('{type_name}:' || {column}, 'UTF8'), 'base64')"


def full_name(alias: str) -> str:
    """As the API joins a name: its non-empty parts, space-separated."""
    parts = ", ".join(f"nullif({alias}.{p}, '')" for p in ("last_name", "first_name", "middle_name"))
    return f"concat_ws(' ', {parts})"


NAMES = {"lastName": "last_name", "firstName": "first_name", "middleName": "middle_name"}


def entity(type_name: str, a: str, columns: dict[str, str], **computed: str | SqlNested) -> SqlObject:
    """A node of alias `a`: its global ID, plain columns by field name, computed fields;
    keyed by its id, so fields not described are completed from its row."""
    return SqlObject(
        {"id": gid(type_name, f"{a}.id"), **{field: f"{a}.{column}" for field, column in columns.items()}, **computed},
        key=f"{a}.id",
    )


def one(of: SqlObject) -> SqlNested:
    """An object built from the row at hand."""
    return SqlNested("{object}", of)


def row_of(table: str, alias: str, where: str, of: SqlObject) -> SqlNested:
    """The object of one row of `table` (aliased `alias`), null when none matches."""
    return SqlNested(f"(SELECT {{object}} FROM {table} {alias} WHERE {where})", of)


def rows_of(table: str, alias: str, where: str, order: str, of: SqlObject) -> SqlNested:
    """A list of objects of `table`'s rows, in `order`; [] when none match."""
    return SqlNested(
        f"(SELECT coalesce(json_agg({{object}} ORDER BY {order}), '[]') FROM {table} {alias} WHERE {where})", of
    )
