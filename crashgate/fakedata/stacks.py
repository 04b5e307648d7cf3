"""Signature templates: Zipf-ranked signatures, each with a fixed stack head and a few possible tails.

A crash's frames are ``head + tail``: the head (innermost frames) makes the signature, the tail
(event loop, thread start, ...) varies between crashes of one signature.
"""
import random
import zlib

from crashgate.fakedata import vocab
from crashgate.fakedata.clients import PLUGINS
from crashgate.fakedata.sampling import Weighted, zipf_weights

SEPARATOR = " | "
HANG_PREFIX = "hang | "
MIN_FRAMES, MAX_FRAMES = 5, 30
CHILD_EXE = "plugin-container"
TRICKY_RANKS = (5, 9, 14, 20, 27, 35, 44, 54)  # 1-based ranks of vocab.TRICKY_SIGNATURES
OS_SPECIFIC_SHARE = (("windows", 8), ("mac", 4), ("linux", 3), ("android", 4), (None, 81))
ABORT_PREFIXES = ("mozalloc_abort", "mozalloc_handle_oom", "NS_DebugBreak_P", "JS_Assert",
                  "__libc_android_abort", "dvmAbort", "raise", "__pthread_kill")
REASON_MIX = Weighted.of(vocab.REASON_KINDS)
TAIL_WEIGHTS = (6, 3, 1)


def signature_from_functions(functions):
    """Socorro-style signature: leading prefix functions joined with the first one that is not."""
    parts = []
    for function in functions:
        parts.append(function)
        if function not in vocab.PREFIX_FUNCTIONS:
            break
    return SEPARATOR.join(parts)


def signature_from_frames(frames):
    """The signature a crash with these frame dicts gets."""
    return signature_from_functions(frame["function"] for frame in frames)


class Template:
    """One signature: head frames ``(function, module_key, file)``, tail choices, reason kind."""

    __slots__ = ("signature", "head", "tails", "reason", "addresses", "os", "mail_only", "resolved")

    def __init__(self, head, tails, reason, addresses, os=None, mail_only=False):
        self.head = tuple(head)
        self.signature = signature_from_functions(f for f, _, _ in self.head)
        self.tails, self.reason, self.addresses = tails, reason, addresses
        self.os, self.mail_only = os, mail_only
        self.resolved = {}  # os -> head frame dicts


def _module(key, os, exe):
    if key == "exe":
        return exe + ".exe" if os == "windows" else exe
    names = vocab.MODULES.get(key)
    return names[os] if names else key


