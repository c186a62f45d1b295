"""Leads coming in, from a file or the API: the pure rules (no I/O, standard library only).

- `fields.py`: the fields an import may set, `LeadValues`, `FieldError`;
- `values.py`, `dates.py`: reading one value (text, money, yes/no, tags, a moment in Excel's formats);
- `columns.py`: which field a file's column holds, from its header;
- `csv_file.py`: a file's bytes into header and rows, or the one reason it cannot be read;
- `rows.py`: one row checked into `LeadValues` or its field errors;
- `batch.py`: rows of one batch that name the same lead, folded into one;
- `rejected.py`: the rejected rows as a CSV to fix and import again.

The writes (matching leads, upserting, the per-row answer) are app/services/intake.py's.
"""
