"""Labelled crash reports for measuring bucketing: groups of crashes sharing a root cause.

Each report is both a PartyCrasher report (``database_id``, ``project``, ``date``) and a
canonical crash document (docs/crash-format.md); its context (product, version, OS, add-ons,
...) comes from the ordinary generator (``FakeDataset``), its stack from its group.

A group (one bug) has a fixed head of 1-4 frames (the crash site) and a few possible tails from
the shared event-loop/thread segments of ``vocab``, so every group shares library frames with
many others. Per crash: an OS prefix frame may sit above the head, inlined head frames come and
go, a recursive frame repeats a varying number of times, the stack walker may stop early, and
offsets and lines shift with the version. Some groups are confusable on purpose: they crash in
another group's top function (a different caller) or in a generic function (``memcpy``, ...).
Group sizes follow Zipf weights; a share of reports are singletons; each group is born at some
point of the window and lives for a while, so new groups keep arriving. A bug lives in one
product (its crashes take their context from crashes of that product) and some bugs only
happen on one OS.
"""
import datetime
import random
import zlib

from crashgate.fakedata import vocab
from crashgate.fakedata.dataset import FakeDataset
from crashgate.fakedata.products import PRODUCTS
from crashgate.fakedata.sampling import Weighted, zipf_weights
from crashgate.fakedata.stacks import CHILD_EXE, signature_from_frames

SINGLETON_SHARE = 0.08
SIBLING_SHARE = 0.2         # groups crashing in an earlier group's top function
GENERIC_TOP_SHARE = 0.1     # groups whose top frame is a generic function (memcpy, ...)
RECURSIVE_SHARE = 0.15
OS_SPECIFIC_SHARE = 0.3
CONTEXT_SURPLUS = 3         # context crashes generated per report, to draw matching ones from
OS_PREFIX_RATE = 0.15
INLINE_DROP_RATE = 0.4
TRUNCATE_RATE = 0.3
MAX_FRAMES = 60
AREAS = tuple(area for area in vocab.TAILS_BY_AREA if area != "os")
EXES = {product.name: product.exe for product in PRODUCTS}
REASON_KINDS = Weighted.of(vocab.REASON_KINDS)
PRODUCT_MIX = Weighted.of([(product.name, product.share) for product in PRODUCTS])
PRODUCT_OSES = {product.name: product.platforms for product in PRODUCTS}


class _Group:
    """One root cause: head frames ``(function, module key, file)``, inlinable head positions,
    a recursive head position, tail choices, reason kind, birth and life (0..1 of the window)."""

    def __init__(self, rng, label, head, area, birth, life):
        self.label, self.head, self.birth, self.life = label, head, birth, life
        self.product = PRODUCT_MIX.pick(rng)
        self.os = rng.choice(PRODUCT_OSES[self.product]) if rng.random() < OS_SPECIFIC_SHARE else None
        self.inlined = {i for i in range(1, len(head)) if rng.random() < 0.3}
        self.recursive = rng.randrange(len(head)) if rng.random() < RECURSIVE_SHARE else None
        tails = rng.sample(vocab.TAILS_BY_AREA[area], min(3, len(vocab.TAILS_BY_AREA[area])))
        self.tails = Weighted(tails, [6, 3, 1][:len(tails)])
        self.reason = REASON_KINDS.pick(rng)
        self.address = "0x0" if self.reason in ("read", "write") else f"0x{rng.randrange(0x1000, 0x3fffff):x}"


def _class_function(rng, area=None):
    classes = [c for c in vocab.CLASSES if area is None or c[2] == area] or vocab.CLASSES
    cls, file, cls_area = rng.choice(classes)
    args = rng.choice(vocab.ARGUMENTS) if rng.random() < 0.35 else ""
    return (f"{cls}::{rng.choice(vocab.METHODS)}{args}", "js" if cls.startswith(("js::", "JS")) else "xul",
            file), cls_area


def _new_group(rng, label, groups, birth, life):
    top, area = _class_function(rng, rng.choice(AREAS))
    r = rng.random()
    if r < SIBLING_SHARE and groups:
        top = rng.choice(groups).head[0]
    elif r < SIBLING_SHARE + GENERIC_TOP_SHARE:
        top = rng.choice(vocab.FUNCTIONS + vocab.PREFIX_FRAMES[:-1])
    head = [top] + [_class_function(rng, area)[0] for _ in range(rng.randint(1, 3))]
    return _Group(rng, label, head, area, birth, life)


def _frame(function, module_key, file, os, exe, version_shift):
    """A frame dict; offsets and lines move with the version (``version_shift``)."""
    names = vocab.MODULES.get(module_key)
    module = (exe + ".exe" if os == "windows" else exe) if module_key == "exe" else (
        names[os] if names else module_key)
    crc = zlib.crc32(function.encode())
    return {"function": function, "module": module, "file": file,
            "line": 20 + (crc + version_shift) % 4000 if file else None,
            "offset": f"0x{0x100 + (crc >> 7) % 0x1fff00 + 16 * version_shift:x}"}


