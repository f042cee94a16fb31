"""Configuration: read once from the environment, looked up through one strict helper."""
import os
import secrets
from pathlib import Path

from flask import current_app

# Every key the console understands, with its default. `setting()` refuses any other name.
DEFAULTS = {
    "CONSOLE_DATABASE_URL": None,  # filled from DATABASE_URL or the instance folder
    "CONSOLE_TIMEZONE": "Asia/Shanghai",
    "CONSOLE_LOCALE": "zh_Hans_CN",
    "CONSOLE_LOGIN_CAPTCHA": True,
    # Values operators tune (login throttling, token lifetime, ...) are platform parameters
    # (console/system/params.py, 参数设置), not settings: only what the app needs before the
    # database opens is configured here.
    "CONSOLE_TRUSTED_PROXIES": 0,  # reverse proxies in front whose X-Forwarded-* are believed
    "CONSOLE_SMS_CODE_MINUTES": 10,
    "CONSOLE_CHECK_SCHEMA": True,
    "CONSOLE_UPLOAD_DIR": None,
    "CONSOLE_UPLOAD_MAX_BYTES": 5 * 1024 * 1024,  # licence photos, qualification documents
    "CONSOLE_PAGE_SIZE": 20,
}
LOCALES = ("zh_Hans_CN", "en")
# Whole-number settings an operator may set in the environment (same names).
INT_ENV_SETTINGS = ("CONSOLE_TRUSTED_PROXIES",)


class ConfigError(RuntimeError):
    pass


def setting(name, app=None):
    """Read a CONSOLE_* key; a misspelled key is a programming error, not a None."""
    if name not in DEFAULTS:
        raise ConfigError(f"unknown setting {name!r}")
    return (app or current_app).config[name]


def _env_bool(value):
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _env_int(key, value):
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{key} must be a whole number, not {value!r}") from None
    if number < 0:
        raise ConfigError(f"{key} must not be negative, not {value!r}")
    return number


def _instance_secret(instance: Path, name: str) -> str:
    """Generate a secret once and keep it in the instance folder (embedded default only)."""
    path = instance / name
    if not path.exists():
        # written whole under a temporary name, then linked in: two processes starting at once
        # (test workers, gunicorn) never read a half-written file, and the first one wins
        instance.mkdir(parents=True, exist_ok=True)
        draft = instance / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        draft.write_text(secrets.token_urlsafe(48))
        draft.chmod(0o600)
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


def build_config(instance_path: str, overrides: dict | None = None) -> dict:
    instance = Path(instance_path)
    env = os.environ
    cfg = dict(DEFAULTS)
    cfg["CONSOLE_DATABASE_URL"] = env.get("DATABASE_URL") or f"sqlite:///{instance / 'console.db'}"
    for key in ("CONSOLE_TIMEZONE", "CONSOLE_LOCALE"):
        if env.get(key):
            cfg[key] = env[key]
    if "CONSOLE_LOGIN_CAPTCHA" in env:
        cfg["CONSOLE_LOGIN_CAPTCHA"] = _env_bool(env["CONSOLE_LOGIN_CAPTCHA"])
    for key in INT_ENV_SETTINGS:
        if env.get(key, "").strip():
            cfg[key] = _env_int(key, env[key])
    cfg["CONSOLE_UPLOAD_DIR"] = env.get("CONSOLE_UPLOAD_DIR") or str(instance / "uploads")
    cfg["SECRET_KEY"] = env.get("SECRET_KEY") or _instance_secret(instance, "secret_key")
    cfg["SECURITY_PASSWORD_SALT"] = env.get("SECURITY_PASSWORD_SALT") or _instance_secret(
        instance, "password_salt")
    cfg.update(overrides or {})
    if cfg["CONSOLE_LOCALE"] not in LOCALES:
        raise ConfigError(f"CONSOLE_LOCALE must be one of {', '.join(LOCALES)}, "
                          f"not {cfg['CONSOLE_LOCALE']!r}")
    unknown = [k for k in (overrides or {}) if k.startswith("CONSOLE_") and k not in DEFAULTS]
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    return cfg
