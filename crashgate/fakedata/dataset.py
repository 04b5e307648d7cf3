"""A whole fake data set: daily volumes, catalogs and the crash stream for a date window."""
import array
import datetime
import math
import random
from dataclasses import dataclass

from crashgate.fakedata.crashes import CrashFactory, plan_day
from crashgate.fakedata.products import ProductCatalog
from crashgate.fakedata.sampling import apportion
from crashgate.fakedata.stacks import StackCatalog

WEEKDAY_VOLUME = (1.0, 1.0, 1.0, 1.0, 0.97, 0.9, 0.93)  # Monday first
CHUNK_EVENTS = 5000


def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def signature_count(crashes):
    """Distinct signatures for a data set of ``crashes``: a few hundred to a few thousand."""
    return min(4000, round(150 + 3.5 * math.sqrt(crashes)))


def daily_counts(crashes, first_day, days, seed=0):
    """Crashes per day: weekly rhythm plus a few percent of noise, summing exactly to ``crashes``."""
    rng = random.Random(f"crashgate.fakedata.volume:{seed}")
    weights = [WEEKDAY_VOLUME[(first_day + datetime.timedelta(days=i)).weekday()] * rng.uniform(0.94, 1.06)
               for i in range(days)]
    return apportion(crashes, weights)


@dataclass(frozen=True)
class Chunk:
    """Up to ``CHUNK_EVENTS`` consecutive events of one day, generated independently of other chunks."""
    date: datetime.date
    day_index: int
    number: int  # position within the day
    times: array.array  # seconds into the day, sorted
    kinds: bytes  # one ``crashes.BROWSER``/``PLUGIN``/``CONTENT``/``HANG`` per event


class FakeDataset:
    """Everything generated for ``(crashes, days, seed, end_date)``: catalogs, daily plans, crashes."""

    def __init__(self, crashes, days, seed=0, end_date=None):
        if crashes < 0 or days < 1:
            raise ValueError("need crashes >= 0 and days >= 1")
        self.crashes, self.days, self.seed = crashes, days, seed
        self.end_date = end_date or utc_today()
        self.first_day = self.end_date - datetime.timedelta(days=days - 1)
        self.products = ProductCatalog(self.end_date, days, seed)
        self.stacks = StackCatalog(signature_count(crashes), seed)
        self.counts = daily_counts(crashes, self.first_day, days, seed)
        self._factory = CrashFactory(self.products, self.stacks)

    def chunks(self):
        """Every day's chunks, oldest day first; a day without crashes has one empty chunk."""
        for index, count in enumerate(self.counts):
            date = self.first_day + datetime.timedelta(days=index)
            times, kinds = plan_day(count, random.Random(f"crashgate.fakedata.day:{self.seed}:{date}"))
            for number, first in enumerate(range(0, max(len(kinds), 1), CHUNK_EVENTS)):
                last = first + CHUNK_EVENTS
                yield Chunk(date, index, number, times[first:last], kinds[first:last])

    def crashes_in(self, chunk):
        """The crash dicts of ``chunk``."""
        rng = random.Random(f"crashgate.fakedata.chunk:{self.seed}:{chunk.date}:{chunk.number}")
        return self._factory.crashes(chunk, rng)

    def all_crashes(self):
        for chunk in self.chunks():
            yield from self.crashes_in(chunk)


def generate_crashes(crashes, days, seed=0, end_date=None):
    """Yield ``crashes`` crash dicts spread over the ``days`` days ending on ``end_date``.

    Frame, extension and plugin dicts are shared between crashes: copy before mutating them.
    """
    return FakeDataset(crashes, days, seed, end_date).all_crashes()


def generate_products(days, seed=0, end_date=None):
    """The products file (as a dict) matching crashes generated with the same arguments."""
    return ProductCatalog(end_date or utc_today(), days, seed).to_json()
