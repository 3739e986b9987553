import sys

from desktop.app.cli import main

sys.exit(main())
