"""A weekly timetable with no teacher and no class booked twice at the same time.

Each lesson-hour is an edge between a class and a teacher; a timetable is a
proper edge colouring with the week's slots as colours. Bipartite graphs can
always be coloured with as many colours as the busiest vertex has edges
(Kőnig), and the standard way is to recolour an alternating two-colour path
when the obvious slot is taken (a Kempe chain). Classes may also be limited
to some slots (a class with 29 lessons has none in the sixth lesson on
Friday): a swap is only made when it keeps every class inside its slots.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

DAYS = 5
LESSONS_PER_DAY = 6
SLOTS = DAYS * LESSONS_PER_DAY

# The bell schedule: lesson number → (start, end).
BELLS: dict[int, tuple[dt.time, dt.time]] = {
    1: (dt.time(8, 30), dt.time(9, 15)),
    2: (dt.time(9, 25), dt.time(10, 10)),
    3: (dt.time(10, 30), dt.time(11, 15)),
    4: (dt.time(11, 35), dt.time(12, 20)),
    5: (dt.time(12, 30), dt.time(13, 15)),
    6: (dt.time(13, 25), dt.time(14, 10)),
}


def slot_of(colour: int) -> tuple[int, int]:
    """Colour → (ISO weekday 1–5, lesson number 1–6)."""
    return colour // LESSONS_PER_DAY + 1, colour % LESSONS_PER_DAY + 1


def colour_of(weekday: int, number: int) -> int:
    return (weekday - 1) * LESSONS_PER_DAY + number - 1


def slots_for_hours(hours: int) -> frozenset[int]:
    """Where a class with `hours` lessons a week sits: the first lessons of each day, the
    longer days first (29 lessons: 6, 6, 6, 6, 5)."""
    if not 0 < hours <= SLOTS:
        raise ValueError(f"a five-day week holds 1–{SLOTS} lessons, not {hours}")
    base, extra = divmod(hours, DAYS)
    out: set[int] = set()
    for day in range(DAYS):
        out.update(colour_of(day + 1, n) for n in range(1, base + (1 if day < extra else 0) + 1))
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Demand:
    """`hours` lessons a week of `subject` for a class, by a teacher."""

    class_key: str
    teacher_key: str
    subject: str
    hours: int


@dataclass(frozen=True, slots=True)
class Placement:
    class_key: str
    teacher_key: str
    subject: str
    weekday: int
    number: int

    @property
    def start(self) -> dt.time:
        return BELLS[self.number][0]

    @property
    def end(self) -> dt.time:
        return BELLS[self.number][1]


class TimetableError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class _Edge:
    cls: str
    teacher: str
    subject: str


class _Colouring:
    def __init__(self, edges: list[_Edge], allowed: Mapping[str, frozenset[int]], rng: random.Random) -> None:
        self.edges = edges
        self.allowed = allowed
        self.rng = rng
        self.by_class: dict[str, list[int | None]] = {e.cls: [None] * SLOTS for e in edges}
        self.by_teacher: dict[str, list[int | None]] = {e.teacher: [None] * SLOTS for e in edges}
        self.colour: list[int] = [-1] * len(edges)

    # -- bookkeeping --------------------------------------------------------------

    def _set(self, e: int, c: int) -> None:
        edge = self.edges[e]
        self.colour[e] = c
        self.by_class[edge.cls][c] = e
        self.by_teacher[edge.teacher][c] = e

    def _clear(self, e: int) -> None:
        edge = self.edges[e]
        c = self.colour[e]
        self.by_class[edge.cls][c] = None
        self.by_teacher[edge.teacher][c] = None
        self.colour[e] = -1

    def _same_subject_that_day(self, cls: str, subject: str, c: int) -> int:
        day = c // LESSONS_PER_DAY
        row = self.by_class[cls][day * LESSONS_PER_DAY : (day + 1) * LESSONS_PER_DAY]
        return sum(1 for e in row if e is not None and self.edges[e].subject == subject)

    def _ranked(self, edge: _Edge, colours: Iterable[int]) -> list[int]:
        """Prefer days without this subject yet: a subject spreads over the week."""
        keyed = [(self._same_subject_that_day(edge.cls, edge.subject, c), self.rng.random(), c) for c in colours]
        return [c for _, _, c in sorted(keyed)]

    # -- colouring ----------------------------------------------------------------

    def place(self, e: int) -> bool:
        edge = self.edges[e]
        class_row, teacher_row = self.by_class[edge.cls], self.by_teacher[edge.teacher]
        free_for_class = [c for c in self.allowed[edge.cls] if class_row[c] is None]
        both = [c for c in free_for_class if teacher_row[c] is None]
        if both:
            self._set(e, self._ranked(edge, both)[0])
            return True
        free_for_teacher = [c for c in range(SLOTS) if teacher_row[c] is None]
        self.rng.shuffle(free_for_teacher)
        for a in self._ranked(edge, free_for_class):
            for b in free_for_teacher:
                path = self._chain(edge.teacher, a, b)
                if path is not None:
                    self._flip(path, a, b)
                    self._set(e, a)
                    return True
        return False

    def _chain(self, teacher: str, a: int, b: int) -> list[int] | None:
        """The a/b alternating path from `teacher` (which has an a-lesson and no b-lesson).

        Swapping a and b along it frees `a` for the teacher. Classes are entered by
        a-edges and left by b-edges, so only a class where the path ends receives a
        colour it had not used: that one must be allowed there. None if not.
        """
        path: list[int] = []
        at_teacher, vertex, want = True, teacher, a
        while True:
            row = self.by_teacher[vertex] if at_teacher else self.by_class[vertex]
            e = row[want]
            if e is None:
                break
            path.append(e)
            edge = self.edges[e]
            vertex = edge.cls if at_teacher else edge.teacher
            at_teacher = not at_teacher
            want = b if want == a else a
        if not at_teacher and b not in self.allowed[vertex]:
            return None
        return path

    def _flip(self, path: list[int], a: int, b: int) -> None:
        old = [self.colour[e] for e in path]
        for e in path:
            self._clear(e)
        for e, c in zip(path, old, strict=True):
            self._set(e, b if c == a else a)

    # -- polishing ----------------------------------------------------------------

    def _penalty(self, cls: str) -> int:
        """Repeats of a subject within a day (a double lesson costs 1, a triple 4)."""
        total = 0
        row = self.by_class[cls]
        for day in range(DAYS):
            counts = Counter(
                self.edges[e].subject for e in row[day * LESSONS_PER_DAY : (day + 1) * LESSONS_PER_DAY] if e is not None
            )
            total += sum((n - 1) ** 2 for n in counts.values() if n > 1)
        return total

    def polish(self, rounds: int = 4) -> None:
        """Swap two lessons of a class when both teachers are free and the days get more varied."""
        for _ in range(rounds):
            improved = False
            for cls, row in self.by_class.items():
                penalty = self._penalty(cls)
                if penalty == 0:
                    continue
                slots = sorted(self.allowed[cls])
                for c1 in slots:
                    first = row[c1]
                    if first is None or self._same_subject_that_day(cls, self.edges[first].subject, c1) < 2:
                        continue
                    for c2 in slots:
                        if c1 // LESSONS_PER_DAY == c2 // LESSONS_PER_DAY:
                            continue
                        e1, e2 = row[c1], row[c2]
                        if e1 is None or e2 is None or not self._swappable(e1, e2):
                            continue
                        self._swap(e1, e2)
                        new_penalty = self._penalty(cls)
                        if new_penalty < penalty:
                            penalty, improved = new_penalty, True
                        else:
                            self._swap(e1, e2)
            if not improved:
                return

    def _swappable(self, e1: int, e2: int) -> bool:
        t1, t2 = self.edges[e1].teacher, self.edges[e2].teacher
        c1, c2 = self.colour[e1], self.colour[e2]
        if t1 == t2:
            return True
        return self.by_teacher[t1][c2] is None and self.by_teacher[t2][c1] is None

    def _swap(self, e1: int, e2: int) -> None:
        c1, c2 = self.colour[e1], self.colour[e2]
        self._clear(e1)
        self._clear(e2)
        self._set(e1, c2)
        self._set(e2, c1)


def build_timetable(
    demands: Sequence[Demand],
    *,
    seed: int,
    allowed: Mapping[str, frozenset[int]] | None = None,
    attempts: int = 30,
) -> list[Placement]:
    """Place every lesson-hour of `demands` in the week; raises TimetableError if it cannot.

    `allowed` limits a class to some slots (colours); by default a class uses the
    first lessons of each day for its weekly hours (`slots_for_hours`).
    """
    edges = [_Edge(d.class_key, d.teacher_key, d.subject) for d in demands for _ in range(d.hours)]
    class_hours: Counter[str] = Counter(e.cls for e in edges)
    teacher_hours: Counter[str] = Counter(e.teacher for e in edges)
    limits = dict(allowed) if allowed is not None else {}
    for cls, hours in class_hours.items():
        limits.setdefault(cls, slots_for_hours(hours))
        if hours > len(limits[cls]):
            raise TimetableError(f"class {cls}: {hours} lessons do not fit in {len(limits[cls])} slots")
    for teacher, hours in teacher_hours.items():
        if hours > SLOTS:
            raise TimetableError(f"teacher {teacher}: {hours} lessons a week do not fit")

    for attempt in range(attempts):
        rng = random.Random(seed * 1_000 + attempt)  # noqa: S311 - a reproducible search
        order = list(range(len(edges)))
        rng.shuffle(order)
        # The busiest teachers and the fullest classes first: they have the least room.
        order.sort(key=lambda i: (-teacher_hours[edges[i].teacher], -class_hours[edges[i].cls]))
        colouring = _Colouring(edges, limits, rng)
        if all(colouring.place(e) for e in order):
            colouring.polish()
            placements = [
                Placement(edge.cls, edge.teacher, edge.subject, *slot_of(colouring.colour[i]))
                for i, edge in enumerate(edges)
            ]
            check_timetable(placements, limits)
            return placements
    raise TimetableError(f"no timetable found in {attempts} attempts")


def check_timetable(placements: Iterable[Placement], allowed: Mapping[str, frozenset[int]] | None = None) -> None:
    """Raise TimetableError if a class or a teacher has two lessons at once, or a class sits outside its slots."""
    by_class: dict[tuple[str, int, int], Placement] = {}
    by_teacher: dict[tuple[str, int, int], Placement] = {}
    for p in placements:
        for key, seen in (
            ((p.class_key, p.weekday, p.number), by_class),
            ((p.teacher_key, p.weekday, p.number), by_teacher),
        ):
            if key in seen:
                raise TimetableError(f"double booking at {key}: {seen[key]} and {p}")
            seen[key] = p
        if allowed is not None and colour_of(p.weekday, p.number) not in allowed[p.class_key]:
            raise TimetableError(f"{p} is outside the class's slots")


def week_of(placements: Iterable[Placement]) -> dict[int, list[Placement]]:
    """Placements by ISO weekday, in lesson order."""
    out: dict[int, list[Placement]] = defaultdict(list)
    for p in sorted(placements, key=lambda p: (p.weekday, p.number, p.class_key)):
        out[p.weekday].append(p)
    return dict(out)
