"""Side-by-side text classification: Facebook fastText's ``supervised`` against wordspace's
``wordspace train supervised`` on the shared IMDB and SentEval sets, same parameters, one run.

Training is timed as a user runs it, each in its own fresh process from start to exit: a
Python process that imports fasttext, trains and saves the ``.bin``, against our CLI, which
trains and saves its model folder. Start-up (imports, loading the compiled kernels) is given
apart: the same process on a two-line input. Accuracy is P@1 on the test file as each tool's
own ``test`` reports it (same definition), scored in a second process per tool.

    python bench/compare_classifier.py                        # both settings, seeds 1,2,3
    python bench/compare_classifier.py --settings recipe --seeds 1 --sets trec,imdb

Settings: ``recipe`` = dim 10, word_ngrams 2, lr 0.25 (fastText's published classification
recipe); ``default`` = dim 100, word_ngrams 1, lr 0.1 (fastText's defaults). Both 5 epochs.
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

FASTTEXT_TRAIN = textwrap.dedent(
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
    model.save_model(a["out"])
    """
)

FASTTEXT_TEST = textwrap.dedent(
    """
    import json, sys
    import fasttext
    n, p, r = fasttext.load_model(sys.argv[1]).test(sys.argv[2])
    print(json.dumps({"examples": n, "precision": p}))
    """
)

SETTINGS = {
    "recipe": {"dim": 10, "word_ngrams": 2, "lr": 0.25},
    "default": {"dim": 100, "word_ngrams": 1, "lr": 0.1},
}


def fasttext_run(params: dict, work: Path) -> tuple[float, float]:
    """fastText's whole training process (wall seconds) and its test P@1."""
    out = work / "ft.bin"
    train = [sys.executable, "-c", FASTTEXT_TRAIN, json.dumps(params | {"out": str(out)})]
    wall, _, _ = measured(train, work / "fasttext.log")
    if params["test"] is None:
        return wall, float("nan")
    test = [sys.executable, "-c", FASTTEXT_TEST, str(out), params["test"]]
    _, _, text = measured(test, work / "fasttext-test.log")
    return wall, json.loads(text.strip().splitlines()[-1])["precision"]


def wordspace_run(params: dict, work: Path) -> tuple[float, float]:
    """Our CLI's whole training process (wall seconds) and its test P@1."""
    out = work / "ws"
    train = [
        sys.executable, "-m", "wordspace", "train", "supervised", params["train"], "-o",
        str(out), "--dim", str(params["dim"]), "--word-ngrams", str(params["word_ngrams"]),
        "--lr", str(params["lr"]), "--epochs", str(params["epochs"]), "--workers",
        str(params["threads"]), "--bucket", str(params["bucket"]), "--seed",
        str(params["seed"]), "--loss", params["loss"], "--json",
    ]  # fmt: skip
    wall, _, _ = measured(train, work / "wordspace.log")
    if params["test"] is None:
        return wall, float("nan")
    test = [sys.executable, "-m", "wordspace", "test", str(out), params["test"], "--json"]
    _, _, text = measured(test, work / "wordspace-test.log")
    return wall, json.loads(text[text.index("{") :])["precision"]


TOOLS = {"fasttext": fasttext_run, "wordspace": wordspace_run}


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
    parser.add_argument("--settings", default=",".join(SETTINGS))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bucket", type=int, default=2_000_000)
    parser.add_argument("--loss", default="softmax")
    parser.add_argument("--seeds", default="1,2,3")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"classifier benchmark, {time.strftime('%Y-%m-%d')}: {' '.join(sys.argv[1:])}")
    print(
        f"\n{args.epochs} epochs, {args.threads} threads, bucket {args.bucket:,}, loss "
        f"{args.loss}, seeds {args.seeds}: accuracy = mean test P@1 over seeds (spread = "
        "max - min), wall = median whole training process\n"
    )
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        work = Path(tmp)
        for setting in args.settings.split(","):
            chosen = SETTINGS[setting]
            common = {
                "epochs": args.epochs, "threads": args.threads, "bucket": args.bucket,
                "loss": args.loss, **chosen,
            }  # fmt: skip
            tiny = work / "tiny.txt"
            tiny.write_text("__label__a one two three\n__label__b four five six\n")
            startup = {
                tool: statistics.median(
                    run(common | {"train": str(tiny), "test": None, "seed": 1}, work)[0]
                    for _ in range(3)
                )
                for tool, run in TOOLS.items()
            }
            print(
                f"setting {setting}: {chosen}; start-up (whole process on a 2-line input, "
                f"median of 3): fastText {startup['fasttext']:.2f} s, wordspace "
                f"{startup['wordspace']:.2f} s\n"
            )
            print(
                "| set | fastText P@1 (spread) | wordspace P@1 (spread) | difference | "
                "fastText wall s | wordspace wall s | speed-up | speed-up past start-up |"
            )
            print("|---|---|---|---|---|---|---|---|")
            for name in args.sets.split(","):
                train, test = files(name, work)
                results: dict[str, list[tuple[float, float]]] = {t: [] for t in TOOLS}
                for seed in seeds:
                    params = common | {"train": str(train), "test": str(test), "seed": seed}
                    for tool, run in TOOLS.items():
                        results[tool].append(run(params, work))
                acc = {t: [a for _, a in results[t]] for t in TOOLS}
                wall = {t: statistics.median(w for w, _ in results[t]) for t in TOOLS}
                past = {t: max(wall[t] - startup[t], 1e-3) for t in TOOLS}
                ft, ws = statistics.mean(acc["fasttext"]), statistics.mean(acc["wordspace"])
                spread = {t: 100 * (max(acc[t]) - min(acc[t])) for t in TOOLS}
                print(
                    f"| {name} | {100 * ft:.1f}% ({spread['fasttext']:.1f}) "
                    f"| {100 * ws:.1f}% ({spread['wordspace']:.1f}) "
                    f"| {100 * (ws - ft):+.1f} | {wall['fasttext']:.2f} | {wall['wordspace']:.2f} "
                    f"| {wall['fasttext'] / wall['wordspace']:.2f}x "
                    f"| {past['fasttext'] / past['wordspace']:.2f}x |",
                    flush=True,
                )
            print()


if __name__ == "__main__":
    main()
