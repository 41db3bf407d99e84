"""Side-by-side text classification: Facebook fastText's ``supervised`` against wordspace's
``Classifier`` on the shared IMDB and SentEval sets, same parameters, one run.

Each tool trains and tests in its own process, timed from start to exit (reading, training,
scoring the test set); test accuracy is P@1 on the test file as each tool's own ``test``
reports it (the same definition: lines with a known label and at least one input row).

    python bench/compare_classifier.py                       # dim 10, word_ngrams 2, lr 0.25
    python bench/compare_classifier.py --dim 100 --word-ngrams 1 --lr 0.1 --seeds 1,2,3
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from compare_word2vec import CACHE, SHARED, measured

SETS = {
    "trec": "senteval/trec", "sst2": "senteval/sst2", "sst5": "senteval/sst5",
    "mr": "senteval/mr", "subj": "senteval/subj", "cr": "senteval/cr",
    "mpqa": "senteval/mpqa", "imdb": "imdb/imdb",
}  # fmt: skip

FASTTEXT = textwrap.dedent(
    """
    import json, sys
    import fasttext
    from fasttext import FastText
    a = json.loads(sys.argv[1])
    params = dict(input=a["train"], dim=a["dim"], wordNgrams=a["word_ngrams"], lr=a["lr"],
                  epoch=a["epochs"], thread=a["threads"], bucket=a["bucket"], seed=a["seed"],
                  loss=a["loss"], verbose=0)
    try:
        model = fasttext.train_supervised(**params)
    except TypeError:  # the wrapper rejects seed=, its trainer takes it
        args = FastText._build_args(
            {**FastText.supervised_default, **params}, set(params) - {"input"})
        ft = FastText._FastText(args=args)
        fasttext.fasttext.train(ft.f, args)
        model = ft
    n, p, r = model.test(a["test"])
    print(json.dumps({"examples": n, "accuracy": p}))
    """
)

WORDSPACE = textwrap.dedent(
    """
    import json, sys
    from wordspace import Classifier
    a = json.loads(sys.argv[1])
    model = Classifier(dim=a["dim"], word_ngrams=a["word_ngrams"], lr=a["lr"],
                       epochs=a["epochs"], workers=a["threads"], bucket=a["bucket"],
                       seed=a["seed"], loss=a["loss"])
    score = model.fit(a["train"]).score(a["test"])
    print(json.dumps({"examples": score.examples, "accuracy": score.precision}))
    """
)


def plain(path: Path, work: Path) -> Path:
    """The file uncompressed (fastText cannot read gzip)."""
    if path.suffix != ".gz":
        return path
    out = work / path.stem
    if not out.exists():
        with gzip.open(path, "rb") as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return out


def files(name: str, work: Path) -> tuple[Path, Path]:
    base = SHARED / "classification" / SETS[name]
    if name == "imdb":
        return plain(Path(f"{base}.train.ft.txt.gz"), work), plain(
            Path(f"{base}.test.ft.txt.gz"), work
        )
    return Path(f"{base}.train.txt"), Path(f"{base}.test.txt")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--word-ngrams", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.25)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bucket", type=int, default=2_000_000)
    parser.add_argument("--loss", default="softmax")
    parser.add_argument("--seeds", default="1")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"classifier benchmark, {time.strftime('%Y-%m-%d')}: {' '.join(sys.argv[1:])}")
    print(
        f"\ndim {args.dim}, word_ngrams {args.word_ngrams}, lr {args.lr}, {args.epochs} "
        f"epochs, {args.threads} threads, bucket {args.bucket:,}, loss {args.loss}, seeds "
        f"{args.seeds} (accuracy: mean over seeds; wall: median)\n"
    )
    print("| set | fastText accuracy | wordspace accuracy | fastText wall s | wordspace wall s "
          "| speed-up |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        work = Path(tmp)
        for name in args.sets.split(","):
            train, test = files(name, work)
            results: dict[str, list[tuple[float, float]]] = {"fasttext": [], "wordspace": []}
            for seed in seeds:
                params = {
                    "train": str(train), "test": str(test), "dim": args.dim,
                    "word_ngrams": args.word_ngrams, "lr": args.lr, "epochs": args.epochs,
                    "threads": args.threads, "bucket": args.bucket, "seed": seed,
                    "loss": args.loss,
                }  # fmt: skip
                for tool, script in (("fasttext", FASTTEXT), ("wordspace", WORDSPACE)):
                    cmd = [sys.executable, "-c", script, json.dumps(params)]
                    wall, _, text = measured(cmd, work / f"{tool}.log")
                    report = json.loads(text.strip().splitlines()[-1])
                    results[tool].append((report["accuracy"], wall))
            ft, ws = (
                (
                    statistics.mean(a for a, _ in results[t]),
                    statistics.median(w for _, w in results[t]),
                )
                for t in ("fasttext", "wordspace")
            )
            print(
                f"| {name} | {100 * ft[0]:.1f}% | {100 * ws[0]:.1f}% | {ft[1]:.1f} | "
                f"{ws[1]:.1f} | {ft[1] / ws[1]:.2f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
