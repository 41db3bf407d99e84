"""The FastAPI app of one model: JSON endpoints under ``/v1``, health, Prometheus metrics.

Every bad request gets a 4xx with a JSON body ``{"error": message}`` (validation errors add
``detail``), never a 5xx: malformed JSON, wrong types, unknown fields, empty or oversized
batches, out-of-range values, unknown words and endpoints the model's kind lacks. A body
larger than ``Limits.max_body_bytes`` is refused (413) before it is read whole. The
service reads no path from a request: the model is fixed when the app is made.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import orjson
from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from pydantic import BaseModel, ConfigDict, conlist
from starlette.exceptions import HTTPException
from starlette.staticfiles import StaticFiles

from wordspace import __version__
from wordspace.errors import WordspaceError
from wordspace.serve.batching import NeighbourBatcher
from wordspace.serve.limits import Limits
from wordspace.serve.models import ServedModel

MODEL_ENV = "WORDSPACE_SERVE_MODEL"
"""The model path a worker process started by ``wordspace serve`` loads."""
LIMITS_ENV = "WORDSPACE_SERVE_LIMITS"
"""The request limits of such a worker, as ``name=value,...``."""
EXPLORER = Path(__file__).with_name("explorer")
"""The web explorer's static files: ``index.html`` at ``/``, the rest under ``/explorer/`` (no
build step, nothing from another host)."""
ENDPOINTS = (
    "/healthz", "/v1/info", "/v1/words", "/v1/vectors", "/v1/similar", "/v1/similarity",
    "/v1/analogy", "/v1/embed", "/v1/predict", "/metrics",
)  # fmt: skip
"""The paths metrics are kept for (any other path counts as ``other``)."""


class RequestError(Exception):
    """A request the model cannot answer: its status and one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class WordsRequest(_Strict):
    words: list[str]


class SimilarRequest(_Strict):
    positive: list[str] = []
    negative: list[str] = []
    vector: list[float] | None = None
    k: int = 10
    exact: bool | None = None
    restrict_vocab: int | None = None


class PairsRequest(_Strict):
    pairs: list[conlist(str, min_length=2, max_length=2)]


class AnalogyRequest(_Strict):
    a: str
    b: str
    c: str
    k: int = 1
    method: Literal["add", "mul"] = "add"


class SentencesRequest(_Strict):
    sentences: list[str]


class PredictRequest(_Strict):
    texts: list[str]
    k: int = 1
    threshold: float = 0.0


class JSONBytes(Response):
    """JSON written by orjson, numpy arrays included, as it is (not re-encoded first)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


def _json(document: dict) -> JSONBytes:
    """A JSON response of ``document`` as it is (numpy arrays included), not re-encoded."""
    return JSONBytes(document)


def _error(status: int, message: str, **extra: Any) -> JSONBytes:
    return JSONBytes({"error": message, **extra}, status_code=status)


class BodyLimit:
    """ASGI middleware refusing (413) a body over ``limit`` bytes, by its Content-Length or,
    for a chunked body, as soon as the bytes received pass it: the body is read (at most
    ``limit`` bytes held) before the app sees it."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._refuse(scope, receive, send)
                return
        messages, received = [], 0
        while True:
            message = await receive()
            messages.append(message)
            received += len(message.get("body", b""))
            if received > self.limit:
                await self._refuse(scope, receive, send)
                return
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replayed() -> dict:
            message = next(replay, None)
            return message if message is not None else await receive()

        await self.app(scope, replayed, send)

    async def _refuse(self, scope: dict, receive: Any, send: Any) -> None:
        response = _error(413, f"request body over the limit of {self.limit:,} bytes")
        await response(scope, receive, send)


