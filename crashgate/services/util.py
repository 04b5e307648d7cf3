"""/util/versions_info."""
from crashgate.services.base import Service
from crashgate.services.contract import PRODUCT_VERSION, Contract, Param


class VersionsInfo(Service):
    name = "versions_info"
    path = "/util/versions_info"
    summary = ("Major version, release channel and build ids of Product:Version pairs; "
               "null when no versions are given.")
    methods = {
        "GET": Contract(
            Param("versions", PRODUCT_VERSION, many=True, default=[],
                  doc="Product:Version pairs (several separated by '+')",
                  example="Firefox:16.0.2"),
        ),
    }
