"""Fault tests: real redis-server processes killed, restarted and paused mid-run."""
