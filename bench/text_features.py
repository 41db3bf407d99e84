"""Text classification features on the shared IMDB and SentEval sets: a linear SVM on TF-IDF
against classifiers on averaged word vectors, sent2vec embeddings and our supervised
classifier, test accuracy and time of every method on every set, in one run.

Rows (pick them with ``--methods``, by name or by the prefix before a ``-``):

- ``tfidf-svm``: scikit-learn's TfidfVectorizer (unigrams and bigrams, sublinear tf, tokens
  split on whitespace) and LinearSVC (C=1);
- ``enwiki-{mean,tfidf}-{svm,lr}``: skip-gram vectors of the shared enwiki corpus
  (``--enwiki-model``, or trained here on its first ``--enwiki-lines`` lines, default all,
  with dim 100, window 5, negative 5, sample 1e-4, min_count 5, 5 epochs, and cached under
  ``bench/.cache``), pooled per text by ``wordspace.sklearn.EmbeddingVectorizer`` (plain
  mean, or IDF-weighted; ``--poolings mean,tfidf,sif`` adds SIF), then LinearSVC (C=1) or
  LogisticRegression (C=1, max_iter=1000), after a StandardScaler (or, with ``--raw``, on
  the pooled features as they are: C=1 on raw averages loses 5-25 points);
- ``own-{mean,tfidf}-{svm,lr}``: the same with skip-gram vectors trained on the set's own
  training texts (dim 100, min_count 1, 10 epochs, otherwise the defaults);
- ``sent2vec-lr``: the embeddings of ``--sent2vec-model`` (a ``wordspace train sent2vec``
  model) and LogisticRegression; skipped when no model is given;
- ``supervised``: ``wordspace.sklearn.TextClassifier`` with fastText's classification recipe
  (dim 10, word bigrams, lr 0.25, 5 epochs).

Texts are lowercased (the enwiki corpus is) and otherwise taken as tokenised; labels are the
tokens starting with ``__label__`` (the first one is the class). Each method is timed in this
process, kernels loaded beforehand, from its raw texts to its test predictions: vectorizing
train and test, training its own word vectors (``own`` rows: trained once per set, their time
counted in each of the rows that use them, as if run alone) and fitting and predicting. The
enwiki vectors are trained (or loaded) once, before, and their time given apart. Progress
goes to stderr, the report (two Markdown tables: accuracy, seconds) to stdout.

    python bench/text_features.py                                 # all sets and rows
    python bench/text_features.py --sets trec,sst2 --enwiki-lines 20000
    python bench/text_features.py --enwiki-model enwiki-sg --sent2vec-model s2v --json out.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import shlex
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

sys.path.insert(0, str(Path(__file__).parent))

from compare_word2vec import CACHE, ENWIKI, SHARED, corpus_slice

from wordspace import Word2Vec
from wordspace.formats import Model, load_model
from wordspace.sklearn import EmbeddingVectorizer, TextClassifier

LABEL = "__label__"
DATA = SHARED / "classification"
SETS = {
    "trec": ("TREC", DATA / "senteval" / "trec.train.txt", DATA / "senteval" / "trec.test.txt"),
    "sst2": ("SST-2", DATA / "senteval" / "sst2.train.txt", DATA / "senteval" / "sst2.test.txt"),
    "mr": ("MR", DATA / "senteval" / "mr.train.txt", DATA / "senteval" / "mr.test.txt"),
    "subj": ("SUBJ", DATA / "senteval" / "subj.train.txt", DATA / "senteval" / "subj.test.txt"),
    "imdb": ("IMDB", DATA / "imdb" / "imdb.train.ft.txt.gz", DATA / "imdb" / "imdb.test.ft.txt.gz"),
}
POOLING_NAMES = {"mean": "mean", "tfidf": "tf-idf weighted", "sif": "SIF"}
CLASSIFIER_NAMES = {"svm": "LinearSVC", "lr": "LogReg"}
SUPERVISED = {"dim": 10, "word_ngrams": 2, "lr": 0.25, "epochs": 5}
TINY = ["the cat sat on the mat", "a dog ran in the park"] * 4
"""Texts to load the kernels with before timing."""


@dataclass
class LabelledSet:
    train_texts: list[str]
    train_labels: list[str]
    test_texts: list[str]
    test_labels: list[str]


@dataclass
class Result:
    set: str
    method: str
    accuracy: float
    seconds: float


def read_labelled(path: Path) -> tuple[list[str], list[str]]:
    """Texts (lowercased, labels removed) and first labels of a fastText-format file; lines
    without a label are left out."""
    texts, labels = [], []
    with (gzip.open if path.suffix == ".gz" else open)(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            tokens = line.split()
            found = [t for t in tokens if t.startswith(LABEL)]
            if found:
                labels.append(found[0][len(LABEL) :])
                texts.append(" ".join(t for t in tokens if not t.startswith(LABEL)).lower())
    return texts, labels


def load_set(name: str) -> LabelledSet:
    _, train, test = SETS[name]
    return LabelledSet(*read_labelled(train), *read_labelled(test))


def method_names(poolings: list[str]) -> dict[str, str]:
    """Every row's name and its label in the table, in table order."""
    names = {"tfidf-svm": "TF-IDF 1-2-grams + LinearSVC"}
    for source, what in (("enwiki", "enwiki skip-gram"), ("own", "own-text skip-gram")):
        for pooling in poolings:
            for clf, clf_name in CLASSIFIER_NAMES.items():
                label = f"{what}, {POOLING_NAMES[pooling]} + {clf_name}"
                names[f"{source}-{pooling}-{clf}"] = label
    names["sent2vec-lr"] = "sent2vec + LogReg"
    names["supervised"] = "wordspace TextClassifier (dim 10, bigrams, lr 0.25)"
    return names


