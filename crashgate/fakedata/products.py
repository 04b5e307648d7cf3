"""Products, versions and builds: the catalog crashes are drawn from, and the products file."""
import datetime
import random
import re
from dataclasses import dataclass, field

from crashgate.fakedata.sampling import Weighted

DESKTOP = ("windows", "mac", "linux")
DAILY_TYPES = ("Nightly", "Aurora")
DAILY_LEAD_DAYS = 7  # nightly/aurora builds start this many days before the first crash day
REPOSITORIES = {
    "gecko": {"Release": "mozilla-release", "Beta": "mozilla-beta", "Aurora": "mozilla-aurora",
              "Nightly": "mozilla-central", "ESR": "mozilla-esr10"},
    "comm": {"Release": "comm-release", "Beta": "comm-beta", "Aurora": "comm-aurora",
             "Nightly": "comm-central", "ESR": "comm-esr10"},
}


@dataclass(frozen=True)
class Product:
    name: str
    sort: int
    rapid_release_version: str
    release_name: str
    exe: str          # executable name in stacks
    addons: str       # key of clients.ADDONS
    share: float      # share of crash volume, percent
    platforms: tuple
    repositories: str
    versions: tuple   # (version_string, build_type, days before the first crash day or None if daily, weight)


def _betas(major, count, first_age, weight=1.0):
    """Beta versions ``major``b1..b``count``, one a week, newer ones weighing more."""
    return tuple((f"{major}b{n}", "Beta", first_age - 7 * (n - 1), weight * n) for n in range(1, count + 1))


PRODUCTS = (
    Product("Firefox", 1, "5.0", "firefox", "firefox", "desktop", 70, DESKTOP, "gecko",
            (("16.0", "Release", 45, 6), ("16.0.1", "Release", 35, 18), ("16.0.2", "Release", 20, 40))
            + _betas("17.0", 6, 40, 0.7) + (("18.0a2", "Aurora", None, 3), ("19.0a1", "Nightly", None, 3),
                                            ("10.0.10esr", "ESR", 20, 2))),
    Product("Thunderbird", 2, "6.0", "thunderbird", "thunderbird", "mail", 11, DESKTOP, "comm",
            (("16.0.1", "Release", 30, 20), ("16.0.2", "Release", 18, 45))
            + _betas("17.0", 3, 28, 2) + (("18.0a2", "Aurora", None, 2), ("19.0a1", "Nightly", None, 2))),
    Product("Fennec", 3, "5.0", "mobile", "fennec", "mobile", 13, ("android",), "gecko",
            (("16.0.1", "Release", 30, 20), ("16.0.2", "Release", 18, 40))
            + _betas("17.0", 4, 33, 2) + (("18.0a2", "Aurora", None, 2), ("19.0a1", "Nightly", None, 2))),
    Product("SeaMonkey", 4, "2.3", "seamonkey", "seamonkey", "desktop", 6, DESKTOP, "comm",
            (("2.13", "Release", 45, 8), ("2.13.1", "Release", 35, 15), ("2.13.2", "Release", 20, 35))
            + _betas("2.14", 3, 28, 2) + (("2.15a2", "Aurora", None, 2), ("2.16a1", "Nightly", None, 2))),
)


@dataclass
class Version:
    product: Product
    version: str
    build_type: str
    weight: float
    builds: dict = field(default_factory=dict)  # platform -> [(build_id, build epoch seconds)], oldest first
    channel: str = field(init=False)  # release_channel of its crashes
    daily: bool = field(init=False)  # built every day

    def __post_init__(self):
        self.channel, self.daily = self.build_type.lower(), self.build_type in DAILY_TYPES

    def add_build(self, platform, moment):
        epoch = int(moment.replace(tzinfo=datetime.timezone.utc).timestamp())
        self.builds.setdefault(platform, []).append((moment.strftime("%Y%m%d%H%M%S"), epoch))

    def pick_build(self, platform, day_index, rng):
        """A build of ``platform`` made before crash day ``day_index``: ``(build_id, epoch)``."""
        builds = self.builds[platform]
        if self.daily:  # users lag a few days behind the newest nightly
            lag = min(int(rng.expovariate(0.7)), DAILY_LEAD_DAYS - 1)
            return builds[day_index + DAILY_LEAD_DAYS - 1 - lag]
        return builds[-1] if rng.random() < 0.75 else builds[0]


