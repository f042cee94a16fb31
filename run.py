"""Entry point: `python run.py` serves the console through waitress, a production WSGI server
with a pool of threads (HOST and PORT say where; no development server, no reloader);
`flask --app run <command>` for the CLI."""
import os
import sys

from console import create_app, migrations
from console.db import db

app = create_app()
THREADS = 8  # requests in flight at once; the database, not the CPU, is what they wait for


def serve():
    from waitress import serve as waitress_serve

    with db.connection_context():
        version = migrations.current_version()
    if version != migrations.LATEST:
        sys.exit(f"Database schema is at version {version}, this code needs "
                 f"{migrations.LATEST}: run `flask --app run init-db` first.")
    host, port = os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "5000"))
    print(f"Serving the console on http://{host}:{port}/admin/ (waitress, {THREADS} threads)",
          flush=True)
    waitress_serve(app, host=host, port=port, threads=THREADS, ident="console")


if __name__ == "__main__":
    serve()
