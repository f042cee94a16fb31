"""`python run.py` (and so scripts/start) serves the console through a production WSGI server
with threads: no development-server warning, no version in the Server header, several
requests in flight at once."""
import concurrent.futures
import urllib.request

from servers import flask_cli, server_env, start_servers


def test_python_run_py_serves_through_waitress_with_threads(tmp_path):
    env = server_env(f"sqlite:///{tmp_path / 'console.db'}")
    flask_cli(env, "init-db")
    [server] = start_servers(env, tmp_path)
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as response:
            assert response.status == 200
            assert response.headers["Server"] == "console"

        def fetch(_n):
            with urllib.request.urlopen(f"{server.url}/login", timeout=20) as response:
                return response.status
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            assert list(pool.map(fetch, range(16))) == [200] * 16
    finally:
        server.stop()
    log = server.log_path.read_text(errors="replace")
    assert "waitress, 8 threads" in log
    assert "development server" not in log and "Werkzeug" not in log
