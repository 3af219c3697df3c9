"""Keep hypothesis' files out of the work tree.

The example database is off (see :func:`tests.fuzz.support.fuzzing`), but
hypothesis still caches Unicode tables and source constants in its home
directory, ``./.hypothesis`` by default. It goes to the system's temporary
directory instead (``HYPOTHESIS_STORAGE_DIRECTORY`` still wins), shared by
runs so the tables are computed once per machine.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from hypothesis.configuration import set_hypothesis_home_dir

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "sessionguard-hypothesis")
