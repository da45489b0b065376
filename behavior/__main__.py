import sys

from behavior.cli import main

sys.exit(main())
