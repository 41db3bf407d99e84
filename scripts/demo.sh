#!/usr/bin/env bash
# The README's demo: train skip-gram on a real corpus, evaluate it, show neighbours.
# Uses the first 228,724 lines (17M tokens) of the shared enwiki corpus, or CORPUS=path.
# DEMO_LINES, DEMO_EPOCHS and DEMO_MODEL change the slice, the epochs and the model folder.
set -euo pipefail
cd "$(dirname "$0")/.."
WORDSPACE=${WORDSPACE:-.venv/bin/wordspace}
SHARED=../shared/data
ENWIKI=$SHARED/enwiki/enwiki2015.tok.txt.gz
LINES=${DEMO_LINES:-228724}
MODEL=${DEMO_MODEL:-demo-model}

train() {
    "$WORDSPACE" train skipgram "$1" -o "$MODEL" --dim 100 --window 5 --negative 5 \
        --sample 1e-4 --min-count 5 --epochs "${DEMO_EPOCHS:-3}"
}

if [ -n "${CORPUS:-}" ]; then
    echo "== training skip-gram on $CORPUS"
    train "$CORPUS"
elif [ -f "$ENWIKI" ]; then
    echo "== training skip-gram on the first $LINES lines of $ENWIKI"
    # zcat is stopped by SIGPIPE (status 141) once head has its lines: that is success.
    set +o pipefail
    zcat "$ENWIKI" | head -n "$LINES" | train -
    unpacked=${PIPESTATUS[0]}
    set -o pipefail
    if [ "$unpacked" -ne 0 ] && [ "$unpacked" -ne 141 ]; then
        echo "could not read $ENWIKI (zcat exit status $unpacked)" >&2
        exit 1
    fi
else
    echo "no corpus: $ENWIKI is absent; run: make demo CORPUS=path/to/text" >&2
    exit 2
fi

if [ -f "$SHARED/analogy/questions-words.txt" ]; then
    echo "== analogy accuracy (Google set, 30,000 most frequent words)"
    "$WORDSPACE" eval analogy "$MODEL" "$SHARED/analogy/questions-words.txt" | tail -n 1
fi
for set in EN-WS-353-ALL EN-SIMLEX-999 EN-MEN-TR-3k; do
    if [ -f "$SHARED/wordsim/$set.txt" ]; then
        "$WORDSPACE" eval similarity "$MODEL" "$SHARED/wordsim/$set.txt"
    fi
done
for word in paris einstein guitar; do
    echo "== nearest neighbours of '$word'"
    "$WORDSPACE" neighbors "$MODEL" "$word" -k 8 || true
done
echo "== king - man + woman"
"$WORDSPACE" analogy "$MODEL" man king woman -k 3 || true
