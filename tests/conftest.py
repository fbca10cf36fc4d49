import os
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
# the record of the outputs we wrote (outputs.remember) goes to a scratch cache, not the user's, also in subprocesses
os.environ["VAE_REPORT_CACHE"] = tempfile.mkdtemp(prefix="vae-report-cache.")

from writers import write_radiodiff_run  # noqa: E402


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


# modules with tests of 10 s or more (a fuzz, trainers, subprocesses, a browser), longest first: pytest-xdist hands
# tests out in collection order, so these start first and the short tests fill the end, instead of one worker
# finishing a long test while the other idles (the suite's wall time on CI's two cores)
FIRST = ("test_bad_input.py", "test_said_once.py", "test_read_stores.py", "test_compare.py", "test_trainer.py",
         "test_wheel.py", "test_hostile_user.py", "test_hostile.py", "test_lr_far_off.py", "test_writes.py",
         "test_interactive.py", "test_loop_hook.py", "test_faults.py", "test_html.py", "test_analyze.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(FIRST)))  # stable: each module keeps its order
