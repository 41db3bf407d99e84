"""Nothing a user holds is lost: outputs are checked before any work, existing files are
replaced only with --force, a diverged run saves nothing, saves clean up after killed ones,
keep the files a user added to a model folder and respect the umask."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from itertools import islice
from pathlib import Path

import numpy as np
import pytest

from wordspace import Vectors, Word2Vec, load
from wordspace.errors import InsufficientMemoryError, OutputError, TrainingDivergedError
from wordspace.fileio import remove_stale_temporaries
from wordspace.formats import save
from wordspace.formats.native import save_vectors
from wordspace.training import _work_items

from .test_cli_boundary import one_error_line, wordspace


def _tiny_vectors(value: float = 1.0) -> Vectors:
    return Vectors.from_words(["a", "b", "c"], np.full((3, 4), value, dtype=np.float32))


@pytest.mark.parametrize("verb", ["convert", "export"])
def test_writing_over_an_existing_file_needs_force(tiny_model, tmp_path, verb):
    precious = tmp_path / "c.txt"
    precious.write_text("my corpus\n")
    extra = ["-f", "word2vec-txt"] if verb == "export" else []
    result = wordspace(verb, tiny_model, precious, *extra)
    assert "--force" in one_error_line(result)
    assert precious.read_text() == "my corpus\n"
    result = wordspace(verb, tiny_model, precious, *extra, "--force")
    assert result.returncode == 0, result.stderr
    assert load(precious).dim == 8


def test_convert_refuses_a_folder_that_is_not_a_model(tiny_model, tmp_path):
    folder = tmp_path / "stuff"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    assert "not a wordspace model" in one_error_line(wordspace("convert", tiny_model, folder))
    assert (folder / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("where", ["/sys/m", "/proc/m", "/dev/null/m"])
def test_an_unwritable_output_is_refused_before_training(tiny_corpus, where):
    started = time.monotonic()
    result = wordspace("train", "skipgram", tiny_corpus, "-o", where, "--epochs", "10000")
    line = one_error_line(result)
    assert where in line and "epoch" not in result.stderr
    assert time.monotonic() - started < 60


def test_an_immutable_parent_folder_is_refused_before_training(tiny_corpus, tmp_path):
    parent = tmp_path / "locked"
    parent.mkdir()
    if subprocess.run(["chattr", "+i", str(parent)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        result = wordspace(
            "train", "skipgram", tiny_corpus, "-o", parent / "m", "--epochs", "10000"
        )
        assert "cannot write" in one_error_line(result)
    finally:
        subprocess.run(["chattr", "-i", str(parent)], check=True)


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs, where mounting is allowed (root in a container that permits it)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_a_model_too_big_for_the_disk_is_refused_before_training(tiny_corpus, small_disk):
    result = wordspace("train", "skipgram", tiny_corpus, "-o", small_disk / "m", "--dim", "20000")
    line = one_error_line(result)
    assert "on disk" in line and "epoch" not in result.stderr


def test_a_full_disk_during_a_save_is_one_line_and_keeps_the_old_model(small_disk):
    target = small_disk / "vectors.txt"
    save(_tiny_vectors(1.0), target, "word2vec-txt")
    filler = small_disk / "filler"
    with contextlib.suppress(OSError), open(filler, "wb") as handle:
        while True:
            handle.write(b"\0" * (1 << 16))
    words = [f"w{i}" for i in range(20_000)]
    big = Vectors.from_words(words, np.ones((len(words), 16), dtype=np.float32))
    with pytest.raises(OutputError, match="No space left"):
        save(big, target, "word2vec-txt")
    assert load(target).dim == 4
    assert [p.name for p in small_disk.iterdir() if p.name.endswith(".tmp")] == []


def test_a_diverging_run_stops_and_saves_nothing(tiny_corpus, tmp_path):
    result = wordspace("train", "skipgram", tiny_corpus, "-o", tmp_path / "m", "--lr", "10", "-q")
    line = one_error_line(result)
    assert "diverged" in line and "lower lr" in line
    assert not (tmp_path / "m").exists()


def test_divergence_is_an_error_in_python_too(tiny_corpus):
    with pytest.raises(TrainingDivergedError, match="lr"):
        Word2Vec("skipgram", dim=8, lr=10.0, epochs=1, workers=1).fit(str(tiny_corpus))


def test_meta_json_holds_no_bare_nan(tiny_corpus, tmp_path):
    model = Word2Vec("cbow", dim=8, epochs=1, workers=1).fit(str(tiny_corpus))
    model.training.epoch_losses = [float("nan")]
    model.save(tmp_path / "m")
    text = (tmp_path / "m" / "meta.json").read_text()
    json.loads(text, parse_constant=lambda name: pytest.fail(f"meta.json holds {name}"))


KILLED_SAVER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    import wordspace.formats.native as native
    from wordspace import Vectors
    real_save = np.save
    def slow_save(*args, **kwargs):
        real_save(*args, **kwargs)
        print("saving", flush=True)
        time.sleep(60)
    native.np.save = slow_save
    words = [f"w{i}" for i in range(1000)]
    vectors = Vectors.from_words(words, np.ones((1000, 8), dtype=np.float32))
    native.save_vectors(vectors, sys.argv[1])
    """
)


