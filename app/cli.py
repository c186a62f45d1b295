"""`python -m app …`: the operator's command line.

Every command reads the settings once (a malformed value stops it with one line) and works
against `DATABASE_URL`/`REDIS_URL`, or the embedded servers when those are unset.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

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
    operator_id = operators.create_admin(tenant_slug=args.tenant, email=args.email, name=args.name, password=password)
    print(f"admin {args.email} is operator {operator_id} of {args.tenant}")
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

    run = sub.add_parser("run", help="start embedded services if needed, migrate, seed once, start all processes")
    run.add_argument("--demo-leads", type=_positive, default=20_000)
    run.add_argument("--procfile", default="Procfile")
    run.set_defaults(func=cmd_run)

    scan = sub.add_parser("scan", help="one silence scan now (all tenants or one), then wake the writer")
    scan.add_argument("--tenant", metavar="SLUG", help="scan only this tenant")
    scan.set_defaults(func=cmd_scan)

    admin = sub.add_parser("create-admin", help="create an admin operator for a tenant")
    admin.add_argument("--tenant", required=True)
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Admin")
    admin.set_defaults(func=cmd_create_admin)
    return parser


def _positive(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {value}")
    return number


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    get_settings()  # fail fast, with one line, on a malformed environment
    func: Command = args.func
    try:
        return func(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        from app import runtime

        runtime.stop_embedded()