def _build_times(rng, day, offsets_minutes):
    """Datetimes on ``day`` at a random time between 01:00 and 12:00, plus each minute offset."""
    base = datetime.datetime.combine(day, datetime.time()) + datetime.timedelta(
        hours=rng.randrange(1, 12), minutes=rng.randrange(60), seconds=rng.randrange(60))
    return [base + datetime.timedelta(minutes=offset) for offset in offsets_minutes]


class ProductCatalog:
    """Every product/version/build for a crash window ``[first_day, end_date]``."""

    def __init__(self, end_date, days, seed=0):
        self.end_date = end_date
        self.first_day = end_date - datetime.timedelta(days=days - 1)
        self.days = days
        rng = random.Random(f"crashgate.fakedata.products:{seed}")
        self.versions = [self._version(rng, product, spec)
                         for product in PRODUCTS for spec in product.versions]
        self.product_mix = Weighted(PRODUCTS, [p.share for p in PRODUCTS])
        self.version_mix = {p.name: Weighted.of([(v, v.weight) for v in self.versions if v.product is p])
                            for p in PRODUCTS}

    def _version(self, rng, product, spec):
        version_string, build_type, age_days, weight = spec
        version = Version(product, version_string, build_type, weight)
        platforms = product.platforms
        if age_days is None:  # a build a day, platforms 20 minutes apart
            for offset in range(-DAILY_LEAD_DAYS, self.days - 1):
                day = self.first_day + datetime.timedelta(days=offset)
                moments = _build_times(rng, day, range(0, 20 * len(platforms), 20))
                for platform, moment in zip(platforms, moments):
                    version.add_build(platform, moment)
        else:  # one or two build candidates, each shared by every platform
            candidates = 1 + (rng.random() < 0.4)
            for n in range(candidates):
                day = self.first_day - datetime.timedelta(days=age_days + 3 * (candidates - 1 - n))
                (moment,) = _build_times(rng, day, (0,))
                for platform in platforms:
                    version.add_build(platform, moment)
        return version

    def featured(self, version):
        """Latest release, latest beta, aurora and nightly of each product are featured."""
        same_type = [v for v in self.versions
                     if v.product is version.product and v.build_type == version.build_type]
        return version.build_type != "ESR" and version is same_type[-1]

    def to_json(self):
        """The products file (docs/crash-format.md) as a JSON-ready dict."""
        return {
            "products": [{"product_name": p.name, "sort": p.sort,
                          "rapid_release_version": p.rapid_release_version, "release_name": p.release_name}
                         for p in PRODUCTS],
            "versions": [self._version_json(v) for v in self.versions],
        }

    def _version_json(self, v):
        first_build = min(epoch for builds in v.builds.values() for _, epoch in builds)
        build_date = datetime.datetime.fromtimestamp(first_build, datetime.timezone.utc).date()
        sunset = max(build_date + datetime.timedelta(weeks=18), self.end_date + datetime.timedelta(weeks=2))
        beta = re.search(r"b(\d+)$", v.version) if v.build_type == "Beta" else None
        repository = REPOSITORIES[v.product.repositories][v.build_type]
        return {
            "product_name": v.product.name, "version_string": v.version,
            "major_version": re.match(r"\d+\.\d+", v.version).group(0),
            "release_version": v.version.removesuffix("esr"), "build_type": v.build_type,
            "beta_number": int(beta.group(1)) if beta else None,
            "build_date": build_date.isoformat(), "sunset_date": sunset.isoformat(),
            "featured": self.featured(v),
            "throttle": 10.0 if (v.product.name, v.build_type) == ("Firefox", "Release") else 100.0,
            "builds": [{"build_id": build_id, "platform": platform, "repository": repository}
                       for platform, builds in v.builds.items() for build_id, _ in builds],
        }
