"""gridgov settings. Every value can be overridden by an environment variable or by the
``config`` mapping passed to ``create_app`` (the tests do that)."""
import os

from flask_appbuilder.security.manager import AUTH_DB
from flask_babel import lazy_gettext as _l

BASE_DIR = os.path.abspath(os.path.dirname(__file__))
INSTANCE_DIR = os.environ.get("GRIDGOV_INSTANCE_DIR", os.path.join(BASE_DIR, "instance"))

# --- database ------------------------------------------------------------------------------
# Any PostgreSQL >= 14. When unset, app/database.py starts the embedded PostgreSQL 18 server
# with its data under instance/pgdata.
DATABASE_URL = os.environ.get("DATABASE_URL") or None
SQLALCHEMY_TRACK_MODIFICATIONS = False
# Bound parameters (phones, ID numbers) never appear in exception texts or logs. A connection
# idle for a while is checked before use (app/database.py: ping_after_idle).
SQLALCHEMY_ENGINE_OPTIONS = {"hide_parameters": True}

# --- secrets -------------------------------------------------------------------------------
# When unset, a random key is generated once and kept in instance/secret_key.
SECRET_KEY = os.environ.get("GRIDGOV_SECRET_KEY") or None
GRIDGOV_ADMIN_PASSWORD = os.environ.get("GRIDGOV_ADMIN_PASSWORD") or None
GRIDGOV_DEMO_PASSWORD = os.environ.get("GRIDGOV_DEMO_PASSWORD") or "Demo@Grid2026"

# --- security ------------------------------------------------------------------------------
AUTH_TYPE = AUTH_DB
AUTH_USER_REGISTRATION = False
WTF_CSRF_ENABLED = True
CSRF_ENABLED = True
WTF_CSRF_TIME_LIMIT = None
# The login limit, counted in PostgreSQL by every process alike (app/services/logins.py): 5 failed
# logins of one account name within 15 minutes lock that name for 15 minutes (its right password
# too; an unknown name the same); 100 failed logins from one client address within 15 minutes
# lock the address. Successful logins count nothing, so an office behind one address still signs in.
GRIDGOV_LOGIN_ACCOUNT_FAILURES = int(os.environ.get("GRIDGOV_LOGIN_ACCOUNT_FAILURES", "5"))
GRIDGOV_LOGIN_ADDRESS_FAILURES = int(os.environ.get("GRIDGOV_LOGIN_ADDRESS_FAILURES", "100"))
GRIDGOV_LOGIN_WINDOW_MINUTES = float(os.environ.get("GRIDGOV_LOGIN_WINDOW_MINUTES", "15"))
GRIDGOV_LOGIN_LOCK_MINUTES = float(os.environ.get("GRIDGOV_LOGIN_LOCK_MINUTES", "15"))
# 微心愿: the days a wish may wait for a claimer before it shows in the secretary's to-dos;
# 培训: the training hours a year asks of a grid worker (Qibin: 70)
GRIDGOV_WISH_CLAIM_DAYS = int(os.environ.get("GRIDGOV_WISH_CLAIM_DAYS", "7"))
GRIDGOV_TRAINING_HOURS_REQUIRED = int(os.environ.get("GRIDGOV_TRAINING_HOURS_REQUIRED", "70"))
# Flask-Limiter's coarse limit of login requests per client address applies only with shared
# storage (e.g. redis://…): in memory each worker would count alone and lock out a whole office.
AUTH_RATE_LIMITED = True
RATELIMIT_ENABLED = True
AUTH_RATE_LIMIT = os.environ.get("GRIDGOV_LOGIN_RATE_LIMIT", "300 per minute")
RATELIMIT_STORAGE_URI = os.environ.get("GRIDGOV_RATELIMIT_STORAGE_URI", "memory://")
FAB_PASSWORD_COMPLEXITY_ENABLED = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = os.environ.get("GRIDGOV_SECURE_COOKIES", "") == "1"
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
PERMANENT_SESSION_LIFETIME = 8 * 3600
# The schema comes only from Alembic migrations; roles are synced by `gridgov` commands.
FAB_CREATE_DB = False
FAB_UPDATE_PERMS = False
FAB_ADD_SECURITY_API = False
FAB_API_SWAGGER_UI = False
FAB_SECURITY_MANAGER_CLASS = "app.security.GridgovSecurityManager"
FAB_BASE_TEMPLATE = "gridgov/baselayout.html"
FAB_API_MAX_PAGE_SIZE = 100

# --- language ------------------------------------------------------------------------------
APP_NAME = _l("gridgov Grid Governance")
APP_THEME = ""
BABEL_DEFAULT_LOCALE = "zh"
BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
BABEL_TRANSLATION_DIRECTORIES = os.path.join(BASE_DIR, "translations")
LANGUAGES = {
    "zh": {"flag": "cn", "name": "简体中文"},
    "en": {"flag": "gb", "name": "English"},
}

# --- pages ---------------------------------------------------------------------------------
FAB_INDEX_VIEW = "app.views.home.HomeView"
PAGE_SIZE = 20

# --- map -----------------------------------------------------------------------------------
# No base map by default (an intranet reaches no public tile server). An intranet tile server's URL
# template (e.g. http://tiles.intranet/{z}/{x}/{y}.png; {s} for its sub-domains) draws its tiles
# under the grids, and the Content-Security-Policy then lets images come from that host.
GRIDGOV_MAP_TILES = os.environ.get("GRIDGOV_MAP_TILES") or None
GRIDGOV_MAP_ATTRIBUTION = os.environ.get("GRIDGOV_MAP_ATTRIBUTION", "")

# The menu bar's to-do badge is counted at most this often (seconds) and kept in the signed
# session between, and afresh on the home page and after the user's own changes (app/views/home.py).
GRIDGOV_TODO_BADGE_SECONDS = int(os.environ.get("GRIDGOV_TODO_BADGE_SECONDS", "30"))

# The server's clock (app/clock.py) escalates overdue incidents, freezes an ended month's
# assessment and pays its workers' points, once every this many seconds; 0 turns it off (then
# run `gridgov tick`, `gridgov assess freeze` and `gridgov points award-month` from cron).
GRIDGOV_CLOCK_SECONDS = float(os.environ.get("GRIDGOV_CLOCK_SECONDS", "60"))

# --- uploads -------------------------------------------------------------------------------
# Reward pictures are kept on the server (no external storage): instance/uploads/rewards.
MAX_CONTENT_LENGTH = 4 * 1024 * 1024
