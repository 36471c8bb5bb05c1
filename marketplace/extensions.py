"""Flask extensions: created here, bound to the app in create_app."""
from celery import Celery
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from marketplace.db import db

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address)
babel = Babel()
mail = Mail()
celery = Celery("marketplace", task_cls="marketplace.jobs:AppContextTask")

__all__ = ["db", "migrate", "login_manager", "csrf", "limiter", "babel", "mail", "celery"]
