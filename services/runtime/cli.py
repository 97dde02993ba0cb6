"""The `sparks` command line."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import msgspec

from schemas import Submission
from schemas.json_schema import SCHEMA_DIR, drifted, write_schemas
from services.runtime.config import Config, load_config
from services.runtime.errors import ConfigError, SparksError
from services.runtime.logging import configure_logging, register_secret
from services.runtime.secrets import SECRET_ENV, environment_with_dotenv

DESCRIPTION = """\
sparks-intake: tickets from trackers become tasks for autonomous coding agents ("ghosts"),
and the outcome goes back to the ticket. Four services talk only through NATS JetStream.

  sparks up                 run everything here (embeds a nats-server when none is configured)
  sparks submit --title T   submit a manual ticket (same as: nats pub ticket.submit '{...}')
  sparks tail               follow events live
  sparks audit TICKET_ID    one ticket's whole story from the stream
  sparks kpi [--since 7d]   success/rollback rates, lead times, scan decisions, replayed from the stream
  sparks scan FILE          try the prompt scanner on JSON lines of tickets
  sparks approve|deny ID    decide on a task held for approval; sparks pause|resume: stop/start dispatching

Config: --config PATH, else $SPARKS_CONFIG, else ./sparks.toml (none = defaults). NATS_URL wins over [nats] url.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sparks", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", metavar="PATH", help="config file (default: $SPARKS_CONFIG or ./sparks.toml)")
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        help="log verbosity (default: info for up and run, warning for the other commands)",
    )
    parser.add_argument("--log-json", action="store_true", default=None, help="JSON log lines even on a terminal")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="run all four services in one process (embedded nats-server unless NATS_URL is set)")
    up.add_argument("--port", type=int, help="port for the embedded nats-server (default [nats] embedded_port, 4222)")

    run = sub.add_parser(
        "run",
        help="run services against the configured NATS: one per process as compose does, or several in one",
    )
    run.add_argument(
        "service",
        nargs="+",
        choices=["intake", "scanner", "dispatcher", "writeback"],
        help="e.g. `sparks run dispatcher`, or `sparks run intake scanner dispatcher writeback` in one process",
    )

    submit = sub.add_parser("submit", help="submit a manual ticket to ticket.submit")
    submit.add_argument("--title", help="one-line summary (required unless --file)")
    submit.add_argument("--description", default="", help="the ticket body")
    submit.add_argument("--repo", help='"owner/name"')
    submit.add_argument("--risk-tier", choices=["low", "medium", "high", "critical"])
    submit.add_argument("--label", action="append", default=[], dest="labels", help="a label (repeatable)")
    submit.add_argument("--id", help="your own ticket id (default: the stream sequence)")
    submit.add_argument("--callback-url", help="URL that receives the outcome as a signed POST")
    submit.add_argument("--file", help="send this file's JSON envelope as is ('-' for stdin)")
    submit.add_argument("--wait", action="store_true", help="follow the ticket until it is written back")
    submit.add_argument("--json", action="store_true", help="print the result as JSON")

    audit = sub.add_parser("audit", help="print one ticket's event history from the stream")
    audit.add_argument("ticket_id", help="e.g. manual:42")
    audit.add_argument("--json", action="store_true", help="one JSON event per line")

    kpi = sub.add_parser("kpi", help="KPIs replayed from the stream, per source, repo, risk tier and ghost")
    kpi.add_argument("--since", help="only events newer than this (7d, 24h, 30m)")
    kpi.add_argument("--json", action="store_true", help="one JSON object")
    kpi.add_argument("--watch", action="store_true", help="keep following the stream and reprint every 5 s")

    tail = sub.add_parser("tail", help="follow new events until Ctrl-C")
    tail.add_argument("--json", action="store_true", help="one JSON event per line")

    schemas = sub.add_parser("schemas", help=f"regenerate the JSON Schema files in {SCHEMA_DIR}")
    schemas.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")

    config = sub.add_parser("config", help="validate the config and print it (secrets omitted)")
    config.add_argument("--json", action="store_true", help="print as JSON")

    approve = sub.add_parser("approve", help="let a task held for approval run")
    approve.add_argument("ticket_id")
    approve.add_argument("--by", help="who approves (default: your user name)")
    deny = sub.add_parser("deny", help="refuse a task held for approval (it completes as rejected)")
    deny.add_argument("ticket_id")
    deny.add_argument("--by", help="who denies (default: your user name)")
    deny.add_argument("--reason", default="", help="said in the ticket's writeback")
    sub.add_parser("pause", help="stop starting new tasks (running ones finish); for every dispatcher")
    sub.add_parser("resume", help="start dispatching again")

    bench = sub.add_parser("bench", help="the pipeline against a bare NATS relay, on an embedded server")
    bench.add_argument("--quick", action="store_true", help="a smaller run, under a minute")
    bench.add_argument("--json", action="store_true", help="one JSON object")

    dlq = sub.add_parser("dlq", help="list dead letters, or replay one after fixing its cause")
    dlq.add_argument("action", choices=["list", "replay"])
    dlq.add_argument("seq", nargs="?", type=int, help="the dead letter's sequence (from `sparks dlq list`)")
    dlq.add_argument("--json", action="store_true", help="one JSON object per line")

    scan = sub.add_parser("scan", help="scan JSON lines of tickets and print one decision per line")
    scan.add_argument("file", nargs="?", default="-", help='JSON lines {"id", "title", "description"} (default stdin)')
    scan.add_argument("--mode", choices=["block", "flag_only"], help="override [prompt_scanner] mode")

    secrets = sub.add_parser("secrets", help="store secrets in the system keyring")
    secrets.add_argument("action", choices=["set", "get", "delete", "list"])
    secrets.add_argument("name", nargs="?", choices=sorted(SECRET_ENV), help="secret name")
    return parser


