"""Explicit 16-wide vector code for the loss block's tiles, as numba intrinsics.

The loss block is small dense algebra on rows of a few hundred floats: dot products of up to
ten hidden rows with up to forty output rows, and the two rank updates that follow. LLVM's
auto-vectorised loops spend about as much time per 4 x 4 tile on set-up (runtime checks that
destination and source rows do not overlap, loop versioning) as on the multiply-adds, run the
partial tiles at a block's edges several times slower per multiply-add, and end every dot
product with its own horizontal sum. Written directly as LLVM IR on ``<16 x float>`` values,
a tile is one loop of loads and fused multiply-adds, partial tiles reuse it, and the sixteen
dot products of a tile share one transpose-and-add reduction.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

LANES = 16
"""Floats per vector; training rows are padded to a multiple of this (``ROW_ALIGNMENT``)."""

_FLOAT = ir.FloatType()
_VECTOR = ir.VectorType(_FLOAT, LANES)
_I64 = ir.IntType(64)


def _float32_matrices(*array_types: types.Type) -> bool:
    return all(
        isinstance(a, types.Array) and a.ndim == 2 and a.dtype == types.float32 and a.layout == "C"
        for a in array_types
    )


def _splat(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
    first = builder.insert_element(ir.Constant(_VECTOR, ir.Undefined), value, ir.IntType(32)(0))
    zeros = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
    return builder.shuffle_vector(first, ir.Constant(_VECTOR, ir.Undefined), zeros)


def _clamped(builder: ir.IRBuilder, first: ir.Value, count: ir.Value, j: int) -> ir.Value:
    """Row ``first + j``, or the last real row ``first + count - 1`` when j is past it."""
    inside = builder.icmp_signed("<", _I64(j), count)
    return builder.add(first, builder.select(inside, _I64(j), builder.sub(count, _I64(1))))


def _row(
    builder: ir.IRBuilder, array: Any, first: ir.Value, count: ir.Value, j: int, width: ir.Value
) -> ir.Value:
    """Pointer to the start of tile row j of ``array`` (a numba array structure), clamped to
    the tile's real rows."""
    return builder.gep(array.data, [builder.mul(_clamped(builder, first, count, j), width)])


def _fma(builder: ir.IRBuilder) -> ir.Function:
    function_type = ir.FunctionType(_VECTOR, [_VECTOR] * 3)
    return cgutils.get_or_insert_function(builder.module, function_type, "llvm.fma.v16f32")


def _vector_at(builder: ir.IRBuilder, row: ir.Value, k: ir.Value) -> ir.Value:
    return builder.bitcast(builder.gep(row, [k]), _VECTOR.as_pointer())


@intrinsic
def add_tile(typingctx, dst, d, n_d, src, s, n_s, coef, transposed):
    """``dst[d + a] += sum over b < n_s of weight(a, b) * src[s + b]`` for ``a < n_d``.

    ``n_d`` and ``n_s`` are 1 to 4; the weight is ``coef[d + a, s + b]``, or
    ``coef[s + b, d + a]`` when ``transposed``. All three arrays are C-contiguous float32;
    ``dst`` and ``src`` have the same row width, a multiple of ``LANES`` (the caller checks).
    Source rows past ``n_s`` are read as the last real one with weight zero.
    """
    if not _float32_matrices(dst, src, coef):
        return None
    signature = types.none(dst, d, n_d, src, s, n_s, coef, transposed)

    def codegen(context, builder, sig, args):
        dst_ty, d_ty, nd_ty, src_ty, s_ty, ns_ty, coef_ty, tr_ty = sig.args
        dst_arr = context.make_array(dst_ty)(context, builder, args[0])
        src_arr = context.make_array(src_ty)(context, builder, args[3])
        coef_arr = context.make_array(coef_ty)(context, builder, args[6])
        first_d = context.cast(builder, args[1], d_ty, types.intp)
        count_d = context.cast(builder, args[2], nd_ty, types.intp)
        first_s = context.cast(builder, args[4], s_ty, types.intp)
        count_s = context.cast(builder, args[5], ns_ty, types.intp)
        flipped = context.cast(builder, args[7], tr_ty, types.boolean)
        width = cgutils.unpack_tuple(builder, dst_arr.shape, 2)[1]
        coef_width = cgutils.unpack_tuple(builder, coef_arr.shape, 2)[1]

        dst_rows = [_row(builder, dst_arr, first_d, count_d, a, width) for a in range(4)]
        src_rows = [_row(builder, src_arr, first_s, count_s, b, width) for b in range(4)]
        weights = {}
        for a in range(4):
            da = _clamped(builder, first_d, count_d, a)
            for b in range(4):
                sb = _clamped(builder, first_s, count_s, b)
                plain = builder.add(builder.mul(da, coef_width), sb)
                swapped = builder.add(builder.mul(sb, coef_width), da)
                index = builder.select(flipped, swapped, plain)
                value = builder.load(builder.gep(coef_arr.data, [index]))
                real = builder.icmp_signed("<", _I64(b), count_s)
                weights[a, b] = _splat(builder, builder.select(real, value, _FLOAT(0.0)))
        fma = _fma(builder)
        after = builder.append_basic_block("tile.end")
        switch = builder.switch(count_d, after)
        for rows_d in range(1, 5):
            case = builder.append_basic_block(f"tile.rows{rows_d}")
            switch.add_case(_I64(rows_d), case)
            builder.position_at_end(case)
            with cgutils.for_range_slice(builder, _I64(0), width, _I64(LANES)) as (k, _):
                xs = [builder.load(_vector_at(builder, p, k), align=4) for p in src_rows]
                for a in range(rows_d):
                    target = _vector_at(builder, dst_rows[a], k)
                    acc = builder.load(target, align=4)
                    for b in range(4):
                        acc = builder.call(fma, [weights[a, b], xs[b], acc])
                    builder.store(acc, target, align=4)
            builder.branch(after)
        builder.position_at_end(after)
        return context.get_dummy_value()

    return signature, codegen


