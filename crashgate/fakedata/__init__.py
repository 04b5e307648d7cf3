"""Deterministic, realistic sample crash data in the formats of docs/crash-format.md.

``write_dataset`` writes ``products.json`` and ``crashes-YYYYMMDD.jsonl.gz`` files;
``generate_crashes`` / ``generate_products`` give the same data in memory.

Modules: ``dataset`` (volumes, chunks), ``crashes`` (crash documents), ``stacks`` (signatures
and frames), ``products`` (versions and builds), ``writer`` (files), ``vocab`` / ``clients``
(word lists), ``sampling`` (weighted choice helpers).
"""
from crashgate.fakedata.dataset import FakeDataset, daily_counts, generate_crashes, generate_products
from crashgate.fakedata.stacks import HANG_PREFIX, signature_from_frames
from crashgate.fakedata.vocab import TRICKY_SIGNATURES
from crashgate.fakedata.writer import CrashEncoder, write_dataset

__all__ = [
    "FakeDataset", "daily_counts", "generate_crashes", "generate_products", "HANG_PREFIX",
    "signature_from_frames", "TRICKY_SIGNATURES", "CrashEncoder", "write_dataset",
]
