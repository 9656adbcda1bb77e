import sys

from jifen.cli import main

sys.exit(main())
