"""`run.py dashboard`: one run explored in the browser, served on the loopback interface."""

from __future__ import annotations

from typing import Sequence

from sim.app.cli.args import Parser, UsageError, int_at_least


def cmd_dashboard(argv: Sequence[str]) -> int:
    p = Parser(prog="run.py dashboard", description="Explore one run interactively in the browser (Mesa SolaraViz), "
                "served on 127.0.0.1 until Ctrl-C.")
    p.add_argument("--port", type=int_at_least(0), default=0, help="port to listen on (default: a free one)")
    args = p.parse_args(argv)
    if args.port > 65535:
        raise UsageError(f"--port {args.port}: must be at most 65535")
    try:
        from sim.app.dashboard import free_port, port_in_use, serve
        import solara  # noqa: F401  (the optional extra)
    except ImportError as exc:
        raise UsageError(f"dashboard needs the dashboard extra (pip install -e '.[dashboard]'): {exc}") from None
    if args.port and port_in_use(args.port):
        raise UsageError(f"--port {args.port}: already in use")
    status = 0
    try:
        serve(args.port or free_port())
    except KeyboardInterrupt:  # uvicorn shuts down on Ctrl-C, then raises it again
        status = 130
    print("Dashboard stopped.")
    return status