def test_a_save_removes_the_temporaries_that_killed_saves_left(tmp_path):
    target = tmp_path / "model"
    save_vectors(_tiny_vectors(), target)
    saver = subprocess.Popen(
        [sys.executable, "-c", KILLED_SAVER, str(target)], stdout=subprocess.PIPE, text=True
    )
    assert saver.stdout.readline().strip() == "saving"
    saver.send_signal(signal.SIGKILL)
    saver.wait()
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers, "the killed save should have left its temporary folder"
    save_vectors(_tiny_vectors(2.0), target)
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert float(load(target).matrix[0, 0]) == 2.0


def test_temporaries_of_running_saves_and_other_names_are_left_alone(tmp_path):
    mine = tmp_path / f".model.{os.getpid()}-abc.tmp"
    other = tmp_path / ".other.1-abc.tmp"
    mine.mkdir()
    other.mkdir()
    assert remove_stale_temporaries(tmp_path / "model") == []
    assert mine.exists() and other.exists()


def test_retraining_into_a_model_folder_keeps_files_the_user_added(tiny_corpus, tmp_path):
    out = tmp_path / "m"
    for round_ in range(2):
        result = wordspace("train", "cbow", tiny_corpus, "-o", out, "--dim", "8", "--epochs", "1")
        assert result.returncode == 0, result.stderr
        if round_ == 0:
            (out / "NOTES.md").write_text("how I trained this\n")
    assert (out / "NOTES.md").read_text() == "how I trained this\n"
    assert load(out).dim == 8


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_saved_models_and_exports_respect_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        save_vectors(_tiny_vectors(), tmp_path / "model")
        save(_tiny_vectors(), tmp_path / "v.txt", "word2vec-txt")
        save(_tiny_vectors(), tmp_path / "v.bin", "fasttext-bin")
        os.umask(0o077)
        save(_tiny_vectors(), tmp_path / "private.txt", "word2vec-txt")
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "model") == 0o755
    assert _mode(tmp_path / "model" / "vectors.npy") == 0o644
    assert _mode(tmp_path / "v.txt") == 0o644 and _mode(tmp_path / "v.bin") == 0o644
    assert _mode(tmp_path / "private.txt") == 0o600


def test_training_matrices_beyond_available_memory_are_refused_before_allocation(
    tiny_corpus, monkeypatch
):
    import wordspace.memory as memory
    import wordspace.models.word2vec as word2vec

    monkeypatch.setattr(memory, "available_bytes", lambda: 1 << 20)
    monkeypatch.setattr(
        word2vec, "initial_vectors", lambda *a, **k: pytest.fail("allocated before the check")
    )
    with pytest.raises(InsufficientMemoryError, match="lower dim"):
        Word2Vec("skipgram", dim=5000, workers=1).fit(str(tiny_corpus))


def test_the_work_list_is_made_one_epoch_at_a_time():
    items = _work_items(np.full(1000, 10), 4_294_967_296, shuffle_seed=1)
    first = list(islice(items, 2001))
    assert first[0][0] == 0 and first[1000][0] == 1 and first[2000] == (2, first[2000][1], 20_000)
