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


def test_the_access_log_masks_card_codes_and_voucher_tokens():
    """gunicorn writes an access log when asked (--access-logfile): the card and voucher
    addresses (their QR codes) and what a counter scanned never appear in it in full."""
    from datetime import timedelta
    from types import SimpleNamespace

    from gunicorn.config import Config

    settings = runpy.run_path(str(CONF))
    logger = settings["logger_class"](Config())
    code, token = "K7QM4XPDR2ST8WHN", "a" * 28 + "Zt9Q"
    for path, query, secret in ((f"/cards/{code}", "", code), (f"/cards/{code}/qr.png", "", code),
                                (f"/v/{token}", "", token), (f"/v/{token}/voucher.pdf", "", token),
                                ("/orgs/3/counter/scan", f"q=https%3A%2F%2Fx.fr%2Fv%2F{token}", token),
                                ("/orgs/3/counter/cards", f"q={code}", code)):
        uri = path + ("?" + query if query else "")
        environ = {"REQUEST_METHOD": "GET", "RAW_URI": uri, "PATH_INFO": path,
                   "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1",
                   "HTTP_REFERER": "https://x.fr" + uri, "REMOTE_ADDR": "10.0.0.1"}
        response = SimpleNamespace(status="200 OK", sent=10, headers=[])
        request = SimpleNamespace(headers=[("REFERER", "https://x.fr" + uri)])
        atoms = logger.atoms(response, request, environ, timedelta(milliseconds=5))
        line = " ".join(str(value) for value in atoms.values())
        assert secret not in line and secret[-4:] in line, line
        assert atoms["s"] == "200" and atoms["h"] == "10.0.0.1"
