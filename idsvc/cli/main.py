"""The ``idsvc`` command line. Each command is small and documented by ``--help``."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from idsvc.settings import ConfigError, Settings, load_settings

__all__ = ["main"]

Command = Callable[[argparse.Namespace], int]


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        print(f"idsvc: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _cmd_serve(args: argparse.Namespace) -> int:
    from idsvc.cli.serve import serve

    return serve(_settings(), host=args.host, port=args.port)


def _cmd_dev(args: argparse.Namespace) -> int:
    from idsvc.cli.serve import serve_dev

    return serve_dev(_settings(), port=args.port)


def _cmd_migrate(args: argparse.Namespace) -> int:
    from idsvc.cli.database import migrate

    return asyncio.run(migrate(_settings()))


def _cmd_audit_verify(args: argparse.Namespace) -> int:
    from idsvc.cli.database import audit_verify

    return asyncio.run(audit_verify(_settings(), seal_first=args.seal))


def _cmd_audit_export(args: argparse.Namespace) -> int:
    from idsvc.cli.database import audit_export

    return asyncio.run(audit_export(_settings(), since=args.since, output=args.output))


def _cmd_audit_archive(args: argparse.Namespace) -> int:
    from idsvc.cli.audit_archive import audit_archive, month_start

    return asyncio.run(
        audit_archive(_settings(), before=month_start(args.before), directory=Path(args.to))
    )


def _cmd_audit_verify_archive(args: argparse.Namespace) -> int:
    from idsvc.cli.audit_archive import audit_verify_archive

    checkpoint = Path(args.checkpoint) if args.checkpoint else None
    return asyncio.run(audit_verify_archive(_settings(), Path(args.archive), checkpoint))


def _cmd_keys_list(args: argparse.Namespace) -> int:
    from idsvc.cli.keys import keys_list

    return asyncio.run(keys_list(_settings()))


def _cmd_keys_rotate(args: argparse.Namespace) -> int:
    from idsvc.cli.keys import keys_rotate

    if args.emergency and not args.reason:
        print("idsvc keys rotate --emergency: give --reason", file=sys.stderr)
        return 2
    return asyncio.run(
        keys_rotate(_settings(), alg=args.alg, emergency=args.emergency, reason=args.reason or "")
    )


def _cmd_policy_explain(args: argparse.Namespace) -> int:
    from idsvc.cli.policy_explain import explain_recorded

    return asyncio.run(explain_recorded(_settings(), jti=args.token_jti, event=args.event))


def _cmd_policy_check(args: argparse.Namespace) -> int:
    from idsvc.cli.policy_check import policy_check

    return asyncio.run(policy_check(_settings(), user=args.user, audience=args.audience))


def _cmd_policy_sign_off(args: argparse.Namespace) -> int:
    from idsvc.cli.sign_off import sign_off_country_groups
    from idsvc.clock import utc_now
    from idsvc.policy.country_groups import DATA_FILE

    settings = _settings()
    path = args.file
    if path is None:
        configured = settings.config.policy.country_groups_file
        path = Path(configured) if configured else DATA_FILE
    return sign_off_country_groups(
        path, reviewer=args.reviewer, reviewed_on=args.date, now=utc_now(), settings=settings
    )


def _cmd_verify_token(args: argparse.Namespace) -> int:
    from idsvc.verify.cli import run

    return run(args)


def _cmd_schemas(args: argparse.Namespace) -> int:
    from idsvc.errors_catalogue import catalogue_is_current, write_catalogue
    from idsvc.schemas import (
        generate_schemas,
        route_map_is_current,
        stale_schemas,
        write_route_map,
    )

    if args.check:
        stale = [f"schemas/{name}" for name in stale_schemas()]
        if not catalogue_is_current():
            stale.append("docs/errors.md")
        if not route_map_is_current():
            stale.append("docs/routes.md")
        for name in stale:
            print(f"{name} is out of date: run `idsvc schemas`", file=sys.stderr)
        return 1 if stale else 0
    for path in [*generate_schemas(), write_catalogue(), write_route_map()]:
        print(f"wrote {path}")
    return 0


def _cmd_users_erase(args: argparse.Namespace) -> int:
    from idsvc.cli.users import users_erase

    return asyncio.run(
        users_erase(
            _settings(),
            user=args.user,
            reason=args.reason,
            despite_retention=args.despite_retention,
        )
    )


def _cmd_operators_grant(args: argparse.Namespace) -> int:
    from idsvc.cli.operators import operators_grant

    return asyncio.run(operators_grant(_settings(), user=args.user, reason=args.reason))


def _cmd_operators_revoke(args: argparse.Namespace) -> int:
    from idsvc.cli.operators import operators_revoke

    return asyncio.run(operators_revoke(_settings(), user=args.user, reason=args.reason))


def _cmd_screening_import(args: argparse.Namespace) -> int:
    from idsvc.cli.screening import screening_import

    return asyncio.run(
        screening_import(_settings(), path=args.file, force=args.force, dry_run=args.dry_run)
    )


def _user_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a user id (UUID): {value!r}") from None


def _reason(value: str) -> str:
    if not 3 <= len(value.strip()) <= 500:
        raise argparse.ArgumentTypeError("give a reason of 3 to 500 characters")
    return value.strip()


def _timestamp(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2026-01-01T00:00:00Z")
    return parsed


def _add_policy_commands(commands: Any) -> None:
    """``policy check``, ``policy explain`` and ``policy sign-off-country-groups``."""
    policy = commands.add_parser(
        "policy", help="explain eligibility decisions; sign off the country groups"
    )
    policy_commands = policy.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    check = policy_commands.add_parser(
        "check", help="the decision for a user and an audience, with every reason (exit 1: deny)"
    )
    check.add_argument("--user", required=True, help="the user id or the account's e-mail")
    check.add_argument("--audience", required=True, help="the protected resource")
    check.set_defaults(run=_cmd_policy_check)
    explain = policy_commands.add_parser(
        "explain",
        help="why a token was issued or refused, decided again from the records alone "
        "(exit 1: not reproduced; 3: not reproducible, the person's evidence was erased)",
    )
    which = explain.add_mutually_exclusive_group(required=True)
    which.add_argument("--token-jti", help="the jti of an issued token")
    which.add_argument("--event", type=int, help="the seq of a token.issued or token.denied event")
    explain.set_defaults(run=_cmd_policy_explain)
    sign_off = policy_commands.add_parser(
        "sign-off-country-groups",
        help="record that NAME reviewed the country groups' data on a day: writes "
        "reviewed_by, reviewed_on and the data's reviewed_sha256 into the groups file",
    )
    sign_off.add_argument("--reviewer", required=True, help="who reviewed the data")
    sign_off.add_argument(
        "--date", required=True, help="the day of the review, YYYY-MM-DD (not in the future)"
    )
    sign_off.add_argument(
        "--file",
        type=Path,
        help="the groups file (default: [policy] country_groups_file, else the shipped file)",
    )
    sign_off.set_defaults(run=_cmd_policy_sign_off)


def _add_user_commands(commands: Any) -> None:
    """``users``: people's accounts."""
    users = commands.add_parser("users", help="people's accounts")
    user_commands = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    erase = user_commands.add_parser(
        "erase",
        help="erase a person: personal values deleted, their audit values unreadable, "
        "tokens revoked; the audit chain still verifies",
    )
    erase.add_argument("user", type=_user_id, help="the user id")
    erase.add_argument(
        "--reason", required=True, help="recorded: a case number, never a name or address"
    )
    erase.add_argument(
        "--despite-retention",
        action="store_true",
        help="erase although the person was active within [retention] period (only when "
        "no retention duty, such as 15 CFR 762.6, applies to their records); four eyes: the "
        "first operator's run proposes it (exit 3), another operator's identical run erases",
    )
    erase.set_defaults(run=_cmd_users_erase)


