"""Entry point: `python run.py` serves the console; `flask --app run <command>` for the CLI."""
import os
import sys

from console import create_app, migrations
from console.db import db

app = create_app()

if __name__ == "__main__":
    with db.connection_context():
        version = migrations.current_version()
    if version != migrations.LATEST:
        sys.exit(f"Database schema is at version {version}, this code needs "
                 f"{migrations.LATEST}: run `flask --app run init-db` first.")
    app.run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")),
            threaded=True)
