"""Configuration that must hold on a fresh machine: the instance secrets are made once, and
processes starting together (test workers, gunicorn workers) all read the same whole secret."""
import multiprocessing

from console import config


def _read_secret(folder, start, results):
    start.wait()
    results.put(config._instance_secret(folder, "secret_key"))


def test_processes_starting_together_on_a_fresh_instance_read_one_whole_secret(tmp_path):
    context = multiprocessing.get_context("fork")
    for attempt in range(15):  # the race is narrow: give it many chances
        folder = tmp_path / f"instance{attempt}"
        start, results = context.Event(), context.Queue()
        workers = [context.Process(target=_read_secret, args=(folder, start, results))
                   for _ in range(6)]
        for worker in workers:
            worker.start()
        start.set()
        secrets = [results.get(timeout=30) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
        assert len(set(secrets)) == 1 and len(secrets[0]) >= 40, secrets
        assert [p.name for p in folder.iterdir()] == ["secret_key"]  # no drafts left behind
        assert (folder / "secret_key").stat().st_mode & 0o077 == 0
