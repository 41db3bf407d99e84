"""Batch prediction with a Facebook supervised model: fastText's Python ``predict`` against
wordspace's ``Predictor``, on the same lines, in one run.

Each runs in its own fresh process over the same file, model loaded first: fastText one
``predict`` call per line and one call for the whole list of lines, wordspace in batches of
whole lines (``classify.predict_stream``) on one worker and on every CPU, and the
``wordspace predict`` command as a whole process printing to a file (start-up, loading and
printing included). Prints lines/s, each process's start-up (imports, loading the model and
a first prediction), and checks that every line gets the same top label.

    python bench/predict_fasttext.py MODEL.bin LINES.txt [-k 1] [--repeat 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

FASTTEXT = textwrap.dedent(
    """
    import time
    start = time.perf_counter()
    import json, sys
    import fasttext
    model = fasttext.load_model(sys.argv[1])
    model.predict("warm up", k=1)
    ready = time.perf_counter() - start
    lines = open(sys.argv[2], encoding="utf-8").read().split("\\n")[:-1]
    k = int(sys.argv[3])
    began = time.perf_counter()
    if sys.argv[4] == "batch":
        top = model.predict(lines, k=k)[0]
    else:
        top = [model.predict(line, k=k)[0] for line in lines]
    seconds = time.perf_counter() - began
    print(json.dumps({"seconds": seconds, "lines": len(lines), "ready": ready,
                      "top": [t[0] if t else "" for t in top]}))
    """
)

WORDSPACE = textwrap.dedent(
    """
    import time
    start = time.perf_counter()
    import json, sys
    import numpy as np
    from wordspace.classify import Predictor, predict_stream
    from wordspace.formats import load_model
    predictor = Predictor(load_model(sys.argv[1]))
    predictor.predict_text(np.frombuffer(b"warm up\\n", np.uint8))
    ready = time.perf_counter() - start
    k, workers = int(sys.argv[3]), int(sys.argv[4])
    began = time.perf_counter()
    ids = []
    with open(sys.argv[2], "rb") as stream:
        for batch, _ in predict_stream(predictor, stream, k, 0.0, workers):
            ids.append(batch[:, 0])
    seconds = time.perf_counter() - began
    names = predictor.label_names
    top = [names[i] if i >= 0 else "" for i in np.concatenate(ids).tolist()]
    print(json.dumps({"seconds": seconds, "lines": len(top), "ready": ready, "top": top}))
    """
)


def run(script: str, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr[-2000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_cli(model: str, path: str, k: int) -> dict:
    """``wordspace predict MODEL LINES -k K > FILE``, timed from start to exit."""
    command = [sys.executable, "-m", "wordspace", "predict", model, path, "-k", str(k)]
    with tempfile.TemporaryFile() as printed:
        began = time.perf_counter()
        result = subprocess.run(command, stdout=printed, stderr=subprocess.PIPE, check=False)
        seconds = time.perf_counter() - began
        if result.returncode != 0:
            raise SystemExit(result.stderr[-2000:].decode(errors="replace"))
        printed.seek(0)
        out = printed.read().decode("utf-8").splitlines()
    top = [line.split(" ", 1)[0] for line in out]
    return {"seconds": seconds, "lines": len(out), "ready": None, "top": top}


def _median_run(results: list[dict]) -> dict:
    """The run of median seconds, its start-up replaced by the median start-up."""
    chosen = sorted(results, key=lambda r: r["seconds"])[len(results) // 2]
    readies = [r["ready"] for r in results if r["ready"] is not None]
    return chosen | {"ready": statistics.median(readies) if readies else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("lines")
    parser.add_argument("-k", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="concatenate the file N times")
    parser.add_argument(
        "--rounds", type=int, default=1, help="run every predictor N times, interleaved; median"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "lines.txt")
        with open(args.lines, encoding="utf-8") as src:
            text = src.read()
        with open(path, "w", encoding="utf-8") as out:
            out.write(text * args.repeat)
        predictors = {
            "fastText predict, one call per line": lambda: run(
                FASTTEXT, args.model, path, str(args.k), "line"
            ),
            "fastText predict, one call for all lines": lambda: run(
                FASTTEXT, args.model, path, str(args.k), "batch"
            ),
            "wordspace, 1 worker": lambda: run(WORDSPACE, args.model, path, str(args.k), "1"),
            f"wordspace, {os.cpu_count()} workers": lambda: run(
                WORDSPACE, args.model, path, str(args.k), str(os.cpu_count())
            ),
            "wordspace predict (CLI, whole process)": lambda: run_cli(args.model, path, args.k),
        }
        rounds: dict[str, list[dict]] = {name: [] for name in predictors}
        for _ in range(args.rounds):
            for name, predict in predictors.items():
                rounds[name].append(predict())
        runs = {name: _median_run(results) for name, results in rounds.items()}
    reference = next(iter(runs.values()))["top"]
    print("| predictor | start-up s | lines | seconds | lines/s | top label as fastText's |")
    print("|---|---|---|---|---|---|")
    for name, r in runs.items():
        same = sum(a == b for a, b in zip(r["top"], reference, strict=True))
        ready = "" if r["ready"] is None else f"{r['ready']:.2f}"
        print(
            f"| {name} | {ready} | {r['lines']:,} | {r['seconds']:.2f} | "
            f"{r['lines'] / r['seconds']:,.0f} | {same:,} of {len(reference):,} |"
        )


if __name__ == "__main__":
    main()
