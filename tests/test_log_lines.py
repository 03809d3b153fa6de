"""The log stream takes whole lines: structlog's print (a line, then its newline, as two
writes) and the standard library's handlers in other threads never cut into each other."""

from __future__ import annotations

import io
import json
import threading

from ediary_gql.log_config import _WholeLines


def test_lines_from_several_threads_stay_whole() -> None:
    sink = io.StringIO()
    stream = _WholeLines(sink)
    start = threading.Barrier(3)

    def printing(name: str) -> None:  # as print(message, file=stream) writes
        start.wait()
        for n in range(2000):
            stream.write(json.dumps({"event": name, "n": n, "pad": "x" * 50}))
            stream.write("\n")

    def handler() -> None:  # as logging.StreamHandler writes: the line and its terminator at once
        start.wait()
        for n in range(2000):
            stream.write(json.dumps({"event": "stdlib", "n": n}) + "\n")

    threads = [threading.Thread(target=printing, args=(f"print{i}",)) for i in range(2)]
    threads.append(threading.Thread(target=handler))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = sink.getvalue().splitlines()
    assert len(lines) == 6000
    seen = [json.loads(line) for line in lines]  # every line is one JSON object
    for name in ("print0", "print1", "stdlib"):
        assert [e["n"] for e in seen if e["event"] == name] == list(range(2000))
