"""Operator tools: bearer tokens and the bucketing-quality evaluation."""
import argparse
import pathlib

from crashgate.cli.common import command, config_and_args


@command
def cmd_token(rest):
    from crashgate.middleware.access import mint_token

    parser = argparse.ArgumentParser(
        prog="crashgate token",
        description="Mint a random bearer token; print it once, and the auth.tokens entry "
                    "(its SHA-256 digest, not the token) that makes the gateway accept it.")
    parser.add_argument("--name", required=True, help="who uses it (shown in logs)")
    parser.add_argument("--scopes", default="", help="write and/or pii, comma-separated")
    args = parser.parse_args(rest)
    try:
        token, entry = mint_token(args.name, args.scopes)
    except ValueError as error:
        parser.error(str(error))
    print(f"token (give it to {entry.name}; it is not stored anywhere):\n{token}\n"
          f"entry for auth.tokens (comma-separated) or a line of auth.tokens_file:\n"
          f"{entry.line()}")
    return 0


@command
def cmd_evaluate_bucketing(rest):
    import orjson

    from crashgate.bucketing.evaluation import format_table
    from crashgate.bucketing_evaluation import best_row, evaluate_engines
    from crashgate.runtime import resolve_database

    parser = argparse.ArgumentParser(
        prog="crashgate evaluate-bucketing",
        description="Post labelled reports in time order through each bucketing engine (in a "
                    "scratch database) and print BCubed precision/recall/F1 and purity per "
                    "threshold.")
    parser.add_argument("--engines", default="postgresql",
                        help="comma-separated engines (postgresql, elasticsearch)")
    parser.add_argument("--reports", type=int, default=2000,
                        help="generate this many labelled reports (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=pathlib.Path,
                        help="read labelled reports (JSON lines {label, report}) instead")
    parser.add_argument("--every", type=int, default=None,
                        help="also print cumulative rows every N reports")
    parser.add_argument("--min-f1", type=float, default=None,
                        help="exit 1 when an engine's best BCubed F1 is below this")
    args, config = config_and_args(parser, rest)
    if args.data:
        lines = args.data.read_bytes().splitlines()
        labelled = [(item["report"], item["label"])
                    for item in map(orjson.loads, filter(None, lines))]
    else:
        from crashgate.fakedata.labelled import generate_labelled_reports

        labelled = generate_labelled_reports(args.reports, seed=args.seed)
    server = resolve_database(config)
    failed = False

    def report(engine, rows, seconds):
        nonlocal failed
        best = best_row(rows)
        print(f"engine {engine}: {len(labelled)} reports in {seconds:.1f} s "
              f"({len(labelled) / seconds:.0f} reports/s); best F1 {best['bcubed_f1']:.3f} "
              f"at T = {best['threshold']}")
        print(format_table(rows), flush=True)
        failed |= args.min_f1 is not None and best["bcubed_f1"] < args.min_f1

    evaluate_engines(config, [e.strip() for e in args.engines.split(",") if e.strip()],
                     labelled, every=args.every, out=report)
    del server
    return 1 if failed else 0
