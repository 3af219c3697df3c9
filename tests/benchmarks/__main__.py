"""Entry point: ``python -m tests.benchmarks [--quick]``."""

import os
import sys

# Always the benchmark's own settings, whatever the environment says.
os.environ["DJANGO_SETTINGS_MODULE"] = "tests.benchmarks.settings"

from tests.benchmarks.bench_runner import main

sys.exit(main())
