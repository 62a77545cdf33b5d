"""The relay benchmark's parts (`bench/bench_relay.py` runs it and says what it measures):

- `relay.worlds`   the two platform worlds: sandbox, people, volunteers, the bridge and the echo bot
- `relay.driver`   open-loop runs, the maximum-rate search, escalation under load
- `relay.runs`     one run's outcome and what counts as sustained
- `relay.stages`   a latency split at the Redis streams a message passed
- `relay.profile`  py-spy on the bridge during chosen runs, summarised
- `relay.report`   the tables and the targets
"""
