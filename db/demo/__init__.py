"""The pieces of the demo-data generator behind `db.seed.seed_demo`.

Split by concern so each stays readable: `vocab` (the words), `columns` (vectorised column
helpers), `world` (tenants, reps, campaigns: the plan), `small` (inserting those few rows),
`leads` (who the leads are), `journey` (what the recovery loop did with each of them),
`tables`, `messages` and `activities` (Arrow tables per database table), `binary`
(PostgreSQL's binary COPY format), `load` (id reservation and the COPY pipeline),
and `integrity` (bulk mode's index rebuild and foreign-key proof). metrics_daily is rolled up
by `db.rollups`, the same SQL the rollup agent runs.
"""