def _frames(group, rng, os, exe, version):
    shift = zlib.crc32(version.encode()) % 7
    functions = []
    if rng.random() < OS_PREFIX_RATE:
        functions.append(rng.choice(vocab.OS_PREFIX_FRAMES[os]))
    for index, frame in enumerate(group.head):
        if index in group.inlined and rng.random() < INLINE_DROP_RATE:
            continue
        repeats = rng.randint(1, 12) if index == group.recursive else 1
        functions.extend([frame] * repeats)
    head_length = len(functions)
    segments, thread = vocab.TAILS[group.tails.pick(rng)]
    if exe == CHILD_EXE:
        segments = [vocab.CHILD_LOOP if s is vocab.EVENT_LOOP else s for s in segments]
    functions += [frame for segment in segments for frame in segment] + vocab.OS_BOTTOMS[(os, thread)]
    if rng.random() < TRUNCATE_RATE:
        functions = functions[:rng.randint(head_length + 1, len(functions))]
    return [_frame(*frame, os, exe, shift) for frame in functions[:MAX_FRAMES]]


def _group_of_each_report(rng, n, group_count, project):
    """Groups, and the group of each report in time order."""
    groups, weights = [], zipf_weights(group_count, exponent=1.1, offset=1.0)
    rng.shuffle(weights)
    for number in range(group_count):
        birth = 0.0 if rng.random() < 0.3 else rng.random() * 0.9
        groups.append(_new_group(rng, f"{project}-bug-{number:05d}", groups, birth, rng.uniform(0.2, 1.0)))
    mix = Weighted(groups, weights)
    timed = []
    for index in range(n):
        if rng.random() < SINGLETON_SHARE:
            group = _new_group(rng, f"{project}-single-{index:06d}", groups, 0.0, 1.0)
        else:
            group = mix.pick(rng)
        timed.append((group.birth + rng.random() * min(group.life, 1.0 - group.birth), index, group))
    timed.sort(key=lambda item: item[:2])
    return [group for _, _, group in timed]


def generate_labelled_reports(n, seed=0, groups=None, project="fakeproject", start=None, days=30):
    """``n`` ``(report, gold label)`` pairs in time order over ``days`` days from ``start``
    (a date; default: ``days`` days ago), from about ``groups`` root causes (default n / 4)."""
    start = start or datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=days)
    if isinstance(start, datetime.datetime):
        start = start.date()
    rng = random.Random(f"crashgate.fakedata.labelled:{seed}")
    assigned = _group_of_each_report(rng, n, groups or max(1, n // 4), project)
    end = start + datetime.timedelta(days=days - 1)
    context = _ContextPool(FakeDataset(n * CONTEXT_SURPLUS, days, seed, end_date=end).all_crashes())
    pairs = [(_report(group, context.take(group), rng, project), group.label) for group in assigned]
    pairs.sort(key=lambda pair: pair[0]["date_processed"])
    return pairs


def _os_key(crash):
    if crash["product"] == "Fennec":
        return "android"
    return {"Windows NT": "windows", "Mac OS X": "mac"}.get(crash["os_name"], "linux")


class _ContextPool:
    """Context crashes in time order, handed out per (product, OS) so groups keep their product."""

    def __init__(self, crashes):
        self.queues = {}
        for crash in crashes:
            self.queues.setdefault((crash["product"], _os_key(crash)), []).append(crash)
        for queue in self.queues.values():
            queue.reverse()  # pop() takes the oldest

    def take(self, group):
        keys = [key for key, queue in self.queues.items() if queue and key[0] == group.product
                and group.os in (None, key[1])]
        if not keys:  # that product (and OS) ran out: any crash
            keys = [key for key, queue in self.queues.items() if queue]
        oldest = min(keys, key=lambda key: self.queues[key][-1]["date_processed"])
        return dict(self.queues[oldest].pop())


def _report(group, crash, rng, project):
    os = _os_key(crash)
    process_type = crash["process_type"] if crash["process_type"] == "content" else None
    exe = CHILD_EXE if process_type else EXES[crash["product"]]
    frames = _frames(group, rng, os, exe, crash["version"])
    address = group.address if rng.random() < 0.8 else f"0x{rng.getrandbits(32):x}"
    crash.update(database_id=crash["uuid"], project=project, date=crash["date_processed"],
                 frames=frames, signature=signature_from_frames(frames),
                 reason=vocab.REASONS[os][group.reason], address=address, process_type=process_type,
                 plugin=None, hangid=None, duplicate_of=None, success=True)
    if crash["processor_notes"] and "EMPTY" in crash["processor_notes"]:
        crash["processor_notes"] = ""
    return crash
