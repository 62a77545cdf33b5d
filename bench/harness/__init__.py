"""What the benchmarks share, so that each `bench/bench_*.py` holds only what it measures.

- `harness.settings`   the bridge's settings for a run: fixed secrets, the volunteers' rota file, the tables
- `harness.sandboxes`  the platform sandboxes started with volunteers and the staff spaces the bridge needs
- `harness.processes`  the bot processes of `relay_bots.py` started and stopped; the bridge, restartable
- `harness.timing`     when bot messages landed, percentiles, CPU time and CPU pressure
- `harness.results`    the machine a run was on, and the JSON results under `bench/results/`

A benchmark is run as a script (`.venv/bin/python bench/bench_relay.py`), so `bench/` is first on its path and
these import as `harness.*`.
"""
