"""The Flask extensions, created once and initialised by ``create_app``."""
from flask_appbuilder import AppBuilder
from flask_appbuilder.utils.legacy import get_sqla_class
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from .cache import Cache

db = get_sqla_class()()
appbuilder = AppBuilder()
migrate = Migrate()
csrf = CSRFProtect()
cache = Cache()
