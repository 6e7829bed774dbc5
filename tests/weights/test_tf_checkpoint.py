"""The TF1 checkpoint reader: round trips through the test writer, the official file, corruption."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tf1_checkpoint_writer import write_checkpoint

from vsrkit.errors import InputError
from vsrkit.weights.tf_checkpoint import TFCheckpoint, crc32c, resolve_prefix


def _tensors() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "beta1_power": np.array(0.9, dtype=np.float32),
        "global_step": np.array(123456789012, dtype=np.int64),
        "net/conv/kernel": rng.standard_normal((3, 3, 5, 7)).astype(np.float32),
        "net/conv/bias": rng.standard_normal(7).astype(np.float32),
        "net/table": rng.integers(-1000, 1000, (4, 6), dtype=np.int32),
        "net/half": rng.standard_normal((2, 3)).astype(np.float16),
        "net/mask": np.array([True, False, True]),
        "z/double": rng.standard_normal((5,)).astype(np.float64),
    }


def test_crc32c_check_value() -> None:
    # The standard CRC-32C check value (RFC 3720 appendix B.4).
    assert crc32c(b"123456789") == 0xE3069283


@pytest.mark.parametrize("block_size", [262144, 64])  # one data block, and many (index block used)
def test_roundtrip_through_writer(tmp_path: Path, block_size: int) -> None:
    tensors = _tensors()
    write_checkpoint(tmp_path / "model.ckpt-1000", tensors, block_size=block_size)
    ckpt = TFCheckpoint(tmp_path / "model.ckpt-1000")
    assert ckpt.names() == sorted(tensors)
    for name, expected in tensors.items():
        got = ckpt.read(name)
        assert got.dtype == expected.dtype and got.shape == expected.shape, name
        np.testing.assert_array_equal(got, expected)


def test_prefix_from_index_or_data_path(tmp_path: Path) -> None:
    prefix = tmp_path / "ckpt_rslp_48"
    assert resolve_prefix(prefix.with_name("ckpt_rslp_48.index")) == prefix
    assert resolve_prefix(prefix.with_name("ckpt_rslp_48.data-00000-of-00001")) == prefix
    assert resolve_prefix(prefix) == prefix
    write_checkpoint(prefix, {"a": np.zeros(2, np.float32)})
    assert TFCheckpoint(prefix.with_name("ckpt_rslp_48.index")).names() == ["a"]


def test_prefix_from_folder(tmp_path: Path) -> None:
    write_checkpoint(tmp_path / "one" / "ckpt_rlsp_64", {"a": np.ones(3, np.float32)})
    assert resolve_prefix(tmp_path / "one") == tmp_path / "one" / "ckpt_rlsp_64"
    folder = tmp_path / "two"
    write_checkpoint(folder / "model.ckpt-1", {"a": np.zeros(1, np.float32)})
    write_checkpoint(folder / "model.ckpt-2", {"b": np.zeros(1, np.float32)})
    with pytest.raises(InputError, match="found model.ckpt-1, model.ckpt-2"):
        resolve_prefix(folder)
    (folder / "checkpoint").write_text(
        'model_checkpoint_path: "model.ckpt-2"\nall_model_checkpoint_paths: "model.ckpt-1"\n'
    )
    assert TFCheckpoint(folder).names() == ["b"]
    with pytest.raises(InputError, match="found none"):
        resolve_prefix(tmp_path / "one" / "..")


def test_official_checkpoint_index_is_reproduced_byte_for_byte(shared, tmp_path: Path) -> None:
    """Reading every tensor (CRC-checked) and writing them back gives the official files exactly."""
    prefix = shared("weights", "rlsp_tf", "ckpt_rlsp_64.index").with_suffix("")
    ckpt = TFCheckpoint(prefix)
    tensors = {name: ckpt.read(name) for name in ckpt.names()}
    assert tensors["layer0/kernel"].shape == (3, 3, 9 + 64 + 16, 64)
    assert len(tensors) == 2 + 8 * 2 * 3  # beta powers; 8 layers x (kernel, bias) x (value, Adam, Adam_1)
    write_checkpoint(tmp_path / "copy", tensors)
    assert (tmp_path / "copy.index").read_bytes() == prefix.with_name(prefix.name + ".index").read_bytes()
    data = prefix.with_name(prefix.name + ".data-00000-of-00001").read_bytes()
    assert (tmp_path / "copy.data-00000-of-00001").read_bytes() == data


@pytest.fixture
def ckpt_files(tmp_path: Path) -> tuple[Path, Path, Path]:
    prefix = tmp_path / "ckpt"
    write_checkpoint(prefix, _tensors())
    return prefix, tmp_path / "ckpt.index", tmp_path / "ckpt.data-00000-of-00001"


def test_missing_files(ckpt_files: tuple[Path, Path, Path], tmp_path: Path) -> None:
    prefix, _, data = ckpt_files
    with pytest.raises(InputError, match="checkpoint index not found"):
        TFCheckpoint(tmp_path / "nope")
    data.unlink()
    ckpt = TFCheckpoint(prefix)
    with pytest.raises(InputError, match=r"ckpt\.data-00000-of-00001: checkpoint data shard not found"):
        ckpt.read("net/conv/kernel")
    with pytest.raises(InputError, match="no tensor 'missing'"):
        ckpt.read("missing")


def test_truncated_data(ckpt_files: tuple[Path, Path, Path]) -> None:
    prefix, _, data = ckpt_files
    data.write_bytes(data.read_bytes()[:100])
    with pytest.raises(InputError, match="truncated: tensor 'z/double'"):
        TFCheckpoint(prefix).read("z/double")


def test_corrupt_data_fails_crc(ckpt_files: tuple[Path, Path, Path]) -> None:
    prefix, _, data = ckpt_files
    ckpt = TFCheckpoint(prefix)
    entry = ckpt.entry("net/conv/kernel")
    raw = bytearray(data.read_bytes())
    raw[entry.offset + 17] ^= 0x01
    data.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="'net/conv/kernel' fails its CRC-32C checksum"):
        TFCheckpoint(prefix).read("net/conv/kernel")
    # Other tensors are intact and still load.
    TFCheckpoint(prefix).read("net/conv/bias")


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b[: len(b) // 2], "corrupt TensorFlow checkpoint index"),
        (lambda b: b[:10], "too short"),
        (lambda b: b[:-1] + bytes([b[-1] ^ 0xFF]), "bad table magic"),
        (lambda b: b[:30] + bytes([b[30] ^ 0x40]) + b[31:], "fails its checksum"),
        (lambda b: b"not a checkpoint at all, just some text that is long enough" * 2, "bad table magic"),
    ],
    ids=["truncated", "tiny", "magic", "bitflip", "text"],
)
def test_corrupt_index(ckpt_files: tuple[Path, Path, Path], damage, message: str) -> None:
    prefix, index, _ = ckpt_files
    index.write_bytes(damage(index.read_bytes()))
    with pytest.raises(InputError, match=message) as info:
        TFCheckpoint(prefix)
    assert "\n" not in str(info.value) and str(index) in str(info.value)
