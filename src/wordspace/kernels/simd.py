"""Explicit 16-wide vector code for the loss block's tiles, as numba intrinsics.

The loss block is small dense algebra on rows of a few hundred floats: dot products of up to
ten hidden rows with up to forty output rows, and the two rank updates that follow. LLVM's
auto-vectorised loops spend about as much time per 4 x 4 tile on set-up (runtime checks that
destination and source rows do not overlap, loop versioning) as on the multiply-adds, run the
partial tiles at a block's edges several times slower per multiply-add, and end every dot
product with its own horizontal sum. Written directly as LLVM IR on ``<16 x float>`` values,
a tile is one loop of loads and fused multiply-adds, partial tiles reuse it, and the sixteen
dot products of a tile share one transpose-and-add reduction.

Tiles address their rows through tables of row addresses (``row_addresses``), so they read
and update rows where they live (a context word's input row, a tree node's output row, a
worker's private copy of a hot row) instead of copies gathered into a buffer and written
back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

LANES = 16
"""Floats per vector; training rows are padded to a multiple of this (``ROW_ALIGNMENT``)."""

_FLOAT = ir.FloatType()
_VECTOR = ir.VectorType(_FLOAT, LANES)
_I64 = ir.IntType(64)


def _float32_matrix(array_type: types.Type) -> bool:
    return (
        isinstance(array_type, types.Array)
        and array_type.ndim == 2
        and array_type.dtype == types.float32
        and array_type.layout == "C"
    )


def _address_tables(*array_types: types.Type) -> bool:
    return all(
        isinstance(a, types.Array) and a.ndim == 1 and a.dtype == types.int64 for a in array_types
    )


@njit(nogil=True, cache=True, inline="always")
def row_addresses(matrix, rows, n, first_private, private, addresses):
    """Write the address of row ``rows[j]`` of ``matrix`` into ``addresses[j]``, ``j < n``;
    rows at or above ``first_private`` are taken from ``private`` (a worker's copy of the
    matrix's last rows) instead.

    The addresses are valid while both arrays live; every row index must be in range.
    """
    base = matrix.ctypes.data
    private_base = private.ctypes.data
    stride = matrix.strides[0]
    for j in range(n):
        r = rows[j]
        if r >= first_private:
            addresses[j] = private_base + (r - first_private) * stride
        else:
            addresses[j] = base + r * stride


@njit(nogil=True, cache=True, inline="always")
def all_row_addresses(matrix, addresses):
    """Write the address of every row of ``matrix`` into ``addresses``."""
    base = matrix.ctypes.data
    for j in range(matrix.shape[0]):
        addresses[j] = base + j * matrix.strides[0]


def _splat(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
    first = builder.insert_element(ir.Constant(_VECTOR, ir.Undefined), value, ir.IntType(32)(0))
    zeros = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
    return builder.shuffle_vector(first, ir.Constant(_VECTOR, ir.Undefined), zeros)


def _clamped(builder: ir.IRBuilder, first: ir.Value, count: ir.Value, j: int) -> ir.Value:
    """Row ``first + j``, or the last real row ``first + count - 1`` when j is past it."""
    inside = builder.icmp_signed("<", _I64(j), count)
    return builder.add(first, builder.select(inside, _I64(j), builder.sub(count, _I64(1))))


def _row(
    builder: ir.IRBuilder, addresses: Any, first: ir.Value, count: ir.Value, j: int
) -> ir.Value:
    """Pointer to tile row j, read from ``addresses`` (a numba array structure of row
    addresses) and clamped to the tile's real rows."""
    address = builder.load(builder.gep(addresses.data, [_clamped(builder, first, count, j)]))
    return builder.inttoptr(address, _FLOAT.as_pointer())


def _fma(builder: ir.IRBuilder) -> ir.Function:
    function_type = ir.FunctionType(_VECTOR, [_VECTOR] * 3)
    return cgutils.get_or_insert_function(builder.module, function_type, "llvm.fma.v16f32")


def _vector_at(builder: ir.IRBuilder, row: ir.Value, k: ir.Value) -> ir.Value:
    return builder.bitcast(builder.gep(row, [k]), _VECTOR.as_pointer())


class _TileOperands(NamedTuple):
    """The arguments both tiles take, unpacked: two row blocks (first entry, row count, and
    the four clamped row pointers) from two address tables, a matrix, and the row width."""

    first_a: ir.Value
    count_a: ir.Value
    rows_a: list[ir.Value]
    first_b: ir.Value
    count_b: ir.Value
    rows_b: list[ir.Value]
    third: Any
    third_width: ir.Value
    width: ir.Value


def _tile_operands(context: Any, builder: ir.IRBuilder, sig: Any, args: Any) -> _TileOperands:
    """Unpack (addresses a, first a, count a, addresses b, first b, count b, matrix, width,
    ...)."""
    tys = sig.args
    a_arr = context.make_array(tys[0])(context, builder, args[0])
    b_arr = context.make_array(tys[3])(context, builder, args[3])
    third = context.make_array(tys[6])(context, builder, args[6])
    first_a, count_a, first_b, count_b, width = (
        context.cast(builder, args[j], tys[j], types.intp) for j in (1, 2, 4, 5, 7)
    )
    return _TileOperands(
        first_a,
        count_a,
        [_row(builder, a_arr, first_a, count_a, j) for j in range(4)],
        first_b,
        count_b,
        [_row(builder, b_arr, first_b, count_b, j) for j in range(4)],
        third,
        cgutils.unpack_tuple(builder, third.shape, 2)[1],
        width,
    )


def _vector_loop_per_counts(
    builder: ir.IRBuilder,
    count_a: ir.Value,
    count_b: ir.Value,
    width: ir.Value,
    name: str,
    body: Callable[[int, int, ir.Value], None],
) -> None:
    """Emit, for each pair of row counts 1 to 4, a loop over the row width in vector steps
    whose body ``body(rows_a, rows_b, k)`` handles that many rows at column k, and branch to
    the one for (``count_a``, ``count_b``): both counts are fixed inside each loop, so it
    compiles to straight-line vector code that does no work for rows a partial tile lacks."""
    after = builder.append_basic_block(f"{name}.end")
    case_index = builder.add(builder.mul(count_a, _I64(8)), count_b)
    switch = builder.switch(case_index, after)
    for rows_a in range(1, 5):
        for rows_b in range(1, 5):
            case = builder.append_basic_block(f"{name}.rows{rows_a}x{rows_b}")
            switch.add_case(_I64(8 * rows_a + rows_b), case)
            builder.position_at_end(case)
            with cgutils.for_range_slice(builder, _I64(0), width, _I64(LANES)) as (k, _):
                body(rows_a, rows_b, k)
            builder.branch(after)
    builder.position_at_end(after)


@intrinsic
def add_tile(typingctx, dst, d, n_d, src, s, n_s, coef, width, transposed):
    """``row dst[d + a] += sum over b < n_s of weight(a, b) * row src[s + b]`` for ``a < n_d``.

    ``dst`` and ``src`` are int64 tables of row addresses (float32 rows of ``width`` floats,
    a multiple of ``LANES``; the caller checks); ``n_d`` and ``n_s`` are 1 to 4; the weight
    is ``coef[d + a, s + b]``, or ``coef[s + b, d + a]`` when ``transposed`` (``coef`` a
    C-contiguous float32 matrix). Only the real rows are read and multiplied: a partial tile
    costs in proportion to its size. Destination rows are updated one after another, so a
    row listed twice gets both updates.
    """
    if not (_address_tables(dst, src) and _float32_matrix(coef)):
        return None
    signature = types.none(dst, d, n_d, src, s, n_s, coef, width, transposed)

    def codegen(context, builder, sig, args):
        tile = _tile_operands(context, builder, sig, args)
        flipped = context.cast(builder, args[8], sig.args[8], types.boolean)
        weights = {}
        for a in range(4):
            da = _clamped(builder, tile.first_a, tile.count_a, a)
            for b in range(4):
                sb = _clamped(builder, tile.first_b, tile.count_b, b)
                plain = builder.add(builder.mul(da, tile.third_width), sb)
                swapped = builder.add(builder.mul(sb, tile.third_width), da)
                index = builder.select(flipped, swapped, plain)
                value = builder.load(builder.gep(tile.third.data, [index]))
                weights[a, b] = _splat(builder, value)
        fma = _fma(builder)

        def update_rows(rows_a, rows_b, k):
            xs = [builder.load(_vector_at(builder, p, k), align=4) for p in tile.rows_b[:rows_b]]
            for a in range(rows_a):
                target = _vector_at(builder, tile.rows_a[a], k)
                acc = builder.load(target, align=4)
                for b in range(rows_b):
                    acc = builder.call(fma, [weights[a, b], xs[b], acc])
                builder.store(acc, target, align=4)

        _vector_loop_per_counts(
            builder, tile.count_a, tile.count_b, tile.width, "tile", update_rows
        )
        return context.get_dummy_value()

    return signature, codegen


def _sum_lanes(builder: ir.IRBuilder, vectors: list[ir.Value]) -> ir.Value:
    """One vector whose lane j is the sum of the lanes of ``vectors[j]`` (16 vectors): a
    transpose-and-add tree, 15 shuffle pairs instead of 16 separate horizontal sums."""
    half = LANES // 2
    index_type = ir.VectorType(ir.IntType(32), LANES)
    while len(vectors) > 1:
        low = [
            base + group * 2 * half + m
            for base in (0, LANES)
            for group in range(LANES // (2 * half))
            for m in range(half)
        ]
        low_lanes = ir.Constant(index_type, low)
        high_lanes = ir.Constant(index_type, [i + half for i in low])
        vectors = [
            builder.fadd(
                builder.shuffle_vector(a, b, low_lanes), builder.shuffle_vector(a, b, high_lanes)
            )
            for a, b in zip(vectors[0::2], vectors[1::2], strict=True)
        ]
        half //= 2
    return vectors[0]


@intrinsic
def dot_tile(typingctx, left, i, n_i, right, t, n_t, out, width):
    """``out[i + a, t + b] = row left[i + a] . row right[t + b]`` for ``a < n_i``, ``b < n_t``.

    ``left`` and ``right`` are int64 tables of row addresses (float32 rows of ``width``
    floats, a multiple of ``LANES``); ``n_i`` and ``n_t`` are 1 to 4; ``out`` is a
    C-contiguous float32 matrix. Up to sixteen running sums share each loaded row, and one
    reduction tree ends them all.
    """
    if not (_address_tables(left, right) and _float32_matrix(out)):
        return None
    signature = types.none(left, i, n_i, right, t, n_t, out, width)

    def codegen(context, builder, sig, args):
        tile = _tile_operands(context, builder, sig, args)
        zero = ir.Constant(_VECTOR, [0.0] * LANES)
        sums = cgutils.alloca_once(builder, _VECTOR, size=16)
        for j in range(16):
            builder.store(zero, builder.gep(sums, [_I64(j)]))
        fma = _fma(builder)

        def accumulate(rows_a, rows_b, k):
            ls = [builder.load(_vector_at(builder, p, k), align=4) for p in tile.rows_a[:rows_a]]
            rs = [builder.load(_vector_at(builder, p, k), align=4) for p in tile.rows_b[:rows_b]]
            for a in range(rows_a):
                for b in range(rows_b):
                    slot = builder.gep(sums, [_I64(4 * a + b)])
                    builder.store(builder.call(fma, [ls[a], rs[b], builder.load(slot)]), slot)

        _vector_loop_per_counts(builder, tile.count_a, tile.count_b, tile.width, "dot", accumulate)
        totals = _sum_lanes(
            builder, [builder.load(builder.gep(sums, [_I64(j)])) for j in range(16)]
        )
        for a in range(4):
            for b in range(4):
                inside = builder.and_(
                    builder.icmp_signed("<", _I64(a), tile.count_a),
                    builder.icmp_signed("<", _I64(b), tile.count_b),
                )
                with builder.if_then(inside):
                    row = builder.add(tile.first_a, _I64(a))
                    col = builder.add(tile.first_b, _I64(b))
                    offset = builder.add(builder.mul(row, tile.third_width), col)
                    target = builder.gep(tile.third.data, [offset])
                    lane = ir.IntType(32)(4 * a + b)
                    builder.store(builder.extract_element(totals, lane), target)
        return context.get_dummy_value()

    return signature, codegen