def _add_vetting_commands(commands: Any) -> None:
    """``operators`` and ``screening``: organisation vetting."""
    operators = commands.add_parser("operators", help="grant or revoke the operator role")
    operator_commands = operators.add_subparsers(
        dest="operators_command", required=True, metavar="ACTION"
    )
    grant = operator_commands.add_parser("grant", help="make a user an operator now")
    grant.add_argument("--user", type=_user_id, required=True, help="the user id")
    grant.add_argument("--reason", type=_reason, required=True, help="why (audited)")
    grant.set_defaults(run=_cmd_operators_grant)
    revoke = operator_commands.add_parser("revoke", help="end a user's operator grant")
    revoke.add_argument("--user", type=_user_id, required=True, help="the user id")
    revoke.add_argument("--reason", type=_reason, help="why (audited)")
    revoke.set_defaults(run=_cmd_operators_revoke)

    screening = commands.add_parser("screening", help="restricted-party screening lists")
    screening_commands = screening.add_subparsers(
        dest="screening_command", required=True, metavar="ACTION"
    )
    screening_import = screening_commands.add_parser(
        "import",
        help="import a list in the Consolidated Screening List format (CSV or JSON), "
        "re-screen every organisation and person, and print the hits it cleared",
    )
    screening_import.add_argument("file", type=Path, help="the CSV or JSON file")
    screening_import.add_argument(
        "--force",
        action="store_true",
        help="import even if the list, or one of its sources, has far fewer entries than "
        "the current one (a real shrink, not a truncated download)",
    )
    screening_import.add_argument(
        "--dry-run",
        action="store_true",
        help="show what the import would do (new hits, the hits it would clear) and change nothing",
    )
    screening_import.set_defaults(run=_cmd_screening_import)


