import os
import signal
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# the record of the outputs we wrote (outputs.remember) goes to a scratch cache, not the user's, also in subprocesses
os.environ["VAE_REPORT_CACHE"] = tempfile.mkdtemp(prefix="vae-report-cache.")

from writers import write_radiodiff_run  # noqa: E402

# a suite started in the background of a non-interactive shell inherits SIGINT ignored, and so does every process
# its tests start: a test of what Ctrl-C does then waits forever. The default, as a terminal gives it (a handler,
# unlike an ignored signal, is not inherited across exec: the children start with Python's own)
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def seed_run(tmp_path_factory):
    """An 18,300-step RadioDiff run shaped like the seed report's (disc_start 50,001 of 150,000)."""
    folder = tmp_path_factory.mktemp("radio_vae")
    curves = write_radiodiff_run(folder, last_step=18_300)
    return folder, curves


@pytest.fixture(autouse=True, scope="module")
def _wandb_torn_down():
    """A module that wrote a W&B run leaves W&B's service and its threads behind; tear them down so that later
    tests run in a process without them (the code under test refuses to fork beside other threads, and a test
    of its forked drawing would otherwise draw in one process)."""
    yield
    if "wandb" in sys.modules:
        import threading

        if threading.active_count() > 1:
            try:
                sys.modules["wandb"].teardown()
            except Exception:  # noqa: BLE001 - a teardown that fails leaves the threads; the code is safe anyway
                pass

