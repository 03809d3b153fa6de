"""What every subscription event carries: its cursor."""

from __future__ import annotations

from typing import Any

import strawberry

CURSOR_DESCRIPTION = "Where this event is in the stream: pass it as `after` to resume after it"


def cursor_field() -> Any:
    return strawberry.field(description=CURSOR_DESCRIPTION)
