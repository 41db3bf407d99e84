"""Loading a subword model: time to load, to answer the first query, to give an unseen word.

Each measurement runs in a fresh process (imports and numba's one-time start-up are timed
apart), for wordspace's native folder and, when given, the same model as a Facebook ``.bin``
read by wordspace, by fastText and by gensim (``load_facebook_model``, which recomputes every
vocabulary word's n-gram sum on load).

    python bench/load_subword.py MODEL_FOLDER [--bin MODEL.bin] [--word paris]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(
    """
    import json, sys, time
    loader, path, word = sys.argv[1:4]
    began = time.perf_counter()
    if loader == "fasttext":
        import fasttext
    elif loader == "gensim":
        from gensim.models.fasttext import load_facebook_model
    else:
        from wordspace import load
        from wordspace.vocab import Vocabulary
        Vocabulary.from_words(["warm", "up"]).index("up")
    imported = time.perf_counter()
    if loader == "fasttext":
        model = fasttext.load_model(path)
        loaded = time.perf_counter()
        model.get_nearest_neighbors(word, k=10)
        queried = time.perf_counter()
        model.get_word_vector(word + "zq")
    elif loader == "gensim":
        model = load_facebook_model(path).wv
        loaded = time.perf_counter()
        model.most_similar(word, topn=10)
        queried = time.perf_counter()
        model[word + "zq"]
    else:
        vectors = load(path)
        loaded = time.perf_counter()
        vectors.most_similar(word, topn=10)
        queried = time.perf_counter()
        vectors[word + "zq"]
    unseen = time.perf_counter()
    print(json.dumps({
        "import": imported - began, "load": loaded - imported,
        "first most_similar": queried - loaded, "unseen word": unseen - queried,
    }))
    """
)


def measure(loader: str, path: str, word: str) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, loader, path, word], capture_output=True, text=True
    )
    if result.returncode != 0:
        raise SystemExit(f"{loader} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="a wordspace native subword model folder")
    parser.add_argument("--bin", help="the same model as a Facebook .bin")
    parser.add_argument("--word", default="paris")
    args = parser.parse_args()
    runs = [("wordspace, native folder", "wordspace", args.model)]
    if args.bin:
        runs += [
            ("wordspace, .bin", "wordspace", args.bin),
            ("fastText, .bin", "fasttext", args.bin),
            ("gensim, .bin", "gensim", args.bin),
        ]
    print("| loader | import s | load ms | first most_similar ms | unseen word ms |")
    print("|---|---|---|---|---|")
    for name, loader, path in runs:
        m = measure(loader, path, args.word)
        print(
            f"| {name} | {m['import']:.2f} | {1000 * m['load']:,.1f} | "
            f"{1000 * m['first most_similar']:,.1f} | {1000 * m['unseen word']:,.2f} |"
        )


if __name__ == "__main__":
    main()