def _sum_lanes(builder: ir.IRBuilder, vectors: list[ir.Value]) -> ir.Value:
    """One vector whose lane j is the sum of the lanes of ``vectors[j]`` (16 vectors): a
    transpose-and-add tree, 15 shuffle pairs instead of 16 separate horizontal sums."""
    half = LANES // 2
    while len(vectors) > 1:
        pairs = []
        for a, b in zip(vectors[0::2], vectors[1::2], strict=True):
            low = [
                base + group * 2 * half + m
                for base in (0, LANES)
                for group in range(LANES // (2 * half))
                for m in range(half)
            ]
            high = [i + half for i in low]
            index_type = ir.VectorType(ir.IntType(32), LANES)
            first = builder.shuffle_vector(a, b, ir.Constant(index_type, low))
            second = builder.shuffle_vector(a, b, ir.Constant(index_type, high))
            pairs.append(builder.fadd(first, second))
        vectors = pairs
        half //= 2
    return vectors[0]


@intrinsic
def dot_tile(typingctx, left, i, n_i, right, t, n_t, out):
    """``out[i + a, t + b] = left[i + a] . right[t + b]`` for ``a < n_i``, ``b < n_t``.

    ``n_i`` and ``n_t`` are 1 to 4; ``left`` and ``right`` are C-contiguous float32 with the
    same row width, a multiple of ``LANES``. Up to sixteen running sums share each loaded row,
    and one reduction tree ends them all.
    """
    if not _float32_matrices(left, right, out):
        return None
    signature = types.none(left, i, n_i, right, t, n_t, out)

    def codegen(context, builder, sig, args):
        left_ty, i_ty, ni_ty, right_ty, t_ty, nt_ty, out_ty = sig.args
        left_arr = context.make_array(left_ty)(context, builder, args[0])
        right_arr = context.make_array(right_ty)(context, builder, args[3])
        out_arr = context.make_array(out_ty)(context, builder, args[6])
        first_i = context.cast(builder, args[1], i_ty, types.intp)
        count_i = context.cast(builder, args[2], ni_ty, types.intp)
        first_t = context.cast(builder, args[4], t_ty, types.intp)
        count_t = context.cast(builder, args[5], nt_ty, types.intp)
        width = cgutils.unpack_tuple(builder, left_arr.shape, 2)[1]
        out_width = cgutils.unpack_tuple(builder, out_arr.shape, 2)[1]
        left_rows = [_row(builder, left_arr, first_i, count_i, a, width) for a in range(4)]
        right_rows = [_row(builder, right_arr, first_t, count_t, b, width) for b in range(4)]
        zero = ir.Constant(_VECTOR, [0.0] * LANES)
        sums = cgutils.alloca_once(builder, _VECTOR, size=16)
        for j in range(16):
            builder.store(zero, builder.gep(sums, [_I64(j)]))
        fma = _fma(builder)
        after = builder.append_basic_block("dot.end")
        switch = builder.switch(count_i, after)
        for rows_i in range(1, 5):
            case = builder.append_basic_block(f"dot.rows{rows_i}")
            switch.add_case(_I64(rows_i), case)
            builder.position_at_end(case)
            with cgutils.for_range_slice(builder, _I64(0), width, _I64(LANES)) as (k, _):
                ls = [builder.load(_vector_at(builder, p, k), align=4) for p in left_rows[:rows_i]]
                rs = [builder.load(_vector_at(builder, p, k), align=4) for p in right_rows]
                for a in range(rows_i):
                    for b in range(4):
                        slot = builder.gep(sums, [_I64(4 * a + b)])
                        builder.store(builder.call(fma, [ls[a], rs[b], builder.load(slot)]), slot)
            builder.branch(after)
        builder.position_at_end(after)
        totals = _sum_lanes(
            builder, [builder.load(builder.gep(sums, [_I64(j)])) for j in range(16)]
        )
        for a in range(4):
            for b in range(4):
                inside = builder.and_(
                    builder.icmp_signed("<", _I64(a), count_i),
                    builder.icmp_signed("<", _I64(b), count_t),
                )
                with builder.if_then(inside):
                    row = builder.add(first_i, _I64(a))
                    col = builder.add(first_t, _I64(b))
                    target = builder.gep(
                        out_arr.data, [builder.add(builder.mul(row, out_width), col)]
                    )
                    builder.store(
                        builder.extract_element(totals, ir.IntType(32)(4 * a + b)), target
                    )
        return context.get_dummy_value()

    return signature, codegen
