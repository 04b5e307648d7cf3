"""The ``crashgate`` command.

    crashgate serve     [config options]              run the gateway (embedded DB if no dsn)
    crashgate setupdb   [config options]              create or migrate the schema
    crashgate load      FILE... [--strict] [opts]     bulk-load crash and products files
    crashgate fakedata  --crashes N --days D --seed S -o DIR    write a sample data set
    crashgate elasticsearch [--data-dir DIR] [--port N]   run a local Elasticsearch node
    crashgate indexer   [--workers N] [--requeue-failed] [opts]   index queued crashes until Ctrl-C
    crashgate reindex   --from YYYY-MM-DD --to YYYY-MM-DD [--pause-refresh] [opts]
                                                      send a range of days to Elasticsearch again
    crashgate evaluate-bucketing [--engines postgresql,elasticsearch] [--reports N | --data F]
                                                      bucketing quality (BCubed) per threshold
    crashgate token     --name NAME [--scopes write,pii]  mint a bearer token, print its entry

Configuration options (``--database.dsn=...``, ``--admin.conf=FILE``,
``--admin.dump_conf=FILE``, ...) are read by configman; see ``config/crashgate.ini-dist``.
"""
import sys

from crashgate.cli.common import COMMANDS
from crashgate.cli import data, indexing, serving, tools  # noqa: F401  (they register commands)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"crashgate: unknown command {name!r}; commands: {', '.join(COMMANDS)}",
              file=sys.stderr)
        return 2
    return COMMANDS[name](rest) or 0
