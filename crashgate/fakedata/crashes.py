"""Processed crash documents (docs/crash-format.md), generated from a plan of timed events."""
import array
import datetime
import string

from crashgate.fakedata import clients, vocab
from crashgate.fakedata.products import PRODUCTS
from crashgate.fakedata.sampling import Weighted
from crashgate.fakedata.stacks import CHILD_EXE, HANG_PREFIX, REASON_MIX

DAY_SECONDS = 86400
HANG_PAIR_RATE = 0.0152  # of events; each hang pair is two crashes, ~3% of all crashes
PLUGIN_RATE = 0.037
CONTENT_RATE = 0.031
FAILED_RATE = 0.005
DUPLICATE_RATE = 0.002
URL_RATE, EMAIL_RATE, COMMENT_RATE, APP_NOTES_RATE = 0.40, 0.05, 0.10, 0.85
VIDEO_ID_CHARS = string.ascii_letters + string.digits + "-_"
BROWSER, PLUGIN, CONTENT, HANG = b"bpch"  # event kinds; a hang event is a pair of crashes


_CLOCK = [f"{h:02d}:{m:02d}:{s:02d}+00:00" for h in range(24) for m in range(60) for s in range(60)]
_DAY_PREFIXES = {}


def iso(epoch):
    """``2012-11-14T08:15:02+00:00`` for whole seconds since the epoch (UTC)."""
    day, seconds = divmod(epoch, DAY_SECONDS)
    prefix = _DAY_PREFIXES.get(day)
    if prefix is None:
        date = datetime.date(1970, 1, 1) + datetime.timedelta(days=day)
        prefix = _DAY_PREFIXES[day] = date.isoformat() + "T"
    return prefix + _CLOCK[seconds]


def crash_id(rng, yymmdd):
    """A Socorro crash id: 36 characters ending in the depth digit ``2`` and ``YYMMDD``."""
    h = f"{rng.getrandbits(96):024x}"
    return f"{h[:8]}-{h[8:12]}-4{h[12:15]}-{h[15:19]}-{h[19:24]}2{yymmdd}"


def hang_id(rng):
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _url_token(url):
    """A function making the variable part of ``url``."""
    for marker, words in (("search", clients.SEARCH_TERMS), ("baidu", clients.SEARCH_TERMS),
                          ("wiki", clients.WIKI_ARTICLES), ("reddit", clients.SUBREDDITS),
                          ("Users", clients.USER_NAMES)):
        if marker in url:
            return lambda rng: rng.choice(words)
    if "youtube" in url:
        return lambda rng: "".join(rng.choices(VIDEO_ID_CHARS, k=11))
    return lambda rng: str(rng.randrange(10 ** 6, 10 ** 10))


def _machines(os):
    """Weighted (os_version, cpu_name, cpu_info) of ``os``, CPUs matching the version's architecture."""
    return Weighted.of([((version, cpu, info), vw * cw)
                        for version, vw, arch in clients.OS_VERSIONS[os]
                        for cpu, info, cw in clients.CPUS[os] if arch in (None, cpu)])


def plan_day(count, rng):
    """Event times (seconds into the day, sorted) and kinds adding up to ``count`` crashes."""
    kinds, remaining = bytearray(), count
    while remaining:
        r = rng.random()
        kind = (HANG if r < HANG_PAIR_RATE and remaining > 1 else
                PLUGIN if r < HANG_PAIR_RATE + PLUGIN_RATE else
                CONTENT if r < HANG_PAIR_RATE + PLUGIN_RATE + CONTENT_RATE else BROWSER)
        kinds.append(kind)
        remaining -= 2 if kind == HANG else 1
    return array.array("i", sorted(rng.randrange(DAY_SECONDS) for _ in kinds)), bytes(kinds)


