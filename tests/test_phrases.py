"""Phrase detection: word2phrase's output reproduced, its quirks included; the phrase table,
transform, training on phrased text, and bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from wordspace import InputError, ParameterError, Phrases, Word2Vec
from wordspace.errors import ModelFileError
from wordspace.text.phrases import count_pairs, write_corpus

WORD2PHRASE = Path(sys.executable).parent / "word2phrase"


def wordspace(*args):
    return subprocess.run(
        [sys.executable, "-m", "wordspace.cli", *map(str, args)], capture_output=True, text=True
    )


def word2phrase(source: Path, target: Path, threshold: float, min_count: int = 5) -> Path:
    if not WORD2PHRASE.exists():
        pytest.skip("word2phrase (PyPI package word2vec) is not installed")
    # word2phrase keeps file names in 60 bytes: name both relative to the output's folder.
    source = source.resolve()
    subprocess.run(
        [str(WORD2PHRASE), "-train", os.path.relpath(source, target.parent), "-output",
         target.name, "-min-count", str(min_count), "-threshold", str(threshold), "-debug",
         "0"],
        check=True, capture_output=True, cwd=target.parent,
    )  # fmt: skip
    return target


def lines_of(path: Path) -> list[list[str]]:
    """Tokens per line, ignoring how the whitespace between them is spelled (word2phrase
    starts each line with a space)."""
    return [line.split() for line in path.read_text(encoding="utf-8").split("\n")]


@pytest.fixture(scope="module")
def slice_and_reference(enwiki_lines, tmp_path_factory):
    """The first 20,000 enwiki lines and word2phrase's two passes over them (100, then 50)."""
    folder = tmp_path_factory.mktemp("w2p")
    text = enwiki_lines(20_000)
    first = word2phrase(text, folder / "pass1.txt", 100)
    second = word2phrase(first, folder / "pass2.txt", 50)
    return text, first, second


def test_one_pass_rewrites_text_exactly_as_word2phrase(slice_and_reference, tmp_path):
    text, first, _ = slice_and_reference
    phrases = Phrases(min_count=5, threshold=100, passes=1, workers=2)
    write_corpus(phrases.learn(text), tmp_path / "ours.txt")
    ours, theirs = lines_of(tmp_path / "ours.txt"), lines_of(first)
    assert ours == theirs
    joined = sum(token.count("_") for line in ours for token in line)
    assert joined > 1000 and any("united_states" in line for line in ours)


def test_two_passes_match_word2phrase_run_twice(slice_and_reference, tmp_path):
    # The second pass reads tokens holding "_", where word2phrase's single table of strings
    # merges token and pair counts: the merged counts must be reproduced.
    text, _, second = slice_and_reference
    phrases = Phrases(min_count=5, threshold=[100, 50], passes=2, workers=2)
    write_corpus(phrases.learn(text), tmp_path / "ours.txt")
    assert lines_of(tmp_path / "ours.txt") == lines_of(second)
    assert [r.pass_number for r in phrases.reports] == [1, 2]
    longer = [p for p in phrases.export_phrases() if p.count("_") >= 2]
    assert longer, "the second pass joined no phrase of an earlier pass"


def test_tokens_that_look_like_phrases_share_counts_as_in_word2phrase(tmp_path):
    # "a_b" occurs as a token and as the pair (a, b): word2phrase counts the string for
    # both, and the pair (x, a_b) / (x_a, b) spell the same "x_a_b".
    lines = ["x a_b y", "x_a b z", "a b a b", "x a b", "a_b a_b z x a_b", "q r"] * 7
    source = tmp_path / "in.txt"
    source.write_text("\n".join(lines) + "\n")
    reference = word2phrase(source, tmp_path / "ref.txt", 1, min_count=3)
    phrases = Phrases(min_count=3, threshold=1, passes=1, workers=1)
    write_corpus(phrases.learn(source), tmp_path / "ours.txt")
    assert lines_of(tmp_path / "ours.txt") == lines_of(reference)


