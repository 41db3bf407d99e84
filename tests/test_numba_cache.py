"""Cached compiled kernels never outlive the source they were compiled from."""

from __future__ import annotations

from wordspace.numba_cache import drop_stale_kernels


def _package(tmp_path):
    package = tmp_path / "pkg"
    (package / "kernels" / "__pycache__").mkdir(parents=True)
    (package / "__pycache__").mkdir()
    (package / "kernels" / "losses.py").write_text("A = 1\n")
    (package / "kernels" / "word2vec.py").write_text("B = 2\n")
    return package


def test_editing_any_source_file_drops_every_cached_kernel(tmp_path):
    package = _package(tmp_path)
    drop_stale_kernels(package)
    cached = package / "kernels" / "__pycache__" / "word2vec.train_chunk-17.py311.1.nbc"
    index = cached.with_suffix("").with_suffix(".nbi")
    cached.write_bytes(b"old code")
    index.write_bytes(b"index")
    drop_stale_kernels(package)
    assert cached.exists() and index.exists()
    (package / "kernels" / "losses.py").write_text("A = 3\n")
    drop_stale_kernels(package)
    assert not cached.exists() and not index.exists()
    assert (package / "kernels" / "word2vec.py").exists()