class CrashFactory:
    """Builds crash dicts from the product and stack catalogs; every draw uses the given rng."""

    def __init__(self, products, stacks):
        self.products, self.stacks = products, stacks
        self.desktop_products = Weighted.of([(p, p.share) for p in PRODUCTS if "windows" in p.platforms])
        self.desktop_os = Weighted.of(clients.DESKTOP_OS_MIX)
        self.machines = {os: _machines(os) for os in vocab.OSES}
        self.plugins = {  # os -> weighted lists of plugin dicts, one per version
            os: Weighted.of([([{"name": name, "filename": filename, "version": v} for v in versions], weight)
                             for name, filename, versions, weight in plugins])
            for os, plugins in clients.PLUGINS.items()}
        self.addons = {key: Weighted.of([({"id": i, "version": v}, w) for i, v, w in pool])
                       for key, pool in clients.ADDONS.items()}
        self.addon_counts = Weighted.of(clients.ADDON_COUNTS)
        self.urls = Weighted.of([((url, _url_token(url) if "{}" in url else None), weight)
                                 for url, weight in clients.URLS])
        self.processor_notes = Weighted.of(clients.PROCESSOR_NOTES_OK)
        self._themes = {}

    def crashes(self, chunk, rng):
        """The crashes of a ``dataset.Chunk``: its events in order, hang pairs as two crashes."""
        day = _Day(chunk.date.strftime("%y%m%d"), chunk.day_index, rng)
        start = int(datetime.datetime.combine(chunk.date, datetime.time(), datetime.timezone.utc).timestamp())
        makers = {BROWSER: self._browser, PLUGIN: self._plugin, CONTENT: self._content}
        for seconds, kind in zip(chunk.times, chunk.kinds):
            if kind == HANG:  # the plugin side is processed up to a minute later, the same day
                later = rng.randint(1, 59)
                seconds = min(seconds, DAY_SECONDS - 1 - later)
                yield from self._hang_pair(day, start + seconds, start + seconds + later)
            else:
                yield makers[kind](day, start + seconds)

    # ---- one event of each kind --------------------------------------------------------
    def _browser(self, day, ts, process_type=None):
        rng = day.rng
        product = self.products.product_mix.pick(rng)
        os = "android" if product.name == "Fennec" else self.desktop_os.pick(rng)
        crash = self._reported(day, ts, product, os)
        crash["process_type"] = process_type
        template = self.stacks.browser_mix(product.name, os).pick(rng)
        return self._processed(crash, day, ts, template, os, CHILD_EXE if process_type else product.exe)

    def _content(self, day, ts):
        return self._browser(day, ts, "content")

    def _plugin(self, day, ts):
        os = self.desktop_os.pick(day.rng)
        crash = self._reported(day, ts, self.desktop_products.pick(day.rng), os)
        return self._plugin_processed(crash, day, ts, os)

    def _hang_pair(self, day, ts, plugin_ts):
        """A browser crash and a plugin crash of one plugin hang (Windows), sharing client data."""
        rng = day.rng
        product = self.desktop_products.pick(rng)
        browser = self._reported(day, ts, product, "windows")
        browser["hangid"] = hang_id(rng)
        plugin = dict(browser)
        yield self._processed(browser, day, ts, self.stacks.hang_mix.pick(rng), "windows", product.exe)
        yield self._plugin_processed(plugin, day, plugin_ts, "windows")

    # ---- parts --------------------------------------------------------------------------
    def _reported(self, day, ts, product, os):
        """A crash dict holding what the client reports (product, build, machine, add-ons, user
        input); the processing fields are ``None`` until ``_processed`` fills them."""
        rng = day.rng
        version = self.products.version_mix[product.name].pick(rng)
        build_id, build_epoch = version.pick_build(os, day.index, rng)
        os_version, cpu_name, cpu_info = self.machines[os].pick(rng)
        uptime = rng.randrange(1, 60) if rng.random() < 0.1 else int(rng.expovariate(1 / 3600.0)) + 60
        url = None
        if rng.random() < URL_RATE:
            url, token = self.urls.pick(rng)
            url = url.format(token(rng)) if token else url
        return {
            "uuid": None, "date_processed": None,
            "client_crash_date": iso(ts - 1 - int(rng.expovariate(1 / 180.0))),
            "product": product.name, "version": version.version, "build": build_id,
            "release_channel": version.channel, "signature": None, "reason": None, "address": None,
            "os_name": clients.OS_NAMES[os], "os_version": os_version, "cpu_name": cpu_name,
            "cpu_info": cpu_info,
            "url": url, "email": self._email(rng) if rng.random() < EMAIL_RATE else None,
            "user_comments": rng.choice(clients.COMMENTS) if rng.random() < COMMENT_RATE else None,
            "app_notes": rng.choice(clients.APP_NOTES[os]) if rng.random() < APP_NOTES_RATE else None,
            "uptime": uptime, "install_age": max(uptime, int((ts - build_epoch) * rng.random() ** 2)),
            "last_crash": None if rng.random() < 0.35 else 1 + int(rng.expovariate(1 / 345600.0)),
            "hangid": None, "process_type": None, "plugin": None,
            "extensions": self._extensions(rng, product, version.version), "frames": None,
            "started_datetime": None, "completed_datetime": None, "success": None, "processor_notes": None,
            "duplicate_of": None,
        }

    def _plugin_processed(self, crash, day, ts, os):
        plugin = day.rng.choice(self.plugins[os].pick(day.rng))
        crash["process_type"], crash["plugin"] = "plugin", plugin
        template = self.stacks.plugin_mixes[(os, plugin["filename"])].pick(day.rng)
        return self._processed(crash, day, ts, template, os, CHILD_EXE)

    def _processed(self, crash, day, ts, template, os, exe):
        """Fill in what processing ``crash`` as ``template`` in process ``exe`` produced."""
        rng = day.rng
        uuid = crash_id(rng, day.yymmdd)
        if rng.random() < FAILED_RATE:
            signature, frames, reason, address = clients.FAILED_SIGNATURE, [], None, None
            success, notes = False, rng.choice(clients.PROCESSOR_NOTES_FAILED)
        else:
            signature = HANG_PREFIX + template.signature if crash["hangid"] else template.signature
            frames = self.stacks.frames(template, os, exe, rng)
            reason = vocab.REASONS[os][template.reason if rng.random() < 0.88 else REASON_MIX.pick(rng)]
            r = rng.random()
            address = template.addresses[0 if r < 0.6 else 1 if r < 0.85 else 2]
            success, notes = True, self.processor_notes.pick(rng)
        processed = iso(ts)
        crash.update(uuid=uuid, date_processed=processed, signature=signature, reason=reason, address=address,
                     frames=frames, started_datetime=iso(ts - 1 - (rng.random() < 0.3)),
                     completed_datetime=processed, success=success, processor_notes=notes,
                     duplicate_of=day.duplicate_target(uuid))
        return crash

    def _extensions(self, rng, product, version):
        pool = self.addons[product.addons]
        chosen = []
        for _ in range(self.addon_counts.pick(rng)):
            addon = pool.pick(rng)
            if addon not in chosen:
                chosen.append(addon)
        if product.addons != "mobile" and rng.random() < 0.95:
            chosen.insert(rng.randrange(len(chosen) + 1), self._theme(version))
        return chosen

    def _theme(self, version):
        theme = self._themes.get(version)
        if theme is None:
            theme = self._themes[version] = {"id": clients.DEFAULT_THEME, "version": version}
        return theme

    @staticmethod
    def _email(rng):
        number = str(rng.randrange(1, 1000)) if rng.random() < 0.5 else ""
        return f"{rng.choice(clients.USER_NAMES)}{number}@{rng.choice(clients.EMAIL_DOMAINS)}"


class _Day:
    """Per-day state: the rng, the uuid date suffix, recent uuids for ``duplicate_of``."""

    __slots__ = ("yymmdd", "index", "rng", "recent")

    def __init__(self, yymmdd, index, rng):
        self.yymmdd, self.index, self.rng, self.recent = yymmdd, index, rng, []

    def duplicate_target(self, uuid):
        """Rarely an earlier uuid of the day this crash duplicates; remembers ``uuid``."""
        target = None
        if self.recent and self.rng.random() < DUPLICATE_RATE:
            target = self.rng.choice(self.recent)
        self.recent.append(uuid)
        if len(self.recent) > 512:
            del self.recent[:256]
        return target
