"""Reading TensorFlow 1 checkpoints (``PREFIX.index`` + ``PREFIX.data-NNNNN-of-MMMMM``) without TensorFlow.

The ``.index`` file is a LevelDB-format table (sorted string table): prefix-compressed key/value
blocks, each followed by a 5-byte trailer (compression type, masked CRC-32C), an index block pointing
at the data blocks, and a 48-byte footer ending in a magic number. Its keys are tensor names; the
empty key holds a ``BundleHeaderProto`` (shard count, endianness) and every other value a
``BundleEntryProto`` (dtype, shape, shard id, offset, size, CRC-32C) locating the raw little-endian
tensor bytes in a data shard. Both protos are decoded here from the protobuf wire format directly,
so neither TensorFlow nor protobuf is a dependency.

Every block and every tensor read is checked against its CRC-32C; any inconsistency (truncation, bad
magic, checksum mismatch) raises :class:`~vsrkit.errors.InputError` naming the file.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError

_TABLE_MAGIC = 0xDB4775248B80FB57
_FOOTER_SIZE = 48  # two block handles padded to 40 bytes + 8-byte magic
_BLOCK_TRAILER = 5  # compression type byte + masked crc32c

# tensorflow/core/framework/types.proto values that map onto numpy dtypes.
_DTYPES: dict[int, np.dtype] = {
    1: np.dtype("<f4"),  # DT_FLOAT
    2: np.dtype("<f8"),  # DT_DOUBLE
    3: np.dtype("<i4"),  # DT_INT32
    4: np.dtype("u1"),  # DT_UINT8
    5: np.dtype("<i2"),  # DT_INT16
    6: np.dtype("i1"),  # DT_INT8
    9: np.dtype("<i8"),  # DT_INT64
    10: np.dtype("?"),  # DT_BOOL
    17: np.dtype("<u2"),  # DT_UINT16
    19: np.dtype("<f2"),  # DT_HALF
    22: np.dtype("<u4"),  # DT_UINT32
    23: np.dtype("<u8"),  # DT_UINT64
}
DTYPE_CODES: dict[np.dtype, int] = {v: k for k, v in _DTYPES.items()}


# --- CRC-32C (Castagnoli), as LevelDB and TensorFlow use it --------------------------------------


def _crc_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc_table()


def crc32c(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-32C of ``data`` (continuing from ``crc``)."""
    table = _CRC_TABLE
    crc ^= 0xFFFFFFFF
    for byte in bytes(data):
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def mask_crc(crc: int) -> int:
    """LevelDB's checksum masking (stored checksums are masked so CRCs of CRCs stay useful)."""
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


