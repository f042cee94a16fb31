"""Real console server processes for tests: `python run.py` on free loopback ports, waited on
through /healthz, stopped (terminate, then kill) by the test that started them."""
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url, **extra):
    """The environment of a served console: no captcha, fixed secrets, the given database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSOLE_", "FLASK_"))}
    env.update({"DATABASE_URL": database_url, "SECRET_KEY": "test-server-secret-key",
                "SECURITY_PASSWORD_SALT": "test-server-password-salt",
                "CONSOLE_LOGIN_CAPTCHA": "0", "PYTHONUNBUFFERED": "1", **extra})
    return env


def flask_cli(env, *args):
    """Run `flask --app run <args>` as its own process; fail with its output."""
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "run", *args], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Server:
    """One `python run.py` process; `url` is its base URL."""

    def __init__(self, env, log_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(log_path)
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "run.py"], cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
            env={**env, "HOST": "127.0.0.1", "PORT": str(self.port)})

    def wait_healthy(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        log = self.log_path.read_text(errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"console server {self.url} did not become healthy:\n{log}")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def start_servers(env, log_dir, count=1):
    """Start `count` servers side by side (they boot in parallel) and wait for all of them."""
    servers = [Server(env, Path(log_dir) / f"server-{n}.log") for n in range(count)]
    try:
        for server in servers:
            server.wait_healthy()
    except Exception:
        for server in servers:
            server.stop()
        raise
    return servers
