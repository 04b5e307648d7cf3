"""/job and /priorityjobs."""
from crashgate.services.base import Service
from crashgate.services.contract import CRASH_ID, Contract, Param

UUID = Param("uuid", CRASH_ID, required=True, doc="crash id")


class Job(Service):
    path = "/job"
    summary = "The processing job of a crash."
    methods = {"GET": Contract(UUID)}


class Priorityjobs(Service):
    path = "/priorityjobs"
    summary = ("GET: whether a crash is queued for priority processing; POST: queue it "
               "(true when queued now, false when it already was).")
    methods = {"GET": Contract(UUID), "POST": Contract(UUID)}
