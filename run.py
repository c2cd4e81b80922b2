"""Command-line entry point: `python run.py -h`. All logic lives in sim.app.cli."""

import signal
import sys

try:  # a Ctrl-C while the package loads is still an interrupt, not a traceback
    from sim.app.cli import main
except KeyboardInterrupt:
    print("run.py: interrupted", file=sys.stderr)
    sys.exit(130)

if __name__ == "__main__":
    try:
        status = main()  # handles its own Ctrl-C (status 130, what was kept, how to resume)
    except KeyboardInterrupt:  # in the instant after it returned
        status = 130
    # The command is done. At exit Python restores the default SIGINT action before the last
    # clean-up (worker pools, temporary folders), so a late Ctrl-C would kill the process and
    # lose its exit status; ignored, it cannot.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(status)
