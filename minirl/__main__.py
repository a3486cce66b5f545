import sys

from minirl.cli import main

sys.exit(main())
