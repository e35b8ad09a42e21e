"""Walks every session, window and pane of a tmux server with libtmux and times it.

Usage: python3 libtmux_walk.py SOCKET_PATH REPEATS

Each repeat connects anew (libtmux.Server), then for each session, each window, each pane reads
the same attributes our snapshot asks tmux for. The time is measured here, around the walk, with
time.perf_counter; one untimed walk first warms the page cache and Python's imports. Prints one
JSON object: {"version": ..., "panes": ..., "samples_ms": [...]}.
"""
import json
import sys
import time

try:
    import libtmux
except ImportError as error:  # the bench prints a note and skips
    print(json.dumps({"missing": str(error)}))
    sys.exit(0)

SESSION_FIELDS = ("session_id", "session_name", "session_created", "session_activity")
WINDOW_FIELDS = ("window_id", "window_index", "window_name", "window_active",
                 "window_zoomed_flag", "window_layout", "window_activity")
PANE_FIELDS = ("pane_id", "pane_index", "pane_active", "pane_pid", "pane_current_command",
               "pane_current_path", "pane_title", "pane_width", "pane_height", "pane_dead",
               "pane_dead_status", "pane_in_mode")


def walk(socket_path):
    server = libtmux.Server(socket_path=socket_path)
    rows = []
    for session in server.sessions:
        s = [getattr(session, f, None) for f in SESSION_FIELDS]
        for window in session.windows:
            w = [getattr(window, f, None) for f in WINDOW_FIELDS]
            for pane in window.panes:
                rows.append(s + w + [getattr(pane, f, None) for f in PANE_FIELDS])
    return rows


def main():
    socket_path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    panes = len(walk(socket_path))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        rows = walk(socket_path)
        samples.append((time.perf_counter() - start) * 1000.0)
        panes = len(rows)
    print(json.dumps({"version": getattr(libtmux, "__version__", "?"), "panes": panes, "samples_ms": samples}))


if __name__ == "__main__":
    main()
