"""numpy arrays as one MessagePack extension, for the msgspec and msgpack-python codecs of the benchmark.

Neither library writes arrays by itself; what their users do is an extension type whose payload is
the dtype, the shape and the raw bytes, read back with ``numpy.frombuffer``. Both codecs use this one
payload, so they carry the same bytes as noobwire's array extension does.

Payload: one byte, the length ``n`` of the header; the header, ``"<dtype.str> <dim>,<dim>,..."`` in
ASCII; the array's bytes in C order.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ARRAY_EXT_CODE", "array_from_payload", "array_payload", "is_array"]

ARRAY_EXT_CODE = 1
"""The extension code the benchmark's msgspec and msgpack-python codecs give arrays."""


def is_array(obj: Any) -> bool:
    """Whether ``obj`` is a numpy array (without importing numpy when it is not loaded)."""
    return type(obj).__name__ == "ndarray" and type(obj).__module__ == "numpy"


def array_payload(array: Any) -> bytes:
    """The extension payload of a numpy array (its bytes in C order, after a short header)."""
    import numpy as np

    array = np.require(array, requirements="C")  # a copy only if not C-contiguous; keeps 0-d arrays 0-d
    header = f"{array.dtype.str} {','.join(map(str, array.shape))}".encode("ascii")
    return b"".join((bytes((len(header),)), header, array.reshape(-1).view(np.uint8)))


def array_from_payload(data: Any) -> Any:
    """The array of an extension payload: a read-only view over ``data``, not a copy."""
    import numpy as np

    view = memoryview(data)
    size = view[0]
    dtype, _, dims = bytes(view[1 : 1 + size]).decode("ascii").partition(" ")
    shape = tuple(int(dim) for dim in dims.split(",")) if dims else ()
    return np.frombuffer(view[1 + size :], dtype=dtype).reshape(shape)
