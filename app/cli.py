"""`python -m app …`: the operator's command line.

Every command reads the settings once (a malformed value stops it with one line) and works
against `DATABASE_URL`/`REDIS_URL`, or the embedded servers when those are unset.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from redis import exceptions as redis_exc
from sqlalchemy import exc as sa_exc

from app.settings import get_settings

Command = Callable[[argparse.Namespace], int]


def cmd_migrate(args: argparse.Namespace) -> int:
    from app import runtime
    from db import migrate

    migrate.upgrade(runtime.service_urls().database_url, args.revision)
    print(f"migrated to {args.revision}")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from app import runtime
    from app.services import demo, operators

    sending = get_settings().sending_providers
    if sending:
        raise ValueError(
            f"the demo's made-up addresses and numbers would become real targets of {' and '.join(sending)}"
        )
    result = demo.seed(
        tenants=args.tenants, leads=args.leads, seed=args.seed, replace=args.replace, progress=not args.quiet
    )
    sign_in = operators.demo_sign_in()
    runtime.engine().dispose()
    print(result.summary())
    if sign_in:
        print(f"sign in to the console as {sign_in} / {operators.DEMO_PASSWORD}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from app import launcher

    return launcher.run(demo_leads=args.demo_leads, procfile=args.procfile)


def cmd_create_admin(args: argparse.Namespace) -> int:
    from app.services import operators

    password = operators.generate_password()
    role = getattr(args, "role", "superuser")
    operator_id = operators.create_admin(
        tenant_slug=args.tenant, email=args.email, name=args.name, password=password, role=role
    )
    print(f"{role} {args.email} is operator {operator_id} of {args.tenant}")
    print(f"password: {password}  (shown once; sign in at the console and keep it safe)")
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from app.services import scan

    for tenant_id in scan.tenant_ids(args.tenant):
        result = scan.scan_tenant(tenant_id=tenant_id)
        print(result.summary())
        if result.scheduled:
            scan.request_writes(tenant_id)
    return 0


def cmd_tick(args: argparse.Namespace) -> int:
    from app.services import scan, tick

    queued = tick.enqueue_tick(tenant_ids=scan.tenant_ids(args.tenant))
    tenants = sorted({tenant_id for _, tenant_id in queued})
    print(f"queued {len(queued)} jobs for {len(tenants)} tenant(s): {', '.join(tick.PER_TENANT)}; the workers run them")
    return 0


def cmd_api_key_create(args: argparse.Namespace) -> int:
    from app.services import api_keys

    tenant_id = api_keys.tenant_id_of(args.tenant)
    key_id, key = api_keys.create_key(tenant_id=tenant_id, name=args.name, created_by=None)
    print(f"API key {key_id} ({args.name}) of {args.tenant}:")
    print(key)
    print("shown once: store it now; only its hash is kept. Use it as: Authorization: Bearer <key>")
    return 0


def cmd_api_key_revoke(args: argparse.Namespace) -> int:
    from app.services import api_keys

    try:
        revoked = api_keys.revoke_key(key_id=args.id)
    except LookupError as error:
        raise ValueError(str(error)) from None
    print(f"API key {args.id} revoked" if revoked else f"API key {args.id} was already revoked")
    return 0


def cmd_api_key_list(args: argparse.Namespace) -> int:
    from app.services import api_keys

    keys = api_keys.list_keys(tenant_id=api_keys.tenant_id_of(args.tenant))
    if not keys:
        print(f"{args.tenant} has no API key")
    for k in keys:
        used = k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "never"
        state = f"revoked {k.revoked_at.isoformat(timespec='seconds')}" if k.revoked_at else "active"
        created = k.created_at.isoformat(timespec="seconds")
        print(f"{k.id}\t{k.prefix}…\t{k.name}\tcreated {created}\tused {used}\t{state}")
    return 0


def cmd_import_leads(args: argparse.Namespace) -> int:
    from app.services import api_keys, intake_files

    path = Path(args.file)
    report = intake_files.import_path(path, tenant_id=api_keys.tenant_id_of(args.tenant), dry_run=args.dry_run)
    for row in report.rejected:
        for error in row.errors:
            print(f"row {row.number}: {error.field}: {error.message}")
    rejected = report.rejected_csv()
    if rejected is not None:
        beside = intake_files.rejected_path(path)
        beside.write_bytes(rejected)
        print(f"{len(report.rejected):,} rejected rows written to {beside} (fix them there and import that file)")
    print(report.summary())
    return 1 if report.rejected else 0


def cmd_classify(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from app.ai.triage import ClaudeTriage
    from app.services.triage_model import classify_lines

    claude = ClaudeTriage.from_settings(get_settings())
    try:
        bad = classify_lines(sys.stdin, sys.stdout, today=datetime.now(UTC).date(), claude=claude)
    finally:
        if claude is not None:
            claude.close()
    return 1 if bad else 0


def cmd_erase_lead(args: argparse.Namespace) -> int:
    from app.services import erasure

    tenant_id = _lead_tenant(args.lead_id)
    if not args.yes:
        answer = input(f"Erase lead {args.lead_id} of tenant {tenant_id} for good? Type the lead id to confirm: ")
        if answer.strip() != str(args.lead_id):
            print("not erased")
            return 1
    report = erasure.erase_lead(tenant_id=tenant_id, lead_id=args.lead_id, operator_id=None)
    print(report.summary())
    return 0


def cmd_export_lead(args: argparse.Namespace) -> int:
    from app.services import subject_access

    tenant_id = _lead_tenant(args.lead_id)
    document = subject_access.to_json(
        subject_access.export_lead(tenant_id=tenant_id, lead_id=args.lead_id, operator_id=None)
    )
    if args.output:
        Path(args.output).write_text(document + "\n", encoding="utf-8")
        print(f"lead {args.lead_id} exported to {args.output}")
    else:
        print(document)
    return 0


def _lead_tenant(lead_id: int) -> int:
    from app.services import erasure

    try:
        return erasure.tenant_of(lead_id=lead_id)
    except LookupError as error:
        raise ValueError(str(error)) from None


def add_privacy_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    erase = sub.add_parser("erase-lead", help="remove a lead's personal data everywhere and never contact it again")
    erase.add_argument("--lead-id", required=True, type=_positive)
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.set_defaults(func=cmd_erase_lead)
    export = sub.add_parser("export-lead", help="one JSON document of everything held about a lead")
    export.add_argument("--lead-id", required=True, type=_positive)
    export.add_argument("--output", metavar="FILE", help="write there instead of standard output")
    export.set_defaults(func=cmd_export_lead)


def cmd_release_held(args: argparse.Namespace) -> int:
    from app.services import api_keys, held

    tenant_id = api_keys.tenant_id_of(args.tenant)
    counts = held.release(tenant_id=tenant_id, decision=args.decision, operator_id=None, message_ids=args.id)
    by_events = {k.removeprefix("by_events_"): n for k, n in counts.items() if k.startswith("by_events_")}
    settled = ", ".join(f"{n} {status}" for status, n in by_events.items()) or "none"
    print(f"settled by the provider's events: {settled}; marked {args.decision}: {counts['decided']}")
    if counts["still_held"]:
        print(
            f"{counts['still_held']} still held: a resend waits until a row has been held "
            f"{held.RESEND_AFTER}, so a late event cannot make it a duplicate"
        )
    return 0


def add_held_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    release = sub.add_parser(
        "release-held",
        help="resolve held messages: by the provider's events first, then as you decide (after checking its log)",
    )
    release.add_argument("--tenant", required=True, metavar="SLUG")
    release.add_argument(
        "--as",
        dest="decision",
        required=True,
        choices=["sent", "failed", "resend"],
        help="sent: the provider has it; failed: close it, never retried; resend: send it again",
    )
    release.add_argument("--id", type=_positive, action="append", help="only this message (repeatable)")
    release.set_defaults(func=cmd_release_held)


def add_api_key_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = sub.add_parser("api-key", help="make, list and revoke a tenant's bearer keys of the intake API")
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a key and print it once")
    create.add_argument("--tenant", required=True, metavar="SLUG")
    create.add_argument("--name", default="API", help="what the key is for, shown in lists")
    create.set_defaults(func=cmd_api_key_create)
    revoke = actions.add_parser("revoke", help="revoke a key for good")
    revoke.add_argument("--id", required=True, type=_positive)
    revoke.set_defaults(func=cmd_api_key_revoke)
    listing = actions.add_parser("list", help="a tenant's keys, by prefix (the keys themselves are not kept)")
    listing.add_argument("--tenant", required=True, metavar="SLUG")
    listing.set_defaults(func=cmd_api_key_list)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description="Lead Recovery Engine")
    sub = parser.add_subparsers(dest="command", required=True)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("--revision", default="head")
    migrate.set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="load realistic demo data with COPY")
    seed.add_argument("--tenants", type=_positive, default=3)
    seed.add_argument("--leads", type=_positive, default=20_000, help="leads in all, spread over the tenants")
    seed.add_argument("--seed", type=int, default=7, help="the same seed gives the same data")
    seed.add_argument("--replace", action="store_true", help="delete the demo tenants of a previous seed first")
    seed.add_argument("--quiet", action="store_true", help="no progress bar")
    seed.set_defaults(func=cmd_seed)

    run = sub.add_parser(
        "run", help="start embedded services if needed, migrate, (demo: seed once), start all processes"
    )
    run.add_argument(
        "--demo",
        action="store_true",
        help="run as the demo: seed an empty database (implied without DATABASE_URL and real providers)",
    )
    run.add_argument("--demo-leads", type=_positive, default=20_000)
    run.add_argument("--procfile", default="Procfile")
    run.set_defaults(func=cmd_run)

    scan = sub.add_parser("scan", help="one silence scan now (all tenants or one), then wake the writer")
    scan.add_argument("--tenant", metavar="SLUG", help="scan only this tenant")
    scan.set_defaults(func=cmd_scan)

    tick = sub.add_parser("tick", help="enqueue one pass of every scheduled agent now, as cron would")
    tick.add_argument("--tenant", metavar="SLUG", help="only this tenant")
    tick.set_defaults(func=cmd_tick)

    admin = sub.add_parser("create-admin", help="create an owner or an admin of one tenant (sees only that tenant)")
    admin.add_argument("--tenant", required=True)
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Admin")
    admin.add_argument("--role", choices=("owner", "admin"), default="admin")
    admin.set_defaults(func=cmd_create_admin)

    superuser = sub.add_parser(
        "create-superuser", help="create a platform superuser (sees and acts in every tenant; only made here)"
    )
    superuser.add_argument("--tenant", required=True, help="the tenant the account belongs to")
    superuser.add_argument("--email", required=True)
    superuser.add_argument("--name", default="Superuser")
    superuser.set_defaults(func=cmd_create_admin)

    add_api_key_commands(sub)
    add_privacy_commands(sub)
    add_held_command(sub)

    imports = sub.add_parser("import-leads", help="import a CSV of leads (new ones created, known ones updated)")
    imports.add_argument("file", metavar="FILE", help="UTF-8 CSV, comma or semicolon separated, header first")
    imports.add_argument("--tenant", required=True, metavar="SLUG")
    imports.add_argument("--dry-run", action="store_true", help="check and count everything, write nothing")
    imports.set_defaults(func=cmd_import_leads)

    classify = sub.add_parser("classify", help='triage replies: JSON lines {"text","channel"} in, intent added out')
    classify.set_defaults(func=cmd_classify)
    return parser


def _positive(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {value}")
    return number


def unreachable(error: Exception) -> str:
    """One line for a server that does not answer: the driver's first line, never the URL (the
    drivers name host and port, not the password), and no traceback."""
    if isinstance(error, sa_exc.OperationalError):
        first = str(error.orig).strip().splitlines()[0] if error.orig is not None else "connection failed"
        return f"PostgreSQL (DATABASE_URL) cannot be reached: {first}"
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return f"Redis (REDIS_URL) cannot be reached: {first}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "demo", False):
        os.environ["DEMO"] = "1"  # read by the settings of this process and of every process it starts
    get_settings()  # fail fast, with one line, on a malformed or unsafe environment
    func: Command = args.func
    try:
        return func(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (sa_exc.OperationalError, redis_exc.ConnectionError, redis_exc.TimeoutError) as error:
        print(f"error: {unreachable(error)}", file=sys.stderr)
        return 2
    finally:
        from app import runtime

        runtime.stop_embedded()
