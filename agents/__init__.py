"""The RQ agents: thin job functions (ids in, one service call), the cron schedule, worker setup."""