class StackCatalog:
    """Signature templates and their per product/OS Zipf mixes; resolves templates to frames."""

    def __init__(self, signature_count, seed=0):
        self.seed = seed
        rng = random.Random(f"crashgate.fakedata.stacks:{seed}")
        self.ranked = self._ranked_templates(rng, max(signature_count, len(TRICKY_RANKS) + 1))
        self.hang_mix = self._mix([self._template(rng, head, vocab.TAILS_BY_AREA["os"], "abort", "windows")
                                   for head in vocab.HANG_BROWSER_HEADS])
        self.plugin_mixes = {(os, filename): self._mix(self._plugin_templates(rng, os, filename, share))
                             for os, plugins in PLUGINS.items() for _, filename, _, share in plugins}
        self._browser_mixes = {}
        self._tails = {}
        self._locations = {}

    # ---- building templates -------------------------------------------------------------
    def _template(self, rng, head, tail_names, reason=None, os=None, mail_only=False):
        reason = reason or REASON_MIX.pick(rng)
        if any(head[0][0].startswith(p) for p in ABORT_PREFIXES):
            reason = "abort"
        first = "0x0" if reason in ("read", "write") else f"0x{rng.randrange(0x1000, 0x3fffff):x}"
        addresses = (first, f"0x{rng.randrange(4, 0x400, 4):x}", f"0x{rng.getrandbits(31):x}")
        chosen = rng.sample(tail_names, min(len(tail_names), rng.randint(1, len(TAIL_WEIGHTS))))
        return Template(head, Weighted(chosen, TAIL_WEIGHTS[:len(chosen)]), reason, addresses, os, mail_only)

    def _ranked_templates(self, rng, count):
        tricky = {rank - 1: self._tricky(rng, sig) for rank, sig in zip(TRICKY_RANKS, vocab.TRICKY_SIGNATURES)
                  if rank <= count}
        os_mix = Weighted.of(OS_SPECIFIC_SHARE)
        seen = {t.signature for t in tricky.values()}
        ranked = []
        for rank in range(count):
            template = tricky.get(rank)
            while template is None:
                template = self._random_template(rng, os_mix.pick(rng))
                if template.signature in seen:
                    template = None
            seen.add(template.signature)
            ranked.append(template)
        return ranked

    def _tricky(self, rng, signature):
        head = [_tricky_frame(function) for function in signature.split(SEPARATOR)]
        os = "windows" if any(module.endswith(".dll") for _, module, _ in head) else None
        head.append(_class_frame(rng, "dom")[0])
        return self._template(rng, head, vocab.TAILS_BY_AREA["dom"], os=os)

    def _random_template(self, rng, os):
        top, area = _class_frame(rng)
        if os is None:
            r = rng.random()
            head = [rng.choice(vocab.FUNCTIONS) if r < 0.08 else top]
            if r > 0.86:
                head.insert(0, rng.choice(vocab.PREFIX_FRAMES))
        else:
            head = _os_head(rng, os, top)
            if area != "mail":
                area = "os"
        head += [_class_frame(rng, area)[0] for _ in range(rng.randrange(0, 4))]
        return self._template(rng, head, vocab.TAILS_BY_AREA[area], os=os, mail_only=area == "mail")

    def _plugin_templates(self, rng, os, filename, share):
        templates = []
        while len(templates) < 3 + int(share / 2):
            head = _unsymbolicated(rng, filename)
            r = rng.random()
            if filename.startswith("NPSWF") and r < 0.3:  # Flash's mangled symbols
                mangled = f"F{rng.randrange(10 ** 9, 10 ** 10)}{'_' * rng.randrange(20, 40)}"
                head.insert(0, (mangled, filename, ""))
            elif r < 0.4:
                head.insert(0, rng.choice(vocab.OS_PREFIX_FRAMES[os]) if os == "windows" else vocab.NULL_FRAME)
            template = self._template(rng, head, ["plugin_child"], os=os)
            if template.signature not in (t.signature for t in templates):
                templates.append(template)
        return templates

    @staticmethod
    def _mix(templates):
        return Weighted(templates, zipf_weights(len(templates)))

    # ---- choosing -----------------------------------------------------------------------
    def browser_mix(self, product, os):
        """Zipf mix of the signatures ``product`` crashes with on ``os`` (each product ranks differently)."""
        mix = self._browser_mixes.get((product, os))
        if mix is None:
            rng = random.Random(f"crashgate.fakedata.ranks:{self.seed}:{product}")
            noise = 0.0 if product == "Firefox" else 0.6
            order = sorted(range(len(self.ranked)), key=lambda i: (i + 1) * rng.lognormvariate(0, noise))
            mail = product in ("Thunderbird", "SeaMonkey")
            eligible = [self.ranked[i] for i in order
                        if self.ranked[i].os in (None, os) and (mail or not self.ranked[i].mail_only)]
            mix = self._browser_mixes[(product, os)] = self._mix(eligible)
        return mix

    # ---- frames -------------------------------------------------------------------------
    def frames(self, template, os, exe, rng):
        """Frames of one crash of ``template`` in process ``exe`` on ``os`` (shared, read-only dicts)."""
        head = template.resolved.get(os)
        if head is None:
            head = template.resolved[os] = self._resolve(template.head, os, None)  # heads never name the exe
        tail_name = template.tails.pick(rng)
        key = (tail_name, os, exe)
        tail = self._tails.get(key)
        if tail is None:
            tail = self._tails[key] = self._resolve(_tail_frames(tail_name, os, exe), os, exe)
        frames = head + tail
        if rng.random() < 0.25:  # the stack walker gave up early
            return frames[:rng.randint(max(MIN_FRAMES, len(head)), len(frames))][:MAX_FRAMES]
        return frames[:MAX_FRAMES]

    def _resolve(self, frames, os, exe):
        return [{"function": function, "module": _module(module, os, exe), "file": file,
                 "line": line, "offset": offset}
                for function, module, file in frames for line, offset in (self._location(function, file),)]

    def _location(self, function, file):
        """A stable (line, offset) per function, independent of the order functions are met in."""
        location = self._locations.get(function)
        if location is None:
            if "@0x" in function:
                location = (0, function.rpartition("@")[2])
            else:
                crc = zlib.crc32(f"{self.seed}:{function}".encode())
                location = (20 + crc % 4000 if file else 0, f"0x{0x100 + (crc >> 7) % 0x1fff00:x}")
            self._locations[function] = location
        return location


def _class_frame(rng, area=None):
    """A random ``Class::Method(args)`` frame, from ``area`` if given; returns (frame, area)."""
    choices = _CLASSES_BY_AREA.get(area, vocab.CLASSES)
    cls, file, cls_area = rng.choice(choices)
    args = rng.choice(vocab.ARGUMENTS) if rng.random() < 0.35 else ""
    module = "js" if cls.startswith(("js::", "JS")) else "xul"
    return (f"{cls}::{rng.choice(vocab.METHODS)}{args}", module, file), cls_area


_CLASSES_BY_AREA = {}
for _entry in vocab.CLASSES:
    _CLASSES_BY_AREA.setdefault(_entry[2], []).append(_entry)


def _tricky_frame(function):
    if "@0x" in function:  # no symbols: "module@offset", the module possibly a full path
        return (function, function.rpartition("@")[0].rpartition("\\")[2], "")
    return (function, "xul", "content/base/src/nsContentUtils.cpp")


def _os_head(rng, os, below):
    """Head frames of an OS-only signature: a driver/system module without symbols, or an OS frame."""
    r = rng.random()
    if r < 0.45:
        return _unsymbolicated(rng, rng.choice(vocab.OS_UNSYMBOLICATED_MODULES[os])) + [below]
    if r < 0.75:
        return [rng.choice(vocab.OS_PREFIX_FRAMES[os]), below]
    return [rng.choice(vocab.OS_TOP_FRAMES[os]), below]


def _unsymbolicated(rng, module):
    """One to three ``module@0x...`` frames (a module without symbols), innermost first."""
    offsets = sorted((rng.randrange(0x1000, 0x7fffff) for _ in range(rng.randint(1, 3))), reverse=True)
    return [(f"{module}@0x{offset:x}", module, "") for offset in offsets]


def _tail_frames(name, os, exe):
    segments, thread = vocab.TAILS[name]
    if exe == CHILD_EXE:
        segments = [vocab.CHILD_LOOP if s is vocab.EVENT_LOOP else s for s in segments]
    return [frame for segment in segments for frame in segment] + vocab.OS_BOTTOMS[(os, thread)]
