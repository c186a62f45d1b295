"""The Leads & scores page, one module per thing it decides: `shared` (wording and who may act),
`picks` (which lead the drawer shows), `finder` (filters, the leads table, the score breakdown),
`call_list` (who to call first), `drawer` (the picked lead), `lead_map` (every lead as a point,
and "Recover N selected"), and `page` (the short `render()` that lays them out)."""