def chosen_methods(spec: str, names: dict[str, str]) -> list[str]:
    """The rows ``spec`` names (comma list of names or of prefixes before a ``-``)."""
    tokens = [t.strip() for t in spec.split(",") if t.strip()]
    for token in tokens:
        if not any(n == token or n.startswith(f"{token}-") for n in names):
            raise SystemExit(f"unknown method {token!r}; choose among: {', '.join(names)}")
    return [n for n in names if any(n == t or n.startswith(f"{t}-") for t in tokens)]


def linear(kind: str, seed: int, standardize: bool) -> ClassifierMixin:
    """LinearSVC (``svm``) or LogisticRegression (``lr``), both C=1, standardized inputs
    with ``standardize``."""
    model = (
        LinearSVC(C=1.0, random_state=seed)
        if kind == "svm"
        else LogisticRegression(C=1.0, max_iter=1000)
    )
    return make_pipeline(StandardScaler(), model) if standardize else model


def fit_predict(model: Any, x_train: Any, data: LabelledSet, x_test: Any) -> tuple[float, float]:
    """Test accuracy of ``model`` fitted on ``x_train``, and the seconds fitting and
    predicting took."""
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, data.train_labels)
    predicted = model.predict(x_test)
    seconds = time.perf_counter() - started
    return accuracy_score(data.test_labels, predicted), seconds


def vectorized(vectorizer: Any, data: LabelledSet) -> tuple[Any, Any, float]:
    """Train and test features of a scikit-learn vectorizer fitted on the training texts, and
    the seconds they took."""
    started = time.perf_counter()
    x_train = vectorizer.fit_transform(data.train_texts)
    x_test = vectorizer.transform(data.test_texts)
    return x_train, x_test, time.perf_counter() - started


