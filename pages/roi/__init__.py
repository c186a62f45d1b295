"""The ROI page, one module per section: `readers` (the cached reads), `headline` (the figures and
their definitions), `lift` (the hold-out lift and the naive before/after), `prices` (the unit-price
form), `attribution`, `report` (charts and per-period and per-channel tables), `summary` (the
printable client summary), and `page` (the short `render()` that lays them out)."""
