"""Commands that create data: the schema, loads, generated data sets."""
import argparse
import datetime
import pathlib
import sys

from crashgate.cli.common import command, config_and_args, ensure_schema


@command
def cmd_setupdb(rest):
    from crashgate.external.postgresql.schema import setup_database
    from crashgate.runtime import resolve_database

    _, config = config_and_args(argparse.ArgumentParser(prog="crashgate setupdb"), rest)
    server = resolve_database(config)
    applied = setup_database(config.database.dsn)
    print(f"schema up to date; applied migrations: {applied or 'none'}")
    del server
    return 0


@command
def cmd_load(rest):
    from crashgate.ingest.loader import LoadError, load_files
    from crashgate.runtime import resolve_database

    parser = argparse.ArgumentParser(prog="crashgate load",
                                     description="Load crash (.jsonl[.gz]) and products "
                                                 "(.json) files into PostgreSQL.")
    parser.add_argument("files", nargs="+", type=pathlib.Path)
    parser.add_argument("--strict", action="store_true",
                        help="stop at the first malformed line instead of skipping it")
    parser.add_argument("--batch-size", type=int, default=5000)
    args, config = config_and_args(parser, rest)
    server = resolve_database(config)
    ensure_schema(config.database.dsn)
    try:
        summary = load_files(config.database.dsn, args.files, strict=args.strict,
                             batch_size=args.batch_size, out=sys.stderr)
    except LoadError as error:
        print(f"crashgate load: {error}", file=sys.stderr)
        return 1
    del server
    return 1 if summary.rejected and args.strict else 0


@command
def cmd_fakedata(rest):
    from crashgate.fakedata import write_dataset

    parser = argparse.ArgumentParser(prog="crashgate fakedata",
                                     description="Write a deterministic sample data set.")
    parser.add_argument("--crashes", type=int, default=10000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--end-date", type=datetime.date.fromisoformat, default=None,
                        help="last day of the data (YYYY-MM-DD, default today UTC)")
    parser.add_argument("-o", "--output", type=pathlib.Path, required=True)
    parser.add_argument("--labelled", type=int, metavar="N", default=0,
                        help="instead: write N PartyCrasher reports with gold bucket labels "
                             "to OUTPUT as JSON lines {\"label\", \"report\"}")
    args = parser.parse_args(rest)
    if args.labelled:
        return _write_labelled(args)
    summary = write_dataset(args.output, crashes=args.crashes, days=args.days, seed=args.seed,
                            end_date=args.end_date, progress=_progress_printer("generated"))
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    print(f"wrote {summary['crashes']} crashes in {len(summary['files'])} files and "
          f"{summary['products_file']} in {summary['seconds']:.1f} s")
    return 0


def _write_labelled(args):
    import orjson

    from crashgate.fakedata.labelled import generate_labelled_reports

    pairs = generate_labelled_reports(args.labelled, seed=args.seed, days=args.days,
                                      start=_labelled_start(args))
    with open(args.output, "wb") as out:
        for report, label in pairs:
            out.write(orjson.dumps({"label": label, "report": report}) + b"\n")
    print(f"wrote {len(pairs)} labelled reports ({len({label for _, label in pairs})} gold "
          f"buckets) to {args.output}")
    return 0


def _labelled_start(args):
    if args.end_date is None:
        return None
    return args.end_date - datetime.timedelta(days=args.days - 1)


def _progress_printer(verb):
    if not sys.stderr.isatty():
        return None
    return lambda done: sys.stderr.write(f"\r{verb} {done} crashes")
