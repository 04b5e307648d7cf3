"""Built-in operational endpoints: heartbeat (backend status), load-balancer ping, version."""
import crashgate


def heartbeat(backends, serving):
    """Status of every backend: 503 when one that serves requests by default is down;
    ``degraded`` (still 200) when only a backend reached by ``force_api_impl`` is down."""
    report = {}
    for name, backend in sorted(backends.items()):
        try:
            report[name] = {"status": "ok", **backend.health()}
        except Exception as exc:  # any failure of a backend is a failed heartbeat
            report[name] = {"status": "error", "message": getattr(exc, "message", str(exc))}
        report[name]["serves_by_default"] = name in serving
    failing = {name for name, entry in report.items() if entry["status"] != "ok"}
    if failing & set(serving):
        return 503, {"status": "error", "backends": report}
    return 200, {"status": "degraded" if failing else "ok", "backends": report}


def lbheartbeat():
    return 200, {"status": "ok"}


def version():
    return 200, {"name": "crashgate", "version": crashgate.__version__}
