"""Software prefetch of matrix rows, so that the rows the next example needs are on their way
from memory while the current one computes."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_CACHE_LINE = 64


def _prefetch(builder: ir.IRBuilder, byte_pointer: ir.Value) -> None:
    """Emit LLVM's prefetch of the cache line at ``byte_pointer``: a read, kept in every
    cache level, of data."""
    i32 = ir.IntType(32)
    prefetch = builder.module.declare_intrinsic(
        "llvm.prefetch", fnty=ir.FunctionType(ir.VoidType(), [byte_pointer.type, i32, i32, i32])
    )
    builder.call(prefetch, [byte_pointer, i32(0), i32(3), i32(1)])


@intrinsic
def prefetch_row(typingctx, matrix, row):
    """Ask the CPU to start loading row ``row`` of a C-contiguous 2-D array into cache."""
    if not (isinstance(matrix, types.Array) and matrix.ndim == 2):
        return None

    def codegen(context, builder, signature, args):
        matrix_type, row_type = signature.args
        array = context.make_array(matrix_type)(context, builder, args[0])
        row_index = context.cast(builder, args[1], row_type, types.intp)
        zero = context.get_constant(types.intp, 0)
        start = cgutils.get_item_pointer(
            context, builder, matrix_type, array, [row_index, zero], wraparound=False
        )
        byte_pointer = builder.bitcast(start, ir.IntType(8).as_pointer())
        shape = cgutils.unpack_tuple(builder, array.shape, 2)
        item_bytes = context.get_abi_sizeof(context.get_data_type(matrix_type.dtype))
        item_size = context.get_constant(types.intp, item_bytes)
        row_bytes = builder.mul(shape[1], item_size)
        with cgutils.for_range_slice(
            builder, zero, row_bytes, context.get_constant(types.intp, _CACHE_LINE)
        ) as (offset, _):
            _prefetch(builder, builder.gep(byte_pointer, [offset]))
        return context.get_dummy_value()

    return types.none(matrix, row), codegen


@intrinsic
def prefetch_item(typingctx, array, index):
    """Ask the CPU to start loading the cache line of ``array[index]`` (a 1-D array): a
    hash-table slot or a map entry that a later step reads."""
    if not (isinstance(array, types.Array) and array.ndim == 1):
        return None

    def codegen(context, builder, signature, args):
        array_type, index_type = signature.args
        values = context.make_array(array_type)(context, builder, args[0])
        position = context.cast(builder, args[1], index_type, types.intp)
        item = cgutils.get_item_pointer(
            context, builder, array_type, values, [position], wraparound=False
        )
        _prefetch(builder, builder.bitcast(item, ir.IntType(8).as_pointer()))
        return context.get_dummy_value()

    return types.none(array, index), codegen
