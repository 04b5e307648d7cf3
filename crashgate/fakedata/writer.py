"""Writing a fake data set: ``products.json`` and one ``crashes-YYYYMMDD.jsonl.gz`` per day.

Chunks of a day are rendered (generated, encoded, gzipped) independently, in worker processes
for large sets, and each day file is the concatenation of its chunks' gzip members.
"""
import gzip
import json
import multiprocessing
import os
import time

from crashgate.fakedata.dataset import FakeDataset

PROGRESS_EVERY = 10_000
PARALLEL_FROM = 20_000  # smaller sets are written in-process
GZIP_LEVEL = 1
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def write_dataset(out_dir, crashes, days, seed=0, end_date=None, progress=None, workers=None):
    """Generate and write a data set; returns ``{"crashes", "files", "products_file", "seconds"}``.

    Output bytes depend only on ``(crashes, days, seed, end_date)``, not on ``workers``
    (default: one process per CPU for large sets). ``progress(done)`` is called about every
    ``PROGRESS_EVERY`` crashes and once at the end.
    """
    started = time.perf_counter()
    os.makedirs(out_dir, exist_ok=True)
    dataset = FakeDataset(crashes, days, seed, end_date)
    products_file = os.path.join(out_dir, "products.json")
    with open(products_file, "w", encoding="utf-8") as out:
        json.dump(dataset.products.to_json(), out, indent=2, ensure_ascii=False)
        out.write("\n")
    if workers is None:
        workers = (os.cpu_count() or 1) if crashes >= PARALLEL_FROM else 1
    files, done, reported, out = [], 0, 0, None
    try:
        with _Renderer(dataset, workers) as render:
            for date, number, count, data in render(dataset.chunks()):
                if number == 0:  # a new day
                    if out:
                        out.close()
                    files.append(os.path.join(out_dir, f"crashes-{date:%Y%m%d}.jsonl.gz"))
                    out = open(files[-1], "wb")
                out.write(data)
                done += count
                if progress and done - reported >= PROGRESS_EVERY:
                    reported = done
                    progress(done)
    finally:
        if out:
            out.close()
    if progress and reported != done:
        progress(done)
    return {"crashes": done, "files": files, "products_file": products_file,
            "seconds": round(time.perf_counter() - started, 3)}


class CrashEncoder:
    """``json.dumps(crash, ensure_ascii=False, separators=(",", ":"))``, faster for shared frames.

    Frame dicts are shared between crashes (see ``stacks.StackCatalog.frames``): each one is
    encoded once, cached by id and kept referenced so that its id cannot be reused.
    """

    def __init__(self):
        self._texts, self._frames = {}, []

    def __call__(self, crash):
        frames = crash.get("frames")
        if not frames:
            return _encode(crash)
        crash["frames"] = None
        try:
            text = _encode(crash)
        finally:
            crash["frames"] = frames
        return text.replace('"frames":null', '"frames":[' + self._join(frames) + "]", 1)

    def _join(self, frames):
        try:
            return ",".join(map(self._texts.__getitem__, map(id, frames)))
        except KeyError:
            for frame in frames:
                if id(frame) not in self._texts:
                    self._texts[id(frame)] = _encode(frame)
                    self._frames.append(frame)
            return ",".join(map(self._texts.__getitem__, map(id, frames)))


def render_chunk(dataset, chunk, encode):
    """``(date, chunk number, crash count, gzip member bytes)`` of one chunk as JSON lines."""
    lines = [encode(crash).encode("utf-8") for crash in dataset.crashes_in(chunk)]
    data = b"\n".join(lines) + b"\n" if lines else b""
    return chunk.date, chunk.number, len(lines), gzip.compress(data, GZIP_LEVEL, mtime=0)


class _Renderer:
    """Context manager giving ``render(chunks) -> iterator of render_chunk results``, in order."""

    def __init__(self, dataset, workers):
        self.dataset, self.workers, self.pool = dataset, workers, None

    def __enter__(self):
        if self.workers <= 1:
            encode = CrashEncoder()
            return lambda chunks: (render_chunk(self.dataset, chunk, encode) for chunk in chunks)
        d = self.dataset
        self.pool = multiprocessing.get_context().Pool(
            self.workers, _init_worker, (d.crashes, d.days, d.seed, d.end_date))
        return lambda chunks: self.pool.imap(_render_in_worker, chunks)

    def __exit__(self, *exc):
        if self.pool:
            if exc[0]:
                self.pool.terminate()
            else:
                self.pool.close()
            self.pool.join()


_worker = {}


def _init_worker(crashes, days, seed, end_date):
    _worker["dataset"] = FakeDataset(crashes, days, seed, end_date)
    _worker["encode"] = CrashEncoder()


def _render_in_worker(chunk):
    return render_chunk(_worker["dataset"], chunk, _worker["encode"])