def timed(work: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = work()
    return value, time.perf_counter() - started


def enwiki_vectors(args: argparse.Namespace) -> tuple[Model, str]:
    """The enwiki skip-gram model (given, cached or trained now) and a line describing it."""
    if args.enwiki_model:
        model, seconds = timed(lambda: load_model(args.enwiki_model))
        return model, f"enwiki vectors: {args.enwiki_model} (given; loaded in {seconds:.1f} s)"
    lines = "all" if args.enwiki_lines is None else str(args.enwiki_lines)
    path = CACHE / f"enwiki-sg-{lines}-d{args.dim}-e{args.enwiki_epochs}-s{args.seed}"
    if (path / "meta.json").exists():
        training = json.loads((path / "meta.json").read_text()).get("training", {})
        made = training.get("read_seconds", 0) + training.get("seconds", 0)
        model = load_model(path)
        return model, f"enwiki vectors: {path} (cached; reading and training took {made:.1f} s)"
    corpus = ENWIKI if args.enwiki_lines is None else corpus_slice(args.enwiki_lines)
    print(f"training skip-gram on {corpus} ...", file=sys.stderr, flush=True)
    trainer = Word2Vec(
        "skipgram", dim=args.dim, window=5, negative=5, sample=1e-4, min_count=5,
        epochs=args.enwiki_epochs, workers=args.threads, seed=args.seed,
    )  # fmt: skip
    _, seconds = timed(lambda: trainer.fit(corpus))
    trainer.save(path)
    tokens = trainer.read_stats.raw_tokens if trainer.read_stats else 0
    return load_model(path), (
        f"enwiki vectors: {path} (trained here in {seconds:.1f} s: {lines} lines, "
        f"{tokens:,} tokens, {len(trainer.vectors):,} words, {args.enwiki_epochs} epochs)"
    )


def own_vectors(data: LabelledSet, args: argparse.Namespace) -> Word2Vec:
    """Skip-gram vectors trained on the set's own training texts."""
    return Word2Vec(
        "skipgram", dim=args.dim, min_count=args.own_min_count, epochs=args.own_epochs,
        workers=args.threads, seed=args.seed,
    ).fit(data.train_texts)  # fmt: skip


def warm_up(args: argparse.Namespace, poolings: list[str]) -> None:
    """Load the compiled kernels (training, pooling, classifying) before anything is timed."""
    model = Word2Vec("skipgram", dim=8, min_count=1, epochs=1, workers=args.threads).fit(TINY)
    warm_pooling(model, poolings)
    classifier = TextClassifier(dim=4, word_ngrams=2, epochs=1, workers=args.threads)
    classifier.fit(TINY, ["a", "b"] * (len(TINY) // 2)).predict(TINY)


def warm_pooling(model: Any, poolings: list[str]) -> None:
    """Pool a few texts with ``model`` in every way: the kernels are compiled for each kind of
    array they read (a memory-mapped model's are read-only)."""
    for pooling in poolings:
        EmbeddingVectorizer(model, pooling=pooling).fit_transform(TINY)


def run_set(
    name: str,
    methods: list[str],
    args: argparse.Namespace,
    enwiki: Model | None,
    sent2vec: Model | None,
) -> tuple[list[Result], tuple[int, int]]:
    """Every chosen method's accuracy and seconds on one set, and the set's train and test
    sizes."""
    data = load_set(name)
    results: list[Result] = []
    own: tuple[Word2Vec, float] | None = None
    pooled: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, float]] = {}

    def features(source: str, pooling: str) -> tuple[np.ndarray, np.ndarray, float]:
        """Pooled train and test features and the seconds they took (own vectors' included)."""
        nonlocal own
        if (source, pooling) not in pooled:
            before = 0.0
            if source == "enwiki":
                model: Any = enwiki
            else:
                if own is None:
                    own = timed(lambda: own_vectors(data, args))
                model, before = own
            x_train, x_test, seconds = vectorized(EmbeddingVectorizer(model, pooling=pooling), data)
            pooled[source, pooling] = (x_train, x_test, before + seconds)
        return pooled[source, pooling]

    for method in methods:
        if method == "tfidf-svm":
            tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"\S+")
            x_train, x_test, before = vectorized(tfidf, data)
            accuracy, seconds = fit_predict(
                LinearSVC(C=1.0, random_state=args.seed), x_train, data, x_test
            )
        elif method == "sent2vec-lr":
            if sent2vec is None:
                continue
            x_train, x_test, before = vectorized(EmbeddingVectorizer(sent2vec), data)
            model = linear("lr", args.seed, args.standardize)
            accuracy, seconds = fit_predict(model, x_train, data, x_test)
        elif method == "supervised":
            before = 0.0
            classifier = TextClassifier(**SUPERVISED, workers=args.threads, seed=args.seed)
            accuracy, seconds = fit_predict(classifier, data.train_texts, data, data.test_texts)
        else:
            source, pooling, kind = method.split("-")
            x_train, x_test, before = features(source, pooling)
            model = linear(kind, args.seed, args.standardize)
            accuracy, seconds = fit_predict(model, x_train, data, x_test)
        results.append(Result(name, method, accuracy, before + seconds))
        print(
            f"{name}: {method} {100 * accuracy:.2f}% in {before + seconds:.2f} s",
            file=sys.stderr,
            flush=True,
        )
    return results, (len(data.train_texts), len(data.test_texts))


