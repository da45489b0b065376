import sys

from behavior.cli import main

if __name__ == "__main__":  # (worker processes that import this module must not run it)
    sys.exit(main())