def _submission(args: argparse.Namespace) -> Submission | bytes:
    if args.file:
        if args.file == "-":
            return sys.stdin.buffer.read()
        try:
            return Path(args.file).read_bytes()
        except OSError as exc:
            raise ConfigError(f"submit --file: cannot read {args.file}: {exc.strerror}") from None
    if not args.title:
        raise ConfigError("submit: give --title (or --file with a JSON envelope)")
    return Submission(
        title=args.title,
        description=args.description,
        repo=args.repo,
        risk_tier=args.risk_tier,
        labels=args.labels,
        id=args.id,
        callback_url=args.callback_url,
    )


def _secrets(args: argparse.Namespace) -> int:
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    from services.runtime.secrets import KEYRING_SERVICE

    if args.action == "list":
        for name, env_name in sorted(SECRET_ENV.items()):
            print(f"{name:<26} env {env_name}")
        return 0
    if not args.name:
        raise ConfigError(f"secrets {args.action}: name a secret, one of {', '.join(sorted(SECRET_ENV))}")
    try:
        if args.action == "set":
            value = getpass.getpass(f"{args.name}: ")
            if not value:
                raise ConfigError("secrets set: empty value; nothing stored")
            keyring.set_password(KEYRING_SERVICE, args.name, value)
            print(f"stored {args.name} in the keyring")
        elif args.action == "get":
            stored = keyring.get_password(KEYRING_SERVICE, args.name)
            print(f"{args.name} is {'set' if stored else 'not set'} in the keyring (values are never printed)")
            return 0 if stored else 1
        else:
            keyring.delete_password(KEYRING_SERVICE, args.name)
            print(f"deleted {args.name} from the keyring")
    except PasswordDeleteError:
        print(f"{args.name} was not in the keyring")
    except KeyringError as exc:
        raise ConfigError(
            f"no usable system keyring ({exc}); set {SECRET_ENV[args.name]} in the environment or .env instead"
        ) from None
    return 0


def _dispatch(args: argparse.Namespace, config: Config) -> int:
    from services.runtime import log_commands, runner

    match args.command:
        case "up":
            asyncio.run(runner.up(config, args.port))
        case "run":
            asyncio.run(runner.run_services(config, list(dict.fromkeys(args.service))))
        case "submit":
            return asyncio.run(log_commands.submit(config, _submission(args), args.json, args.wait))
        case "audit":
            return asyncio.run(log_commands.audit(config, args.ticket_id, args.json))
        case "kpi":
            return asyncio.run(log_commands.kpi(config, args.since, args.json, args.watch))
        case "tail":
            return asyncio.run(log_commands.tail(config, args.json))
        case "approve" | "deny" | "pause" | "resume":
            print(asyncio.run(log_commands.operator(config, args)))
        case "bench":
            from services.runtime.bench_command import render, run_bench

            def progress(step: str) -> None:
                print(f"sparks bench: {step}", file=sys.stderr, flush=True)

            result = asyncio.run(run_bench(args.quick, progress))
            print(json.dumps(result) if args.json else render(result))
        case "dlq":
            return asyncio.run(log_commands.dlq(config, args.action, args.seq, args.json))
        case "scan":
            from services.scanner.scan_command import run_scan

            if args.file == "-":
                return run_scan(config.prompt_scanner, sys.stdin.buffer, sys.stdout, args.mode)
            try:
                with open(args.file, "rb") as source:
                    return run_scan(config.prompt_scanner, source, sys.stdout, args.mode)
            except OSError as exc:
                raise ConfigError(f"scan: cannot read {args.file}: {exc.strerror}") from None
        case "config":
            shown = msgspec.structs.replace(
                config, nats=msgspec.structs.replace(config.nats, password=None, token=None)
            )
            text = msgspec.json.encode(shown)
            print(
                msgspec.json.format(text, indent=2).decode()
                if args.json
                else f"config OK\n{msgspec.toml.encode(shown).decode()}"
            )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `sparks` console script."""
    args = _parser().parse_args(argv)
    configure_logging(args.log_level or ("info" if args.command in ("up", "run") else "warning"), args.log_json)
    try:
        if args.command == "schemas":
            if args.check:
                stale = drifted()
                print(
                    "schemas up to date" if not stale else f"schemas drifted: {', '.join(stale)}; run `sparks schemas`"
                )
                return 1 if stale else 0
            print(f"wrote {len(write_schemas())} schema files to {SCHEMA_DIR}")
            return 0
        if args.command == "secrets":
            return _secrets(args)
        env = environment_with_dotenv()
        for name in SECRET_ENV.values():
            if env.get(name):
                register_secret(env[name])
        return _dispatch(args, load_config(args.config, env))
    except SparksError as exc:
        print(f"sparks: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
