"""Frame folders: natural order, 8/16-bit PNG (16-bit RGB beyond Pillow), clear errors."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from vsrkit.errors import InputError
from vsrkit.io.frames import (
    check_sequence,
    commit_dir,
    list_frames,
    list_sequences,
    natural_key,
    probe_image,
    read_image,
    read_sequence,
    remove_stale,
    staging_dir,
    write_image,
)


def _png16_rgb(path: Path, arr: np.ndarray) -> None:
    """A minimal independent 16-bit RGB PNG writer (filter 0 rows, one IDAT)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    h, w, _ = arr.shape
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


def test_natural_order(tmp_path: Path) -> None:
    for name in ["Frame 10.png", "Frame 2.png", "Frame 1.png"]:
        Image.new("RGB", (4, 4)).save(tmp_path / name)
    assert [p.name for p in list_frames(tmp_path)] == ["Frame 1.png", "Frame 2.png", "Frame 10.png"]
    assert natural_key("a2") < natural_key("a10")


def test_16bit_rgb_png_keeps_full_depth(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 65536, (5, 7, 3)).astype(np.uint16)
    _png16_rgb(tmp_path / "a.png", arr)
    got = read_image(tmp_path / "a.png")
    np.testing.assert_array_equal(np.round(got.astype(np.float64) * 65535).astype(np.uint16), arr)
    # Pillow alone would keep only the high byte; make sure the low byte really mattered here.
    assert not np.array_equal(arr >> 8 << 8, arr)


def test_write_16bit_roundtrip_rgb_and_gray(tmp_path: Path) -> None:
    frame = torch.rand(3, 6, 5)
    write_image(tmp_path / "rgb.png", frame, bits=16)
    write_image(tmp_path / "y.png", frame[:1], bits=16)
    codes = (frame.double() * 65535).round()
    rgb = torch.from_numpy(read_image(tmp_path / "rgb.png")).permute(2, 0, 1).double() * 65535
    y = torch.from_numpy(read_image(tmp_path / "y.png")).permute(2, 0, 1).double() * 65535
    assert torch.equal(rgb.round(), codes)
    assert torch.equal(y.round(), codes[:1].expand(3, -1, -1))


def test_8bit_gray_expands_and_write_gray(tmp_path: Path) -> None:
    frame = torch.rand(1, 4, 6)
    write_image(tmp_path / "g.png", frame)
    assert Image.open(tmp_path / "g.png").mode == "L"
    got = torch.from_numpy(read_image(tmp_path / "g.png")).permute(2, 0, 1)
    assert got.shape == (3, 4, 6)
    assert torch.equal(got[0], got[2]) and torch.allclose(got[0], frame[0], atol=0.5 / 255 + 1e-6)


def test_rgba_rejected(tmp_path: Path) -> None:
    Image.new("RGBA", (4, 4)).save(tmp_path / "a.png")
    with pytest.raises(InputError, match="alpha channel"):
        read_image(tmp_path / "a.png")
    with pytest.raises(InputError, match="alpha channel"):
        probe_image(tmp_path / "a.png")


def test_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        list_frames(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no image frames"):
        list_frames(tmp_path / "empty")
    with pytest.raises(InputError, match="empty dataset"):
        list_sequences(tmp_path / "empty")
    seq = tmp_path / "seq"
    seq.mkdir()
    Image.new("RGB", (4, 4)).save(seq / "1.png")
    (seq / "notes.txt").write_text("x")
    with pytest.raises(InputError, match="notes.txt: not an image file"):
        list_frames(seq)


def test_corrupt_and_size_mismatch(tmp_path: Path) -> None:
    seq = tmp_path / "seq"
    seq.mkdir()
    Image.new("RGB", (4, 4)).save(seq / "1.png")
    Image.new("RGB", (4, 5)).save(seq / "2.png")
    with pytest.raises(InputError, match=r"2.png: frame size \(5, 4\) differs"):
        check_sequence(seq)
    with pytest.raises(InputError, match="differs"):
        read_sequence(seq)
    (seq / "2.png").write_bytes(b"not a png")
    with pytest.raises(InputError, match="2.png: cannot read image"):
        check_sequence(seq)


def test_dataset_layout(tmp_path: Path) -> None:
    for name in ["b10", "b2"]:
        (tmp_path / name).mkdir()
        Image.new("RGB", (4, 4)).save(tmp_path / name / "0.png")
    assert [p.name for p in list_sequences(tmp_path)] == ["b2", "b10"]
    assert list_sequences(tmp_path / "b2") == [tmp_path / "b2"]
    Image.new("RGB", (4, 4)).save(tmp_path / "stray.png")
    with pytest.raises(InputError, match="stray.png: image file next to sequence folders"):
        list_sequences(tmp_path)


def test_staging_commit_merges(tmp_path: Path) -> None:
    final = tmp_path / "out"
    (final / "keep").mkdir(parents=True)
    (final / "old").mkdir()
    (final / "old" / "x.png").write_bytes(b"old")
    stage = staging_dir(final)
    (stage / "old").mkdir()
    (stage / "old" / "y.png").write_bytes(b"new")
    commit_dir(stage, final)
    assert not stage.exists()
    assert sorted(p.name for p in final.iterdir()) == ["keep", "old"]
    assert [p.name for p in (final / "old").iterdir()] == ["y.png"]


def test_staging_dir_clears_only_its_own_stale_folder(tmp_path: Path) -> None:
    final = tmp_path / "out"
    # What a SIGKILL during an earlier run over `out` leaves, next to another output's staging folder.
    stale = tmp_path / ".out.part"
    (stale / "seq").mkdir(parents=True)
    (stale / "seq" / "00000001.png").write_bytes(b"half")
    other = tmp_path / ".out2.part"
    other.mkdir()
    (other / "x.png").write_bytes(b"theirs")
    stage = staging_dir(final)
    assert stage == stale and list(stage.iterdir()) == []
    write_image(stage / "new.png", torch.zeros(3, 4, 4))
    commit_dir(stage, final)
    assert not stale.exists() and [p.name for p in final.iterdir()] == ["new.png"]
    assert (other / "x.png").read_bytes() == b"theirs"


def test_stale_leftover_that_is_a_file_or_a_symlink_is_removed_not_followed(tmp_path: Path) -> None:
    (tmp_path / ".a.part").write_bytes(b"file where the folder goes")
    assert staging_dir(tmp_path / "a").is_dir()
    target = tmp_path / "precious"
    target.mkdir()
    (target / "keep.png").write_bytes(b"keep")
    (tmp_path / ".b.part").symlink_to(target)
    stage = staging_dir(tmp_path / "b")
    assert stage.is_dir() and not stage.is_symlink()
    assert (target / "keep.png").read_bytes() == b"keep"
    remove_stale(tmp_path / "never-existed")  # nothing to do is fine
