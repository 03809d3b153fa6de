"""Demo and benchmark data.

`seed_demo` loads a believable school with a login for every role (idempotent);
`seed_scale` adds many big schools quickly, for benchmarks.
"""

from __future__ import annotations

from ediary_gql.demo.demo_school import DEMO_LOGINS, DEMO_PASSWORD, seed_demo
from ediary_gql.demo.scale import seed_scale

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "seed_demo", "seed_scale"]
