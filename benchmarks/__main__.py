"""``python -m benchmarks``: run the benchmark suite."""

import sys

from .runner import main

sys.exit(main())
