"""A minimal TF1 (V2 bundle) checkpoint writer for tests: no TensorFlow.

It follows LevelDB's table builder (restart interval 16, shortest-separator index keys, 256 KiB
blocks as TensorFlow's ``BundleWriter`` uses) so that re-writing the official RLSP checkpoint's
tensors reproduces its ``.index`` byte for byte, which pins down both this writer and the reader.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from vsrkit.weights.tf_checkpoint import DTYPE_CODES, crc32c, mask_crc

MAGIC = 0xDB4775248B80FB57


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value) if value else b""


def field_bytes(number: int, payload: bytes) -> bytes:
    return varint((number << 3) | 2) + varint(len(payload)) + payload


def entry_proto(dtype_code: int, shape: tuple[int, ...], offset: int, size: int, crc: int) -> bytes:
    shape_msg = b"".join(field_bytes(2, field_varint(1, d)) for d in shape)
    return (
        field_varint(1, dtype_code)
        + field_bytes(2, shape_msg)
        + field_varint(3, 0)
        + field_varint(4, offset)
        + field_varint(5, size)
        + varint((6 << 3) | 5)
        + struct.pack("<I", crc)
    )


def header_proto(num_shards: int) -> bytes:
    # num_shards, endianness LITTLE (default, omitted), version {producer: 1}
    return field_varint(1, num_shards) + field_bytes(3, field_varint(1, 1))


def _shared_prefix(a: bytes, b: bytes) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def _shortest_separator(start: bytes, limit: bytes) -> bytes:
    n = _shared_prefix(start, limit)
    if n < min(len(start), len(limit)):
        byte = start[n]
        if byte < 0xFF and byte + 1 < limit[n]:
            return start[:n] + bytes([byte + 1])
    return start


def _short_successor(key: bytes) -> bytes:
    for i, byte in enumerate(key):
        if byte != 0xFF:
            return key[:i] + bytes([byte + 1])
    return key


class _Block:
    def __init__(self, restart_interval: int = 16) -> None:
        self.buf = bytearray()
        self.restarts = [0]
        self.counter = 0
        self.last = b""
        self.interval = restart_interval

    def add(self, key: bytes, value: bytes) -> None:
        shared = 0
        if self.counter < self.interval:
            shared = _shared_prefix(self.last, key)
        else:
            self.restarts.append(len(self.buf))
            self.counter = 0
        self.buf += varint(shared) + varint(len(key) - shared) + varint(len(value)) + key[shared:] + value
        self.last = key
        self.counter += 1

    def size(self) -> int:
        return len(self.buf) + 4 * len(self.restarts) + 4

    def finish(self) -> bytes:
        return (
            bytes(self.buf)
            + b"".join(struct.pack("<I", r) for r in self.restarts)
            + struct.pack("<I", len(self.restarts))
        )


def write_table(path: Path, items: list[tuple[bytes, bytes]], block_size: int = 262144) -> None:
    out = bytearray()

    def emit(contents: bytes) -> bytes:
        offset = len(out)
        out.extend(contents + b"\x00" + struct.pack("<I", mask_crc(crc32c(contents + b"\x00"))))
        return varint(offset) + varint(len(contents))

    index = _Block(restart_interval=1)
    block = _Block()
    pending: bytes | None = None
    block_last = b""
    for key, value in items:
        if pending is not None:
            index.add(_shortest_separator(block_last, key), pending)
            pending = None
        block.add(key, value)
        if block.size() >= block_size:
            block_last = block.last
            pending = emit(block.finish())
            block = _Block()
    if block.counter:
        block_last = block.last
        pending = emit(block.finish())
    if pending is not None:
        index.add(_short_successor(block_last), pending)
    meta_handle = emit(_Block().finish())
    index_handle = emit(index.finish())
    footer = meta_handle + index_handle
    out.extend(footer + b"\x00" * (40 - len(footer)) + struct.pack("<Q", MAGIC))
    path.write_bytes(bytes(out))


def write_checkpoint(prefix: Path, tensors: dict[str, np.ndarray], block_size: int = 262144) -> None:
    """Write ``PREFIX.index`` and ``PREFIX.data-00000-of-00001`` holding ``tensors``."""
    data = bytearray()
    items = [(b"", header_proto(1))]
    for name in sorted(tensors):
        arr = np.array(tensors[name], order="C")  # ascontiguousarray would make scalars 1-d
        arr = arr.astype(arr.dtype.newbyteorder("<"))
        raw = arr.tobytes()
        code = DTYPE_CODES[arr.dtype]
        items.append(
            (name.encode(), entry_proto(code, arr.shape, len(data), len(raw), mask_crc(crc32c(raw))))
        )
        data += raw
    prefix.parent.mkdir(parents=True, exist_ok=True)
    prefix.with_name(prefix.name + ".data-00000-of-00001").write_bytes(bytes(data))
    write_table(prefix.with_name(prefix.name + ".index"), items, block_size=block_size)
