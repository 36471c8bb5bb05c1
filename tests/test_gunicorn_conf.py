"""gunicorn.conf.py, which gunicorn reads from the project folder (README, Deploying)."""
import gc
import runpy
from pathlib import Path

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def test_a_worker_freezes_what_the_app_loaded():
    settings = runpy.run_path(str(CONF))
    assert gc.get_freeze_count() == 0
    try:
        settings["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0
        assert gc.isenabled()  # garbage made afterwards is still collected
    finally:
        gc.unfreeze()
