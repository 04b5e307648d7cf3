"""Tiny plugins registered as real entry points (see the dist-info beside this file)."""
from crashgate.errors import BackendUnavailable
from crashgate.services.base import Service
from crashgate.services.contract import INTEGER, Contract, Param, STRING


class AuxService(Service):
    path = "/aux"
    methods = {"GET": Contract(Param("foo"), Param("names", STRING, many=True),
                               Param("count", INTEGER), Param("boom"))}


class CrashService(Service):
    path = "/crash"
    methods = {"GET": Contract(Param("uuid", required=True))}


class TestyBackend:
    def __init__(self, config):
        self.config = config

    def health(self):
        return {}

    def close(self):
        pass


class EchoImplementation:
    def __init__(self, backend):
        self.backend = backend

    def get(self, foo, names, count, boom):
        if boom == "bug":
            raise NameError("a bug in an implementation")
        if boom == "down":
            raise BackendUnavailable("testy is down")
        return {"foo": foo, "names": names, "count": count}


class AllYourBase(EchoImplementation):
    def get(self, uuid):
        return ["all", "your", "base"]


class EmptyCrash(EchoImplementation):
    def get(self, uuid):
        return {"hits": [], "total": 0}
