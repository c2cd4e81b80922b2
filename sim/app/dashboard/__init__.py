"""Interactive dashboard for exploring one run (Mesa SolaraViz), served on the loopback interface.

Needs the `dashboard` extra (`pip install -e '.[dashboard]'`). Everything the page loads
is served by this process (Solara's JavaScript and CSS come from the solara-assets
package), so it works without internet.
"""

from __future__ import annotations

import os
import socket
import warnings

HOST = "127.0.0.1"  # loopback only: the dashboard has no authentication
APP = "sim.app.dashboard.app"


def free_port(host: str = HOST) -> int:
    """A port nobody listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_in_use(port: int, host: str = HOST) -> bool:
    """Whether something listens on ``port`` (checked as uvicorn binds, so a just-closed server does not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def serve(port: int, host: str = HOST) -> None:
    """Serve the dashboard until interrupted (Ctrl-C); prints the address once listening."""
    # Settings are read from the environment when solara is imported: no telemetry, no
    # version check, no auto-restart; the app is our module.
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ["SOLARA_APP"] = APP
    os.environ["SERVER_NAME"], os.environ["SERVER_PORT"] = host, str(port)
    # Solara's warnings about Mesa's hooks and about cookies over plain http (loopback) are noise here.
    warnings.filterwarnings("ignore", category=UserWarning, module=r"solara\.")
    import uvicorn
    from solara.server import settings

    settings.main.mode = "production"

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started:
                print(f"Dashboard at http://{host}:{port}/  (Ctrl-C stops it)", flush=True)

    Server(uvicorn.Config("solara.server.starlette:app", host=host, port=port, log_level="warning")).run()
