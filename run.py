"""Command-line entry point: `python run.py -h`. All logic lives in sim.cli."""

import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