def tables(results: list[Result], sets: list[str], names: dict[str, str]) -> str:
    """The accuracy table and the seconds table, in Markdown."""
    cell = {(r.method, r.set): r for r in results}
    rows = [m for m in names if any((m, s) in cell for s in sets)]
    heads = " | ".join(SETS[s][0] for s in sets)
    rule = "|---|" + "---|" * (len(sets) + 1)
    out = [f"| method | {heads} | mean |", rule]
    for method in rows:
        found = [cell[method, s].accuracy for s in sets if (method, s) in cell]
        accuracies = " | ".join(
            f"{100 * cell[method, s].accuracy:.1f}" if (method, s) in cell else "" for s in sets
        )
        out.append(f"| {names[method]} | {accuracies} | {100 * statistics.mean(found):.1f} |")
    out += ["", f"| method | {heads} | total |", rule]
    for method in rows:
        seconds = " | ".join(
            f"{cell[method, s].seconds:.1f}" if (method, s) in cell else "" for s in sets
        )
        total = sum(cell[method, s].seconds for s in sets if (method, s) in cell)
        out.append(f"| {names[method]} | {seconds} | {total:.1f} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS), help="comma list [all]")
    parser.add_argument("--methods", default="tfidf,enwiki,own,sent2vec,supervised")
    parser.add_argument("--poolings", default="mean,tfidf", help="of mean, tfidf, sif")
    parser.add_argument("--enwiki-model", help="skip-gram vectors, any readable model")
    parser.add_argument("--enwiki-lines", type=int, help="enwiki lines to train on [all]")
    parser.add_argument("--enwiki-epochs", type=int, default=5)
    parser.add_argument("--sent2vec-model", help="a `wordspace train sent2vec` model")
    parser.add_argument("--dim", type=int, default=100, help="word vector dimension")
    parser.add_argument("--own-epochs", type=int, default=10)
    parser.add_argument("--own-min-count", type=int, default=1)
    parser.add_argument(
        "--raw",
        dest="standardize",
        action="store_false",
        help="no StandardScaler before the embedding rows' classifiers",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = [s for s in sets if s not in SETS]
    poolings = [p.strip() for p in args.poolings.split(",") if p.strip()]
    if unknown or not set(poolings) <= set(POOLING_NAMES):
        parser.error(f"sets are among {', '.join(SETS)}; poolings among mean, tfidf, sif")
    names = method_names(poolings)
    methods = chosen_methods(args.methods, names)
    command = shlex.join(["python", "bench/text_features.py", *sys.argv[1:]])
    print(f"text features benchmark, {time.strftime('%Y-%m-%d')}: {command}\n")
    warm_up(args, poolings)
    notes = []
    enwiki = None
    if any(m.startswith("enwiki-") for m in methods):
        enwiki, note = enwiki_vectors(args)
        warm_pooling(enwiki, poolings)
        notes.append(note)
    sent2vec = None
    if "sent2vec-lr" in methods:
        if args.sent2vec_model:
            sent2vec = load_model(args.sent2vec_model)
            warm_pooling(sent2vec, ["mean"])
            notes.append(f"sent2vec model: {args.sent2vec_model}")
        else:
            notes.append("sent2vec row skipped: no --sent2vec-model given")
    results: list[Result] = []
    sizes: dict[str, tuple[int, int]] = {}
    for name in sets:
        found, sizes[name] = run_set(name, methods, args, enwiki, sent2vec)
        results += found
    print(
        f"test accuracy % (mean: over the sets shown), {args.threads} threads, seed "
        f"{args.seed}; word vectors dim {args.dim}; own-text skip-gram {args.own_epochs} "
        f"epochs, min_count {args.own_min_count}; embedding features "
        f"{'standardized' if args.standardize else 'as pooled'}"
    )
    for note in notes:
        print(note)
    print(
        "examples (train / test): "
        + ", ".join(f"{SETS[s][0]} {a:,} / {b:,}" for s, (a, b) in sizes.items())
    )
    print()
    print(tables(results, sets, names))
    print(
        "\nseconds: from raw texts to test predictions, in this process (own-text rows "
        "include training their vectors; enwiki vectors' training not included)"
    )
    print(f"\ncommand: {command}")
    if args.json:
        report = {
            "command": command,
            "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "notes": notes,
            "sizes": sizes,
            "results": [asdict(r) | {"label": names[r.method]} for r in results],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