def test_line_structure_and_blank_lines_are_kept(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("new york city\n\n\nin new york\t\tnow \nnew york\nnew york")
    phrases = Phrases(min_count=1, threshold=0.1, passes=1, delta=1)
    write_corpus(phrases.learn(source), tmp_path / "out.txt")
    assert (tmp_path / "out.txt").read_text() == (
        "new_york city\n\n\nin new_york now\nnew_york\nnew_york\n"
    )


def test_pairs_are_counted_across_line_ends_but_never_joined_across_them():
    phrases = Phrases(min_count=1, threshold=0.0, passes=1, delta=0)
    out = phrases.learn([["a", "b"], ["c", "d"]])
    assert out.n_lines == 2
    ids = out.ids.tolist()
    words = [out.types.word(i) for i in ids]
    assert words == ["a_b", "c_d"]


def test_count_pairs_counts_every_adjacent_pair_on_any_number_of_threads():
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 50, size=200_000).astype(np.int32)
    expected = {}
    for a, b in zip(ids[:-1].tolist(), ids[1:].tolist(), strict=True):
        expected[(a, b)] = expected.get((a, b), 0) + 1
    for threads in (1, 2):
        keys, counts, pruned = count_pairs(ids, 10**9, threads)
        assert pruned == 0 and np.all(np.diff(keys.astype(np.float64)) > 0)
        got = {
            (int(k >> 32), int(k & 0xFFFFFFFF)): int(c) for k, c in zip(keys, counts, strict=True)
        }
        assert got == expected


def test_pruning_bounds_the_table_and_drops_only_rare_pairs():
    rng = np.random.default_rng(4)
    zipf = np.minimum(rng.zipf(1.3, size=300_000), 5000).astype(np.int32)
    full_keys, full_counts, _ = count_pairs(zipf, 10**9, 1)
    keys, _, pruned = count_pairs(zipf, 2000, 1)
    assert len(keys) <= 2000 and pruned >= 1
    survivors = np.isin(full_keys, keys)
    assert full_counts[~survivors].max() <= full_counts[survivors].max()
    top = full_keys[np.argsort(-full_counts)[:50]]
    assert np.isin(top, keys).all()


def test_pruning_keeps_the_strong_phrases(slice_and_reference):
    text, _, _ = slice_and_reference
    full = Phrases(passes=1, workers=2).fit(text).export_phrases()
    low = Phrases(passes=1, workers=2, max_pairs=200_000)
    pruned = low.fit(text).export_phrases()
    assert low.reports[0].pruned_at_most >= 1 and low.reports[0].pairs <= 200_000
    best = sorted(full, key=full.get, reverse=True)[:200]
    assert len(set(best) & set(pruned)) >= 180


def test_npmi_scores_lie_in_minus_one_to_one(slice_and_reference):
    text, _, _ = slice_and_reference
    phrases = Phrases(scoring="npmi", threshold=0.5, passes=1, workers=2).fit(text)
    scores = np.array(list(phrases.export_phrases().values()))
    assert len(scores) > 100 and scores.min() > 0.5 and scores.max() <= 1.0


def test_table_round_trips_and_transform_joins_new_text(slice_and_reference, tmp_path):
    text, _, _ = slice_and_reference
    phrases = Phrases(passes=2, workers=2).fit(text)
    phrases.save(tmp_path / "phrases.tsv")
    header = (tmp_path / "phrases.tsv").read_text().split("\n")[1]
    assert header == "phrase\tleft\tright\tscore\tcount\tpass"
    loaded = Phrases.load(tmp_path / "phrases.tsv")
    assert loaded.export_phrases() == pytest.approx(phrases.export_phrases())
    assert loaded.thresholds == [200.0, 100.0] and loaded.delimiter == "_"
    sentence = ["he", "moved", "to", "the", "united", "states", "in", "1990"]
    assert "united_states" in loaded.transform(sentence)
    assert loaded.transform(" ".join(sentence)) == " ".join(loaded.transform(sentence))
    assert loaded[[sentence, [], ["zzqx", "united", "states"]]] == [
        loaded.transform(sentence),
        [],
        ["zzqx", "united_states"],
    ]