def _cmd_orgs_import(args: argparse.Namespace) -> int:
    from idsvc.cli.orgs import import_members_file

    return asyncio.run(
        import_members_file(_settings(), org=args.org, path=args.file, dry_run=args.dry_run)
    )


def _cmd_gateway(args: argparse.Namespace) -> int:
    from idsvc.gateway.cli import run_gateway

    return run_gateway(args)


def _cmd_login(args: argparse.Namespace) -> int:
    from idsvc.client.cli import run_login

    return run_login(args)


def _cmd_token(args: argparse.Namespace) -> int:
    from idsvc.client.cli import run_token

    return run_token(args)


def _add_orgs(commands: Any) -> None:
    orgs = commands.add_parser("orgs", help="organisation administration")
    org_commands = orgs.add_subparsers(dest="orgs_command", required=True, metavar="ACTION")
    org_import = org_commands.add_parser(
        "import", help="enrol members from a CSV file (email, role, display_name, ...)"
    )
    org_import.add_argument("--org", required=True, type=uuid.UUID, help="the organisation id")
    org_import.add_argument("file", type=Path, help="the CSV file")
    org_import.add_argument("--dry-run", action="store_true", help="show what would change")
    org_import.set_defaults(run=_cmd_orgs_import)


def _add_client_and_gateway(commands: Any) -> None:
    """Commands for people and gateways rather than for running the service."""
    from idsvc.gateway.cli import add_gateway_arguments

    gateway = commands.add_parser(
        "gateway", help="run the check sidecar for NGINX auth_request / Envoy ext_authz"
    )
    add_gateway_arguments(gateway)
    gateway.set_defaults(run=_cmd_gateway)

    from idsvc.client.cli import add_login_arguments, add_token_arguments

    login = commands.add_parser("login", help="sign in from this terminal (device flow)")
    add_login_arguments(login)
    login.set_defaults(run=_cmd_login)
    token = commands.add_parser("token", help="print an eligibility token for an audience")
    add_token_arguments(token)
    token.set_defaults(run=_cmd_token)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="idsvc",
        description="Identity and nationality verification service. Configuration comes from "
        "IDSVC_CONFIG (TOML) and IDSVC_* environment variables; see the README.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the service (production)")
    serve.add_argument("--host", help="listen address (default: service.listen_host)")
    serve.add_argument("--port", type=int, help="listen port (default: service.listen_port)")
    serve.set_defaults(run=_cmd_serve)

    dev = commands.add_parser(
        "dev",
        help="run locally: embedded database, migrations, demo data; prints the URL",
    )
    dev.add_argument("--port", type=int, default=8000, help="listen port (default 8000)")
    dev.set_defaults(run=_cmd_dev)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(run=_cmd_migrate)

    audit = commands.add_parser("audit", help="verify or export the audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_commands.add_parser(
        "verify", help="recompute the hash chain; exit 1 naming the first broken event"
    )
    verify.add_argument(
        "--seal", action="store_true", help="seal pending events first (writes to the database)"
    )
    verify.set_defaults(run=_cmd_audit_verify)
    export = audit_commands.add_parser("export", help="write events as JSON lines")
    export.add_argument("--since", type=_timestamp, required=True, help="ISO 8601 time with zone")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.set_defaults(run=_cmd_audit_export)
    archive = audit_commands.add_parser(
        "archive", help="move months before a cutoff to a file, with a signed chain checkpoint"
    )
    archive.add_argument("--before", required=True, help="YYYY-MM: archive every earlier month")
    archive.add_argument("--to", required=True, help="the folder to write the archive into")
    archive.set_defaults(run=_cmd_audit_archive)
    verify_archive = audit_commands.add_parser(
        "verify-archive", help="check an archive file against its signed checkpoint"
    )
    verify_archive.add_argument("archive", help="the .jsonl file")
    verify_archive.add_argument("--checkpoint", help="default: ARCHIVE.checkpoint.jwt")
    verify_archive.set_defaults(run=_cmd_audit_verify_archive)

    keys = commands.add_parser("keys", help="list or rotate token signing keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    key_list = key_commands.add_parser("list", help="every key with its state and schedule")
    key_list.set_defaults(run=_cmd_keys_list)
    key_rotate = key_commands.add_parser(
        "rotate",
        help="switch to the next key as soon as gateways can know it; "
        "--emergency drops the current key from the JWKS at once",
    )
    key_rotate.add_argument("--alg", choices=["ES256", "EdDSA", "RS256"], default="ES256")
    key_rotate.add_argument(
        "--emergency", action="store_true", help="the current key is compromised: revoke it now"
    )
    key_rotate.add_argument("--reason", help="why (recorded in the audit trail)")
    key_rotate.set_defaults(run=_cmd_keys_rotate)

    _add_user_commands(commands)

    _add_policy_commands(commands)

    verify_token = commands.add_parser(
        "verify-token", help="verify an eligibility token offline and print its claims"
    )
    from idsvc.verify.cli import add_arguments

    add_arguments(verify_token)
    verify_token.set_defaults(run=_cmd_verify_token)

    _add_vetting_commands(commands)
    _add_client_and_gateway(commands)

    _add_orgs(commands)

    schemas = commands.add_parser(
        "schemas", help="regenerate schemas/*.json, docs/errors.md and docs/routes.md from the code"
    )
    schemas.add_argument(
        "--check", action="store_true", help="exit 1 if a schema or docs/errors.md is stale"
    )
    schemas.set_defaults(run=_cmd_schemas)
    return parser


# Options whose value is opaque and may begin with "-" (a jti is base64url: one in 64
# begins so), which argparse would otherwise take for an option of its own.
_OPAQUE_VALUES = frozenset({"--token-jti"})


def _opaque_values_joined(argv: Sequence[str]) -> list[str]:
    """``--token-jti -abc`` as ``--token-jti=-abc``."""
    joined: list[str] = []
    pending = False
    for arg in argv:
        if pending:
            joined[-1] = f"{joined[-1]}={arg}"
            pending = False
            continue
        joined.append(arg)
        pending = arg in _OPAQUE_VALUES
    return joined


def main(argv: Sequence[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(_opaque_values_joined(given))
    run: Command = args.run
    return run(args)
