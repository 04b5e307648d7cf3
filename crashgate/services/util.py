"""/util/versions_info."""
from crashgate.services.base import Service
from crashgate.services.contract import Contract
from crashgate.services.search_filters import versions_param


class VersionsInfo(Service):
    path = "/util/versions_info"
    summary = ("Major version, release channel and build ids of Product:Version pairs; "
               "null when no versions are given.")
    methods = {
        "GET": Contract(versions_param()),
    }
