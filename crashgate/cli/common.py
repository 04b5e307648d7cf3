"""What the commands share: the command registry, configuration, schema check."""
import logging

from crashgate.settings import load_config

log = logging.getLogger("crashgate")

COMMANDS = {}


def command(function):
    COMMANDS[function.__name__.replace("_", "-").removeprefix("cmd-")] = function
    return function


def config_and_args(parser, rest):
    """Split ``rest`` into this command's own arguments and configman's options."""
    args, config_argv = parser.parse_known_args(rest)
    config = load_config(config_argv)
    from crashgate.runtime import configure_logging

    configure_logging(config)
    return args, config


def ensure_schema(dsn):
    """Stop with a clear message when the database schema is missing or out of date."""
    import psycopg2

    from crashgate.external.postgresql.schema import migrations, setup_database

    try:
        conn = psycopg2.connect(dsn, connect_timeout=5)
    except psycopg2.OperationalError as error:
        raise SystemExit(f"crashgate: cannot connect to PostgreSQL: {error}".strip())
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
            has_table = cur.fetchone()[0]
            current = 0
            if has_table:
                cur.execute("SELECT coalesce(max(version), 0) FROM schema_migrations")
                current = cur.fetchone()[0]
    finally:
        conn.close()
    latest = migrations()[-1][0]
    if current < latest:
        if current == 0:
            setup_database(dsn)
            return
        raise SystemExit(f"crashgate: database schema is version {current}, this crashgate "
                         f"needs {latest}: run `crashgate setupdb` first")


def workers_option(args):
    return {"workers": args.workers} if args.workers else {}
