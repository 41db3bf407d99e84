"""Explicit 16-wide vector code for the loss block's row updates, as a numba intrinsic.

LLVM's auto-vectorised version of these loops spends as much time per tile on set-up (runtime
checks that the destination and source rows do not overlap, loop versioning) as on the
multiply-adds, and partial tiles at a block's edges run several times slower per multiply-add
than full ones. Written directly as LLVM IR on ``<16 x float>`` values, one tile is a single
loop of loads, fused multiply-adds and stores, and every tile shape costs the same code.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

LANES = 16
"""Floats per vector; training rows are padded to a multiple of this (``ROW_ALIGNMENT``)."""

_FLOAT = ir.FloatType()
_VECTOR = ir.VectorType(_FLOAT, LANES)
_I64 = ir.IntType(64)


def _splat(builder: ir.IRBuilder, value: ir.Value) -> ir.Value:
    first = builder.insert_element(ir.Constant(_VECTOR, ir.Undefined), value, ir.IntType(32)(0))
    zeros = ir.Constant(ir.VectorType(ir.IntType(32), LANES), [0] * LANES)
    return builder.shuffle_vector(first, ir.Constant(_VECTOR, ir.Undefined), zeros)


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
    arrays_ok = all(
        isinstance(a, types.Array) and a.ndim == 2 and a.dtype == types.float32 and a.layout == "C"
        for a in (dst, src, coef)
    )
    if not arrays_ok:
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

        def clamped(first, count, j):
            return builder.add(
                first,
                builder.select(
                    builder.icmp_signed("<", _I64(j), count), _I64(j), builder.sub(count, _I64(1))
                ),
            )

        def row(array, index):
            return builder.gep(array.data, [builder.mul(index, width)])

        dst_rows = [row(dst_arr, clamped(first_d, count_d, a)) for a in range(4)]
        src_rows = [row(src_arr, clamped(first_s, count_s, b)) for b in range(4)]
        weights = {}
        for a in range(4):
            da = clamped(first_d, count_d, a)
            for b in range(4):
                sb = clamped(first_s, count_s, b)
                plain = builder.add(builder.mul(da, coef_width), sb)
                swapped = builder.add(builder.mul(sb, coef_width), da)
                value = builder.load(
                    builder.gep(coef_arr.data, [builder.select(flipped, swapped, plain)])
                )
                real = builder.icmp_signed("<", _I64(b), count_s)
                weights[a, b] = _splat(builder, builder.select(real, value, _FLOAT(0.0)))
        fma = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_VECTOR, [_VECTOR] * 3), "llvm.fma.v16f32"
        )
        after = builder.append_basic_block("tile.end")
        switch = builder.switch(count_d, after)
        for rows_d in range(1, 5):
            case = builder.append_basic_block(f"tile.rows{rows_d}")
            switch.add_case(_I64(rows_d), case)
            builder.position_at_end(case)
            with cgutils.for_range_slice(builder, _I64(0), width, _I64(LANES)) as (k, _):
                xs = [
                    builder.load(
                        builder.bitcast(builder.gep(p, [k]), _VECTOR.as_pointer()), align=4
                    )
                    for p in src_rows
                ]
                for a in range(rows_d):
                    target = builder.bitcast(builder.gep(dst_rows[a], [k]), _VECTOR.as_pointer())
                    acc = builder.load(target, align=4)
                    for b in range(4):
                        acc = builder.call(fma, [weights[a, b], xs[b], acc])
                    builder.store(acc, target, align=4)
            builder.branch(after)
        builder.position_at_end(after)
        return context.get_dummy_value()

    return signature, codegen
