"""Borrowed views of named structures, whose fields hot loops read for free.

numba reference-counts every array it takes out of a tuple: ``block.bag_rows`` in a loop is
an atomic increment and decrement of the array's memory record each time, and the pair cannot
be hoisted out of the loop. Measured on skip-gram, the step's dozens of field reads per centre
word cost a quarter of the training speed. :func:`borrowed` returns the same structure with
every array's memory record left out (as an array made by ``numba.carray`` has none), so
reading a field is a plain load; the arrays stay owned by the structure it was made from,
which the caller must keep alive (:func:`keep_alive`) for as long as the view is used.

The rules, which ``tests/test_structure.py`` checks in every kernel: borrow a named local
or an argument (the caller holds an argument for the whole call), never a temporary; call
``keep_alive(owner)`` after the view's last use (numba frees a local after its own last use,
which may come before the loops that read the view); never borrow inside an
``inline="always"`` function (its arguments are the caller's locals); never return a view.
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _array_fields(struct: types.Type) -> bool:
    return isinstance(struct, types.BaseTuple) and any(
        isinstance(t, types.Array) for t in struct.types
    )


@intrinsic
def borrowed(typingctx, struct):
    """``struct`` (a tuple or named tuple) with its arrays as views that own nothing."""
    if not _array_fields(struct):
        return None
    if any(_array_fields(field) for field in struct.types):
        # a nested tuple's arrays would keep their memory records, which the view would then
        # release once more than it took: a double free
        raise TypeError("borrowed() takes a structure whose arrays are its own fields, not nested")

    def codegen(context, builder, signature, args):
        value = args[0]
        for i, field in enumerate(signature.args[0].types):
            if not isinstance(field, types.Array):
                continue
            array = context.make_array(field)(context, builder, builder.extract_value(value, i))
            array.meminfo = cgutils.get_null_value(array.meminfo.type)
            array.parent = cgutils.get_null_value(array.parent.type)
            value = builder.insert_value(value, array._getvalue(), i)
        return value

    return struct(struct), codegen


@intrinsic
def keep_alive(typingctx, owner):
    """Does nothing; a call is a use of ``owner``, so numba keeps it (and the arrays its
    borrowed views read) alive until this point."""

    def codegen(context, builder, signature, args):
        return context.get_dummy_value()

    return types.none(owner), codegen
