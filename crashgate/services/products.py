"""/products and /products/builds."""
from crashgate.errors import MissingArgument
from crashgate.services.base import SeeOther, Service, path_with_pairs
from crashgate.services.contract import BUILD_ID, DATETIME, INTEGER, Contract, Param
from crashgate.services.defaults import days_ago
from crashgate.services.search_filters import versions_param

RELEASE_CHANNELS = ("Nightly", "Aurora", "Beta", "Release", "ESR")


class Products(Service):
    path = "/products"
    summary = ("Without parameters: every product. With versions: details of those "
               "Product:Version pairs.")
    methods = {
        "GET": Contract(versions_param()),
    }


class ProductsBuilds(Service):
    path = "/products/builds"
    summary = "Builds of a product (GET) and recording a new build (POST, answers 303)."
    methods = {
        "GET": Contract(
            Param("product", required=True, doc="product name (case-insensitive)",
                  example="Firefox"),
            Param("version", doc="only builds of this version"),
            Param("from_date", DATETIME, default=days_ago(7), aliases=("date_from",),
                  doc="only builds made on or after this date (default: now - 7 days)"),
        ),
        "POST": Contract(  # text bounded so a build always fits its unique index
            Param("product", required=True, max_length=100, doc="product of the new build"),
            Param("version", required=True, max_length=100,
                  doc="version of the new build, e.g. 10.0"),
            Param("platform", required=True, max_length=100,
                  doc="platform, e.g. macosx, win32, linux-i686"),
            Param("build_id", BUILD_ID, required=True, doc="build id YYYYMMDDhhmmss"),
            Param("build_type", required=True, choices=RELEASE_CHANNELS,
                  doc="release channel of the build"),
            Param("beta_number", INTEGER, minimum=0, maximum=2 ** 31 - 1,
                  doc="beta number; mandatory when build_type is Beta"),
            Param("repository", default="", max_length=100,
                  doc="repository the build came from"),
        ),
    }

    def call(self, implementation, method, params, request):
        if method == "POST" and params["build_type"] == "Beta" and params["beta_number"] is None:
            raise MissingArgument("beta_number", "Mandatory parameter 'beta_number' is missing "
                                                 "or empty (required when build_type is Beta)")
        if method == "POST" and params["build_type"] != "Beta":
            params = dict(params, beta_number=None)
        return super().call(implementation, method, params, request)

    def respond(self, method, params, result):
        if method != "POST":
            return result
        location = path_with_pairs(self.path, product=params["product"],
                                   version=params["version"])
        return SeeOther(location, body={"created": result, "product": params["product"],
                                        "version": params["version"],
                                        "platform": params["platform"],
                                        "build_id": int(params["build_id"])})