class Metrics:
    """Requests, latency and errors per endpoint, in Prometheus' text format. Under several
    worker processes (``PROMETHEUS_MULTIPROC_DIR`` set) every worker's figures are summed."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "wordspace_requests", "HTTP requests answered", ["endpoint", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.errors = Counter(
            "wordspace_errors", "requests answered with a 4xx or 5xx status", ["endpoint"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "wordspace_request_seconds", "time to answer a request", ["endpoint"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )  # fmt: skip

    def observe(self, path: str, status: int, seconds: float) -> None:
        endpoint = path if path in ENDPOINTS else "other"
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)
        if status >= 400:
            self.errors.labels(endpoint).inc()

    def exposition(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


def create_app(
    path: str | os.PathLike, limits: Limits | None = None, *, preload: bool = False
) -> FastAPI:
    """The app serving the model at ``path`` (loaded now, memory-mapped where the format
    allows) under ``limits``; with ``preload`` every page of the model is read first."""
    limits = limits or Limits()
    served = ServedModel.load(path)
    if preload:
        served.touch()
    metrics = Metrics()
    batcher = NeighbourBatcher(served.vectors)
    app = FastAPI(
        title="wordspace", version=__version__, default_response_class=JSONBytes,
        description=f"Vectors, neighbours, sentence embeddings and predictions of "
        f"{served.name} ({served.kind}).",
    )  # fmt: skip
    app.state.model = served
    app.state.batcher = batcher
    app.state.limits = limits

    @app.middleware("http")
    async def measured(request: Request, call_next: Any) -> Response:
        start = time.perf_counter()
        response = await call_next(request)
        metrics.observe(request.url.path, response.status_code, time.perf_counter() - start)
        return response

    app.add_middleware(BodyLimit, limit=limits.max_body_bytes)
    _add_error_handlers(app)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/info")
    def info() -> dict:
        return served.info() | {"limits": limits.as_dict()}

    @app.get("/v1/words")
    def words(prefix: str = "", limit: int = 10) -> Any:
        if len(prefix) > limits.max_text_chars:
            raise RequestError(422, f"prefix holds {len(prefix):,} characters, over the limit")
        if not 1 <= limit <= limits.max_k:
            raise RequestError(422, f"limit must be between 1 and {limits.max_k}, got {limit}")
        vocab = served.vectors.vocab
        return _json({"words": [vocab.word(i) for i in vocab.with_prefix(prefix, limit)]})

    @app.post("/v1/vectors")
    def vectors(request: Annotated[WordsRequest, Body()]) -> Any:
        words = _words(_batch(request.words, limits, "words"), limits, "words")
        found, in_vocab, has_vector = served.word_vectors(words)
        return _json({
            "vectors": [row if ok else None for row, ok in zip(found, has_vector, strict=True)],
            "in_vocab": in_vocab.tolist(),
            "has_vector": has_vector.tolist(),
        })  # fmt: skip

    @app.post("/v1/similar")
    def similar(request: Annotated[SimilarRequest, Body()]) -> Any:
        k = _k(request.k, limits, len(served.vectors))
        given = len(request.positive) + len(request.negative)
        if given > limits.max_query_words:
            raise RequestError(422, f"at most {limits.max_query_words} query words, got {given}")
        positive: list[Any] = _known(served, request.positive, limits, "positive")
        negative = _known(served, request.negative, limits, "negative")
        if request.vector is not None:
            positive.append(_vector(request.vector, served.dim))
        if not positive and not negative:
            raise RequestError(422, "give positive or negative words, or a vector")
        restrict = request.restrict_vocab
        if restrict is not None and restrict < 1:
            raise RequestError(422, f"restrict_vocab must be at least 1, got {restrict}")
        vectors = served.vectors
        exact = request.exact if request.exact is not None else vectors.approximate is None
        exact = exact or vectors.approximate is None or restrict is not None
        if restrict is None:
            query, used = vectors.query_vector(positive, negative)
            rows, scores = batcher.nearest(query, k, used, exact)
            pairs = zip(rows.tolist(), scores.tolist(), strict=True)
            found = [(vectors.vocab.word(r), s) for r, s in pairs if r >= 0]
        else:
            found = vectors.most_similar(positive, negative, topn=k, restrict_vocab=restrict)
        return _json({"results": [{"word": w, "score": s} for w, s in found], "exact": exact})

    @app.post("/v1/similarity")
    def similarity(request: Annotated[PairsRequest, Body()]) -> Any:
        pairs = _batch(request.pairs, limits, "pairs")
        words = _words([w for pair in pairs for w in pair], limits, "pairs")
        found, _, has_vector = served.word_vectors(words)
        norms = np.linalg.norm(found, axis=1)
        left, right = found[0::2], found[1::2]
        both = has_vector[0::2] & has_vector[1::2] & (norms[0::2] > 0) & (norms[1::2] > 0)
        cosines = np.einsum("ij,ij->i", left, right) / np.where(
            both, norms[0::2] * norms[1::2], 1.0
        )
        found = [float(c) if ok else None for c, ok in zip(cosines, both, strict=True)]
        return _json({"similarities": found})

    @app.post("/v1/analogy")
    def analogy(request: Annotated[AnalogyRequest, Body()]) -> Any:
        k = _k(request.k, limits, len(served.vectors))
        a, b, c = _known(served, [request.a, request.b, request.c], limits, "analogy")
        found = served.vectors.analogy(a, b, c, topn=k, method=request.method)
        return _json({"results": [{"word": w, "score": s} for w, s in found]})

    @app.post("/v1/embed")
    def embed(request: Annotated[SentencesRequest, Body()]) -> Any:
        sentences = _texts(request.sentences, limits, "sentences")
        found, empty = served.embed(sentences)
        return _json({"vectors": found, "empty": empty})

    @app.post("/v1/predict")
    def predict(request: Annotated[PredictRequest, Body()]) -> Any:
        if served.predictor is None:
            raise RequestError(
                404, f"/v1/predict needs a classifier; this model is a {served.kind} model"
            )
        texts = _texts(request.texts, limits, "texts")
        k = _k(request.k, limits, len(served.predictor.label_names))
        if not 0.0 <= request.threshold <= 1.0:
            raise RequestError(422, f"threshold must be between 0 and 1, got {request.threshold}")
        return _json({"predictions": served.predict(texts, k, request.threshold)})

    @app.get("/", include_in_schema=False)
    def explorer() -> FileResponse:
        return FileResponse(EXPLORER / "index.html")

    app.mount("/explorer", StaticFiles(directory=EXPLORER), name="explorer")
    return app


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONBytes:
        detail = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        first = detail[0] if detail else {"loc": [], "msg": "invalid request", "type": ""}
        where = ".".join(str(part) for part in first["loc"][1:]) or "body"
        message = f"{where}: {first['msg']}"
        if first["type"] == "json_invalid":
            message = f"the body is not valid JSON (at character {where})"
        elif "json" not in request.headers.get("content-type", ""):
            message = "send the body as JSON, with Content-Type: application/json"
        return _error(422, message, detail=detail)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONBytes:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestError)
    async def request_error(request: Request, exc: RequestError) -> JSONBytes:
        return _error(exc.status, exc.message)

    @app.exception_handler(KeyError)
    async def unknown_word(request: Request, exc: KeyError) -> JSONBytes:
        return _error(404, str(exc.args[0]) if exc.args else "not found")

    @app.exception_handler(WordspaceError)
    async def refused(request: Request, exc: WordspaceError) -> JSONBytes:
        return _error(422, str(exc))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONBytes:
        return _error(500, f"internal error ({type(exc).__name__})")


def _batch(items: list, limits: Limits, name: str) -> list:
    """``items``, refused when empty or over the batch limit."""
    if not items:
        raise RequestError(422, f"{name} is empty")
    if len(items) > limits.max_batch:
        raise RequestError(
            422, f"at most {limits.max_batch:,} {name} per request, got {len(items):,}"
        )
    return items


def _words(words: list[str], limits: Limits, name: str) -> list[str]:
    """``words``, each refused when it cannot be a word (empty, too long, with blanks)."""
    for word in words:
        if not word or len(word) > limits.max_text_chars or any(c.isspace() for c in word):
            shown = word[:40]
            raise RequestError(
                422, f"{name}: {shown!r} is not a word (empty, too long or holding whitespace)"
            )
    return words


def _texts(texts: list[str], limits: Limits, name: str) -> list[str]:
    texts = _batch(texts, limits, name)
    for i, text in enumerate(texts):
        if len(text) > limits.max_text_chars:
            raise RequestError(
                422, f"{name}[{i}] holds {len(text):,} characters, over {limits.max_text_chars:,}"
            )
    return [text.replace("\r", " ").replace("\n", " ") for text in texts]


def _k(k: int, limits: Limits, most: int) -> int:
    if k < 1 or k > limits.max_k:
        raise RequestError(422, f"k must be between 1 and {limits.max_k}, got {k}")
    return min(k, max(most, 1))


def _vector(values: list[float], dim: int) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    if len(vector) != dim:
        raise RequestError(422, f"vector has {len(vector)} values; the model's dimension is {dim}")
    if not np.isfinite(vector).all():
        raise RequestError(422, "vector holds NaN or infinity")
    if not vector.any():
        raise RequestError(422, "vector is all zeros")
    return vector


def _known(served: ServedModel, words: list[str], limits: Limits, name: str) -> list:
    """The words, each checked to have a vector (404 naming the first that has none)."""
    if not words:
        return []
    _, _, has_vector = served.word_vectors(_words(words, limits, name))
    missing = [w for w, ok in zip(words, has_vector, strict=True) if not ok]
    if missing:
        raise RequestError(404, f"word {missing[0]!r} has no vector in this model")
    return list(words)


def app_from_environment() -> FastAPI:
    """The app of a worker started by ``wordspace serve`` (model and limits from the
    environment it set)."""
    limits = Limits(**{
        name: int(value)
        for name, value in (
            item.split("=", 1) for item in os.environ.get(LIMITS_ENV, "").split(",") if item
        )
    })  # fmt: skip
    preload = os.environ.get("WORDSPACE_SERVE_PRELOAD") == "1"
    return create_app(os.environ[MODEL_ENV], limits, preload=preload)
