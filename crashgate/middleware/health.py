"""Built-in operational endpoints: heartbeat (backend status), load-balancer ping, version."""
import crashgate


def heartbeat(backends):
    """200 when every backend answers, 503 naming the ones that do not."""
    report = {}
    for name, backend in sorted(backends.items()):
        try:
            report[name] = {"status": "ok", **backend.health()}
        except Exception as exc:  # any failure of a backend is a failed heartbeat
            report[name] = {"status": "error", "message": getattr(exc, "message", str(exc))}
    healthy = all(entry["status"] == "ok" for entry in report.values())
    return (200 if healthy else 503), {"status": "ok" if healthy else "error", "backends": report}


def lbheartbeat():
    return 200, {"status": "ok"}


def version():
    return 200, {"name": "crashgate", "version": crashgate.__version__}