# --- protobuf wire format -------------------------------------------------------------------------


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """``(field_number, value)`` pairs of a protobuf message (varint/fixed as int, bytes as bytes)."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        value: int | bytes
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            if pos + 8 > len(buf):
                raise ValueError("truncated fixed64")
            (value,) = struct.unpack_from("<Q", buf, pos)
            pos += 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise ValueError("truncated length-delimited field")
            value = bytes(buf[pos : pos + length])
            pos += length
        elif wire == 5:
            if pos + 4 > len(buf):
                raise ValueError("truncated fixed32")
            (value,) = struct.unpack_from("<I", buf, pos)
            pos += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        out.append((number, value))
    return out


# --- sorted string table --------------------------------------------------------------------------


def _block_entries(block: bytes) -> list[tuple[bytes, bytes]]:
    """Key/value pairs of one table block (contents without trailer)."""
    if len(block) < 4:
        raise ValueError("block too short")
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    end = len(block) - 4 - 4 * num_restarts
    if end < 0:
        raise ValueError("bad restart count")
    entries = []
    pos = 0
    key = b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        value_len, pos = _varint(block, pos)
        if shared > len(key) or pos + unshared + value_len > end:
            raise ValueError("corrupt block entry")
        key = key[:shared] + block[pos : pos + unshared]
        pos += unshared
        entries.append((key, block[pos : pos + value_len]))
        pos += value_len
    return entries


def _read_block(data: bytes, offset: int, size: int) -> bytes:
    if offset + size + _BLOCK_TRAILER > len(data):
        raise ValueError(f"block at {offset} (+{size}) runs past the end of the file")
    contents = data[offset : offset + size]
    kind = data[offset + size]
    (stored,) = struct.unpack_from("<I", data, offset + size + 1)
    if mask_crc(crc32c(data[offset : offset + size + 1])) != stored:
        raise ValueError(f"block at {offset} fails its checksum")
    if kind != 0:
        raise ValueError(f"compressed blocks (type {kind}) are not supported")
    return contents


def read_table(path: Path) -> list[tuple[bytes, bytes]]:
    """All key/value pairs of a LevelDB-format table file, in key order."""
    data = path.read_bytes()
    if len(data) < _FOOTER_SIZE:
        raise ValueError(f"file of {len(data)} bytes is too short for a table footer")
    footer = data[-_FOOTER_SIZE:]
    (magic,) = struct.unpack_from("<Q", footer, _FOOTER_SIZE - 8)
    if magic != _TABLE_MAGIC:
        raise ValueError("bad table magic number (not a TensorFlow checkpoint index)")
    _, pos = _varint(footer, 0)  # metaindex offset (unused: no filters in checkpoint indexes)
    _, pos = _varint(footer, pos)
    index_offset, pos = _varint(footer, pos)
    index_size, pos = _varint(footer, pos)
    entries = []
    for _, handle in _block_entries(_read_block(data, index_offset, index_size)):
        offset, p = _varint(handle, 0)
        size, _ = _varint(handle, p)
        entries.extend(_block_entries(_read_block(data, offset, size)))
    return entries


# --- tensor bundle --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype_code: int
    shape: tuple[int, ...]
    shard_id: int
    offset: int
    size: int
    crc32c: int | None  # masked, as stored
    sliced: bool

    @property
    def dtype(self) -> np.dtype | None:
        return _DTYPES.get(self.dtype_code)


def _parse_shape(buf: bytes) -> tuple[int, ...]:
    dims = []
    for number, value in _fields(buf):
        if number == 2 and isinstance(value, bytes):  # repeated Dim {int64 size = 1; string name = 2;}
            size = 0
            for n, v in _fields(value):
                if n == 1 and isinstance(v, int):
                    size = v - (1 << 64) if v >= 1 << 63 else v
            dims.append(size)
        elif number == 3 and value:
            raise ValueError("tensor of unknown rank")
    return tuple(dims)


def _parse_entry(name: str, buf: bytes) -> TensorEntry:
    dtype = shard = offset = size = 0
    shape: tuple[int, ...] = ()
    crc = None
    sliced = False
    for number, value in _fields(buf):
        if number == 1:
            dtype = int(value)  # type: ignore[arg-type]
        elif number == 2:
            shape = _parse_shape(value)  # type: ignore[arg-type]
        elif number == 3:
            shard = int(value)  # type: ignore[arg-type]
        elif number == 4:
            offset = int(value)  # type: ignore[arg-type]
        elif number == 5:
            size = int(value)  # type: ignore[arg-type]
        elif number == 6:
            crc = int(value)  # type: ignore[arg-type]
        elif number == 7:
            sliced = True
    return TensorEntry(name, dtype, shape, shard, offset, size, crc, sliced)


def _prefix_in_folder(folder: Path) -> Path:
    # TF's `checkpoint` state file names the latest checkpoint; else the folder must hold exactly one.
    state = folder / "checkpoint"
    if state.is_file():
        text = state.read_text(errors="replace")
        match = re.search(r'^model_checkpoint_path:\s*"(.*)"\s*$', text, re.MULTILINE)
        if match is None:
            raise InputError(state, "no model_checkpoint_path line in the TensorFlow checkpoint state file")
        return folder / match.group(1)
    indexes = sorted(p.name[: -len(".index")] for p in folder.glob("*.index"))
    if len(indexes) != 1:
        found = ", ".join(indexes) if indexes else "none"
        raise InputError(folder, f"expected one TensorFlow checkpoint (*.index) in the folder, found {found}")
    return folder / indexes[0]


def resolve_prefix(path: str | Path) -> Path:
    """The checkpoint prefix from a prefix, an ``.index`` file, a ``.data-*`` shard path, or a folder
    holding one checkpoint (or a TF ``checkpoint`` state file naming it)."""
    path = Path(path)
    if path.is_dir():
        return _prefix_in_folder(path)
    name = path.name
    if name.endswith(".index"):
        return path.with_name(name[: -len(".index")])
    if ".data-" in name and name.rsplit(".data-", 1)[1].count("-of-") == 1:
        return path.with_name(name.rsplit(".data-", 1)[0])
    return path


class TFCheckpoint:
    """A TF1 (V2 format) checkpoint: ``names()``, ``entry(name)`` and ``read(name)`` as numpy."""

    def __init__(self, prefix: str | Path) -> None:
        self.prefix = resolve_prefix(prefix)
        self.index_path = self.prefix.with_name(self.prefix.name + ".index")
        if not self.index_path.is_file():
            raise InputError(
                self.index_path, "TensorFlow checkpoint index not found (pass the prefix, e.g. ckpt_rlsp_64)"
            )
        try:
            pairs = read_table(self.index_path)
            header = dict(_fields(pairs[0][1])) if pairs and pairs[0][0] == b"" else None
            if header is None:
                raise ValueError("no bundle header (empty key) in the index")
            self.entries = {
                k.decode("utf-8"): _parse_entry(k.decode("utf-8"), v) for k, v in pairs if k != b""
            }
        except (ValueError, UnicodeDecodeError, struct.error) as exc:
            raise InputError(self.index_path, f"corrupt TensorFlow checkpoint index: {exc}") from None
        self.num_shards = int(header.get(1, 1))  # type: ignore[arg-type]
        self.big_endian = int(header.get(2, 0)) == 1  # type: ignore[arg-type]
        self._shards: dict[int, bytes] = {}

    def names(self) -> list[str]:
        return sorted(self.entries)

    def entry(self, name: str) -> TensorEntry:
        try:
            return self.entries[name]
        except KeyError:
            raise InputError(self.index_path, f"no tensor {name!r} in the checkpoint") from None

    def shard_path(self, shard_id: int) -> Path:
        return self.prefix.with_name(f"{self.prefix.name}.data-{shard_id:05d}-of-{self.num_shards:05d}")

    def _shard(self, shard_id: int) -> bytes:
        if shard_id not in self._shards:
            path = self.shard_path(shard_id)
            if not path.is_file():
                raise InputError(path, "checkpoint data shard not found")
            self._shards[shard_id] = path.read_bytes()
        return self._shards[shard_id]

    def read(self, name: str, *, verify: bool = True) -> np.ndarray:
        """The tensor ``name`` as a numpy array, its bytes checked against the stored CRC-32C."""
        e = self.entry(name)
        if e.sliced:
            raise InputError(self.index_path, f"tensor {name!r} is partitioned (sliced); not supported")
        if e.dtype is None:
            raise InputError(self.index_path, f"tensor {name!r} has unsupported dtype code {e.dtype_code}")
        data = self._shard(e.shard_id)
        path = self.shard_path(e.shard_id)
        count = int(np.prod(e.shape, dtype=np.int64))
        if e.size != count * e.dtype.itemsize:
            raise InputError(self.index_path, f"tensor {name!r}: {e.size} bytes do not fit shape {e.shape}")
        if e.offset + e.size > len(data):
            raise InputError(
                path,
                f"truncated: tensor {name!r} needs bytes up to {e.offset + e.size}, file has {len(data)}",
            )
        raw = data[e.offset : e.offset + e.size]
        if verify and e.crc32c is not None and mask_crc(crc32c(raw)) != e.crc32c:
            raise InputError(path, f"tensor {name!r} fails its CRC-32C checksum (corrupt file)")
        dtype = e.dtype.newbyteorder(">") if self.big_endian else e.dtype
        return np.frombuffer(raw, dtype=dtype).astype(e.dtype).reshape(e.shape)
