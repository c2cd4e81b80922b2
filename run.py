"""Command-line entry point: `python run.py -h`. All logic lives in sim.cli."""

import sys

try:  # a Ctrl-C while the package loads is still an interrupt, not a traceback
    from sim.cli import main
except KeyboardInterrupt:
    print("run.py: interrupted", file=sys.stderr)
    sys.exit(130)

if __name__ == "__main__":
    sys.exit(main())