def test_training_with_phrases_learns_vectors_for_them_and_saves_the_table(enwiki_lines, tmp_path):
    model = Word2Vec(dim=16, epochs=1, min_count=5, workers=2, phrases=2)
    model.fit(str(enwiki_lines(20_000)))
    assert "united_states" in model.vectors.vocab
    assert model.config()["phrases"]["thresholds"] == [200.0, 100.0]
    model.save(tmp_path / "model")
    stored = Phrases.load(tmp_path / "model")
    assert stored.export_phrases() == model.phrases.export_phrases()
    text = ["the", "united", "states", "and", "new", "york"]
    assert stored.transform(text) == model.phrases.transform(text)
    plain = Word2Vec(dim=8, epochs=1, workers=1).fit([["a", "b"]] * 10)
    plain.save(tmp_path / "plain")
    with pytest.raises(ModelFileError, match="holds no phrase table"):
        Phrases.load(tmp_path / "plain")


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"scoring": "npmi", "threshold": 2.0}, "outside [-1, 1]"),
        ({"delimiter": ""}, "delimiter"),
        ({"delimiter": "a b"}, "delimiter"),
        ({"min_count": 0}, "min_count"),
        ({"passes": 0}, "passes"),
        ({"passes": 99}, "passes"),
        ({"threshold": [1.0], "passes": 2}, "one per pass"),
        ({"threshold": -1.0}, "threshold"),
        ({"scoring": "pmi"}, "scoring"),
    ],
)
def test_bad_settings_are_named(options, fragment):
    with pytest.raises(ParameterError, match=None) as raised:
        Phrases(**options)
    assert fragment in str(raised.value)


def test_unfitted_transform_and_bad_table_are_refused(tmp_path):
    with pytest.raises(Exception, match="not fitted"):
        Phrases().transform(["a"])
    bad = tmp_path / "bad.tsv"
    bad.write_text("phrase\tleft\n")
    with pytest.raises(ModelFileError, match=r"bad\.tsv:1: not a phrase table"):
        Phrases.load(bad)


def test_empty_input_is_an_input_error(tmp_path):
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(InputError, match="no text"):
        Phrases().fit(tmp_path / "empty.txt")


def test_cli_writes_text_and_table_and_refuses_to_overwrite(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("new york is big\n\nnew york city\nthe new york times\n")
    out = tmp_path / "out.txt"
    done = wordspace("phrases", source, "-o", out, "--min-count", "1", "--threshold", "0.1",
                     "--passes", "1", "--save-phrases", tmp_path / "t.tsv", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_text() == "new_york is big\n\nnew_york city\nthe new_york times\n"
    assert "new_york\tnew\tyork\t" in (tmp_path / "t.tsv").read_text()
    again = wordspace("phrases", source, "-o", out)
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    assert "already exists; pass --force" in again.stderr
    assert out.read_text().startswith("new_york")
    missing = wordspace("phrases", tmp_path / "nope.txt", "-o", tmp_path / "x.txt")
    assert missing.returncode == 2 and "nope.txt" in missing.stderr
    assert not (tmp_path / "x.txt").exists()
    npmi = wordspace("phrases", source, "-o", "-", "--scoring", "npmi", "--threshold", "3")
    assert npmi.returncode == 2 and "outside [-1, 1]" in npmi.stderr


def test_training_refuses_a_phrases_option_that_is_neither_passes_nor_phrases():
    with pytest.raises(ParameterError, match="phrases must be a number of passes"):
        Word2Vec(phrases="yes")
    with pytest.raises(ParameterError, match="passes"):
        Word2Vec(phrases=0)
