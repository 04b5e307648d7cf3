"""Built-in operational endpoints: heartbeat (backend status), load-balancer ping, version."""
from concurrent.futures import ThreadPoolExecutor

import crashgate


def heartbeat(backends, serving):
    """Status of every backend: 503 when one that serves requests by default is down;
    ``degraded`` (still 200) when only a backend reached by ``force_api_impl`` is down.
    The backends are checked at once: a hung one costs its timeout once, not once per
    backend that also reads PostgreSQL."""
    names = sorted(backends)
    with ThreadPoolExecutor(max_workers=len(names) or 1,
                            thread_name_prefix="crashgate-heartbeat") as checks:
        report = dict(zip(names, checks.map(_check, (backends[name] for name in names))))
    for name in names:
        report[name]["serves_by_default"] = name in serving
    failing = {name for name, entry in report.items() if entry["status"] != "ok"}
    if failing & set(serving):
        return 503, {"status": "error", "backends": report}
    return 200, {"status": "degraded" if failing else "ok", "backends": report}


def _check(backend):
    try:
        return {"status": "ok", **backend.health()}
    except Exception as exc:  # any failure of a backend is a failed heartbeat
        return {"status": "error", "message": getattr(exc, "message", str(exc))}


def lbheartbeat():
    return 200, {"status": "ok"}


def version():
    return 200, {"name": "crashgate", "version": crashgate.__version__}
