# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled backend: wire format v1 for ``EventMsg`` and ``ProcessMsg``, written and read in C.

It is the twin of ``_pure``: the same functions, the same bytes, the same rejections. The hot messages
are written straight into one growing ``bytes`` and read straight into the mirror's instances; the rare
value kinds (big ints, offset datetimes, arrays, pickles, exception classes) call back into ``values``,
and control messages are checked by the shared schema code. Whenever this backend refuses a message or
a frame, the pure backend is asked to explain why, so that both raise the same error.
"""

from libc.stdint cimport INT64_MAX, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcmp, memcpy, strcmp

from cpython.datetime cimport (
    PyDateTime_DATE_GET_HOUR,
    PyDateTime_DATE_GET_MICROSECOND,
    PyDateTime_DATE_GET_MINUTE,
    PyDateTime_DATE_GET_SECOND,
    PyDateTime_GET_DAY,
    PyDateTime_GET_MONTH,
    PyDateTime_GET_YEAR,
    datetime_new,
    datetime_tzinfo,
    import_datetime,
)
from cpython.object cimport PyObject, PyTypeObject
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.ref cimport Py_DECREF, Py_INCREF

import sys
from datetime import UTC, datetime

from msgpack import ExtType, Timestamp
from pydantic import BaseModel

from noobwire import _pure, values, wire
from noobwire.errors import DecodeError, EncodeError
from noobwire.framing import check_prefix, frame_buffer
from noobwire.messages import MESSAGE_CLASSES, MessageType, MetaSignal
from noobwire.options import DEFAULT_OPTIONS
from noobwire.buffers import MAX_BUFFER_DEPTH, encode_with_buffers
from noobwire.routing import decode_any
from noobwire.schema import as_str, validate_control_message

import_datetime()

cdef extern from "Python.h":
    ctypedef struct Py_buffer:
        void* buf
        Py_ssize_t len
        Py_ssize_t itemsize
        int ndim
        char* format
    int PyObject_GetBuffer(object obj, Py_buffer* view, int flags) except -1
    void PyBuffer_Release(Py_buffer* view)
    int PyBUF_SIMPLE
    int PyBUF_FORMAT
    int PyBUF_C_CONTIGUOUS

    PyObject* PyBytes_FromStringAndSize(const char* s, Py_ssize_t n) except NULL
    char* PyBytes_AS_STRING(PyObject* o)
    int _PyBytes_Resize(PyObject** o, Py_ssize_t n) except -1
    object PyBytes_FromStringAndSize_obj "PyBytes_FromStringAndSize" (const char* s, Py_ssize_t n)
    char* PyByteArray_AS_STRING(object o)
    Py_ssize_t PyByteArray_GET_SIZE(object o)

    const char* PyUnicode_AsUTF8AndSize(object o, Py_ssize_t* size) except NULL
    object PyUnicode_DecodeUTF8(const char* s, Py_ssize_t size, const char* errors)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    void* PyUnicode_DATA(object o)

    long long PyLong_AsLongLongAndOverflow(object o, int* overflow) except? -1
    unsigned long long PyLong_AsUnsignedLongLong(object o) except? -1
    object PyLong_FromLongLong(long long v)
    object PyLong_FromUnsignedLongLong(unsigned long long v)
    object PyFloat_FromDouble(double v)
    double PyFloat_AS_DOUBLE(object o)

    Py_ssize_t PyList_GET_SIZE(object o)
    object PyList_New(Py_ssize_t n)
    void PyList_SET_ITEM(object o, Py_ssize_t i, PyObject* item)
    PyObject* PyList_GET_ITEM(object o, Py_ssize_t i)
    Py_ssize_t PyTuple_GET_SIZE(object o)
    PyObject* PyTuple_GET_ITEM(object o, Py_ssize_t i)
    object PyTuple_New(Py_ssize_t n)
    void PyTuple_SET_ITEM(object o, Py_ssize_t i, PyObject* item)

    object _PyDict_NewPresized(Py_ssize_t n)
    PyObject* PyDict_GetItem(object d, object key)
    PyObject* PyDict_GetItemWithError(object d, object key) except? NULL
    int PyDict_SetItem(object d, object key, object value) except -1
    Py_ssize_t PyDict_GET_SIZE "PyDict_Size" (object d)
    int PyDict_Next(object d, Py_ssize_t* pos, PyObject** key, PyObject** value)
    object PySet_New(object iterable)
    object PyDict_Copy(object d)
    object PyFrozenSet_New(object iterable)
    Py_ssize_t PySet_GET_SIZE(object o)

    bint PyType_Check(object o)
    bint PyType_IsSubtype(PyTypeObject* a, PyTypeObject* b)
    PyTypeObject* Py_TYPE(object o)
    object PyObject_GenericGetDict(object o, void* context)
    int PyObject_GenericSetDict(object o, object value, void* context) except -1
    int PyObject_GenericSetAttr(object o, object name, object value) except -1
    object PyMemoryView_FromObject(object o)
    PyObject** _PyObject_GetDictPtr(object o)

# C constants: Cython would make Python ints of literals this large.
cdef extern from *:
    """
    #define NOOBWIRE_U32_MAX 0xFFFFFFFFULL
    #define NOOBWIRE_SSIZE_U32_MAX ((Py_ssize_t)0xFFFFFFFF)
    #define NOOBWIRE_LOW34_MASK 0x3FFFFFFFFULL
    #define NOOBWIRE_FNV_OFFSET 2166136261U
    """
    const uint64_t U32_MAX "NOOBWIRE_U32_MAX"
    const Py_ssize_t SSIZE_U32_MAX "NOOBWIRE_SSIZE_U32_MAX"
    const uint64_t LOW34_MASK "NOOBWIRE_LOW34_MASK"
    const uint32_t FNV_OFFSET "NOOBWIRE_FNV_OFFSET"

# --- the format ----------------------------------------------------------------------------------

cdef int MAX_DEPTH = wire.MAX_DEPTH
cdef Py_ssize_t MAX_SHARED_HASH = values.MAX_SHARED_HASH
cdef int EVENT_CODE = wire.EVENT_CODE
cdef int PROCESS_CODE = wire.PROCESS_CODE
cdef int N_TYPES = len(wire.MESSAGE_TYPES)
cdef int64_t DEFAULT_MAX_LENGTH = min(DEFAULT_OPTIONS.max_length, INT64_MAX)
cdef int64_t DEFAULT_MAX_FRAME = DEFAULT_OPTIONS.max_frame_size


cdef int64_t frame_limit(object options) except -1:
    """``options.max_frame_size`` as a C integer: a limit beyond the largest one (no frame can be
    longer) is the largest one."""
    if options is _DEFAULT_OPTIONS:
        return DEFAULT_MAX_FRAME
    limit = options.max_frame_size
    return limit if limit < INT64_MAX else INT64_MAX
cdef int64_t length_limit(object options) except -1:
    """``options.max_length`` as a C integer: a limit beyond the largest one (2**64 meant as "no
    limit") is the largest one, as for ``frame_limit``."""
    limit = options.max_length
    return limit if limit < INT64_MAX else INT64_MAX
cdef int DEFAULT_MAX_DEPTH = DEFAULT_OPTIONS.max_depth
cdef bint DEFAULT_ALLOW_PICKLE = DEFAULT_OPTIONS.allow_pickle

cdef object _TYPE_CODES = dict(wire.TYPE_CODES)
cdef tuple _TYPE_NAMES = tuple(wire.MESSAGE_TYPES)
cdef object _NOEVENT = MetaSignal.NoEvent
cdef object _UTC = UTC
cdef object _DEFAULT_OPTIONS = DEFAULT_OPTIONS
cdef object _MESSAGE_CLASSES = MESSAGE_CLASSES
cdef object _object_new = object.__new__
cdef object _FIELDS_SET = frozenset(("type_", "node_id", "timestamp", "value"))

# Interned keys: the dicts this module reads and builds share these very objects.
cdef str K_ID = "id"
cdef str K_TIMESTAMP = "timestamp"
cdef str K_NODE_ID = "node_id"
cdef str K_SIGNAL = "signal"
cdef str K_EPOCH = "epoch"
cdef str K_VALUE = "value"
cdef str K_INPUT = "input"
cdef str K_TYPE = "type_"
cdef str K_FIELDS_SET = "__pydantic_fields_set__"
cdef str K_EXTRA = "__pydantic_extra__"
cdef str K_PRIVATE = "__pydantic_private__"

cdef uint8_t EXT_TUPLE = wire.EXT_TUPLE
cdef uint8_t EXT_SET = wire.EXT_SET
cdef uint8_t EXT_FROZENSET = wire.EXT_FROZENSET
cdef int EXT_BIGINT = wire.EXT_BIGINT
cdef int EXT_DATETIME = wire.EXT_DATETIME
cdef int EXT_NOEVENT = wire.EXT_NOEVENT
cdef int EXT_NDARRAY = wire.EXT_NDARRAY
cdef int EXT_PICKLE = wire.EXT_PICKLE
cdef int EXT_EXCEPTION_TYPE = wire.EXT_EXCEPTION_TYPE
cdef int FIRST_BUFFER_CODE = wire.OUT_OF_BAND_EXT_CODES.start
cdef int LAST_BUFFER_CODE = wire.OUT_OF_BAND_EXT_CODES.stop - 1

DEF SECONDS_PER_DAY = 86400
# Days from 1970-01-01 to 0001-01-01 and to 9999-12-31: the range of datetime.
DEF MIN_DAYS = -719162
DEF MAX_DAYS = 2932896


cdef inline int64_t floor_div(int64_t a, int64_t b) noexcept:
    cdef int64_t q = a // b
    if (a % b != 0) and ((a < 0) != (b < 0)):
        q -= 1
    return q


cdef inline int64_t days_from_civil(int64_t y, int64_t m, int64_t d) noexcept:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    cdef int64_t era = floor_div(y, 400)
    cdef int64_t yoe = y - era * 400
    cdef int64_t mp = m - 3 if m > 2 else m + 9
    cdef int64_t doy = (153 * mp + 2) // 5 + d - 1
    cdef int64_t doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


cdef inline void civil_from_days(int64_t z, int* year, int* month, int* day) noexcept:
    z += 719468
    cdef int64_t era = floor_div(z, 146097)
    cdef int64_t doe = z - era * 146097
    cdef int64_t yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    cdef int64_t doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    cdef int64_t mp = (5 * doy + 2) // 153
    cdef int64_t d = doy - (153 * mp + 2) // 5 + 1
    cdef int64_t m = mp + 3 if mp < 10 else mp - 9
    year[0] = <int>(yoe + era * 400 + (m <= 2))
    month[0] = <int>m
    day[0] = <int>d


# --- encoding --------------------------------------------------------------------------------------

DEF STACK_SIZE = 1024

cdef struct Enc:
    # Small frames are written into ``stack`` and copied into a bytes object once, at the end; a
    # frame that outgrows it moves into a bytes object that this encoder owns and resizes.
    PyObject* out
    char* data
    Py_ssize_t length
    Py_ssize_t capacity
    int max_depth
    bint allow_pickle
    char stack[STACK_SIZE]


cdef inline void enc_init(Enc* e, int max_depth, bint allow_pickle) noexcept:
    e.out = NULL
    e.allow_pickle = allow_pickle
    e.data = e.stack
    e.length = 0
    e.capacity = STACK_SIZE
    e.max_depth = max_depth


cdef void enc_free(Enc* e) noexcept:
    if e.out != NULL:
        Py_DECREF(<object>e.out)
        e.out = NULL


cdef object enc_finish(Enc* e):
    if e.out == NULL:
        return PyBytes_FromStringAndSize_obj(e.stack, e.length)
    _PyBytes_Resize(&e.out, e.length)
    result = <object>e.out
    Py_DECREF(result)
    e.out = NULL
    return result


cdef int enc_grow(Enc* e, Py_ssize_t needed) except -1:
    # Doubling, or exactly what is needed plus room for what usually follows (a big buffer is most
    # often the last thing in a frame): a 16 MiB array does not make a 32 MiB frame to shrink.
    cdef Py_ssize_t capacity = max(e.capacity * 2, e.length + needed + 4096)
    if e.out == NULL:
        e.out = PyBytes_FromStringAndSize(NULL, capacity)
        memcpy(PyBytes_AS_STRING(e.out), e.stack, e.length)
    else:
        _PyBytes_Resize(&e.out, capacity)
    e.data = PyBytes_AS_STRING(e.out)
    e.capacity = capacity
    return 0


cdef inline char* enc_reserve(Enc* e, Py_ssize_t size) except NULL:
    if e.length + size > e.capacity:
        enc_grow(e, size)
    cdef char* at = e.data + e.length
    e.length += size
    return at


cdef inline void put16(char* at, uint16_t v) noexcept:
    at[0] = <char>(v >> 8)
    at[1] = <char>v


cdef inline void put32(char* at, uint32_t v) noexcept:
    at[0] = <char>(v >> 24)
    at[1] = <char>(v >> 16)
    at[2] = <char>(v >> 8)
    at[3] = <char>v


cdef inline void put64(char* at, uint64_t v) noexcept:
    put32(at, <uint32_t>(v >> 32))
    put32(at + 4, <uint32_t>v)


cdef inline int write_byte(Enc* e, uint8_t b) except -1:
    enc_reserve(e, 1)[0] = <char>b
    return 0


cdef inline int write_bytes(Enc* e, const char* data, Py_ssize_t size) except -1:
    memcpy(enc_reserve(e, size), data, size)
    return 0


cdef inline int write_header(Enc* e, Py_ssize_t n, uint8_t fix, uint8_t fix_limit, uint8_t m8,
                             uint8_t m16, uint8_t m32) except -1:
    """A length header: fix | n below fix_limit, else the 8 (if any), 16 or 32-bit form."""
    cdef char* at
    if n < fix_limit:
        enc_reserve(e, 1)[0] = <char>(fix | n)
    elif m8 != 0 and n <= 0xFF:
        at = enc_reserve(e, 2)
        at[0] = <char>m8
        at[1] = <char>n
    elif n <= 0xFFFF:
        at = enc_reserve(e, 3)
        at[0] = <char>m16
        put16(at + 1, <uint16_t>n)
    elif n <= SSIZE_U32_MAX:
        at = enc_reserve(e, 5)
        at[0] = <char>m32
        put32(at + 1, <uint32_t>n)
    else:
        raise ValueError("too long for MessagePack")
    return 0


cdef inline int write_array_header(Enc* e, Py_ssize_t n) except -1:
    return write_header(e, n, 0x90, 16, 0, 0xDC, 0xDD)


cdef inline int write_map_header(Enc* e, Py_ssize_t n) except -1:
    return write_header(e, n, 0x80, 16, 0, 0xDE, 0xDF)


cdef inline int write_str(Enc* e, object text) except -1:
    cdef Py_ssize_t size
    cdef const char* utf8 = PyUnicode_AsUTF8AndSize(text, &size)
    write_header(e, size, 0xA0, 32, 0xD9, 0xDA, 0xDB)
    return write_bytes(e, utf8, size)


cdef inline int write_bin(Enc* e, const char* data, Py_ssize_t size) except -1:
    write_header(e, size, 0, 0, 0xC4, 0xC5, 0xC6)
    return write_bytes(e, data, size)


cdef int write_ext_header(Enc* e, Py_ssize_t size, int code) except -1:
    cdef char* at
    if size == 1 or size == 2 or size == 4 or size == 8 or size == 16:
        at = enc_reserve(e, 2)
        at[0] = <char>(0xD4 if size == 1 else 0xD5 if size == 2 else 0xD6 if size == 4 else
                       0xD7 if size == 8 else 0xD8)
        at[1] = <char>code
    elif size <= 0xFF:
        at = enc_reserve(e, 3)
        at[0] = <char>0xC7
        at[1] = <char>size
        at[2] = <char>code
    elif size <= 0xFFFF:
        at = enc_reserve(e, 4)
        at[0] = <char>0xC8
        put16(at + 1, <uint16_t>size)
        at[3] = <char>code
    elif size <= SSIZE_U32_MAX:
        at = enc_reserve(e, 6)
        at[0] = <char>0xC9
        put32(at + 1, <uint32_t>size)
        at[5] = <char>code
    else:
        raise ValueError("extension too long for MessagePack")
    return 0


cdef inline int write_ext_bytes(Enc* e, int code, object payload) except -1:
    cdef bytes data = payload
    write_ext_header(e, len(data), code)
    return write_bytes(e, data, len(data))


cdef inline int write_marker(Enc* e, uint8_t code) except -1:
    cdef char* at = enc_reserve(e, 3)
    at[0] = <char>0xC7
    at[1] = 0
    at[2] = <char>code
    return 0


cdef int write_int(Enc* e, object value) except -1:
    cdef int overflow = 0
    cdef long long v = PyLong_AsLongLongAndOverflow(value, &overflow)
    cdef unsigned long long u
    cdef char* at
    if overflow == 0:
        if v >= 0:
            return write_uint(e, <unsigned long long>v)
        if v >= -32:
            enc_reserve(e, 1)[0] = <char>v
        elif v >= -128:
            at = enc_reserve(e, 2)
            at[0] = <char>0xD0
            at[1] = <char>v
        elif v >= -32768:
            at = enc_reserve(e, 3)
            at[0] = <char>0xD1
            put16(at + 1, <uint16_t>v)
        elif v >= -2147483648:
            at = enc_reserve(e, 5)
            at[0] = <char>0xD2
            put32(at + 1, <uint32_t>v)
        else:
            at = enc_reserve(e, 9)
            at[0] = <char>0xD3
            put64(at + 1, <uint64_t>v)
        return 0
    if overflow > 0 and value < 18446744073709551616:
        return write_uint(e, PyLong_AsUnsignedLongLong(value))
    return write_ext_bytes(e, EXT_BIGINT, values.bigint_payload(value))


cdef int write_uint(Enc* e, unsigned long long u) except -1:
    cdef char* at
    if u < 128:
        enc_reserve(e, 1)[0] = <char>u
    elif u <= 0xFF:
        at = enc_reserve(e, 2)
        at[0] = <char>0xCC
        at[1] = <char>u
    elif u <= 0xFFFF:
        at = enc_reserve(e, 3)
        at[0] = <char>0xCD
        put16(at + 1, <uint16_t>u)
    elif u <= U32_MAX:
        at = enc_reserve(e, 5)
        at[0] = <char>0xCE
        put32(at + 1, <uint32_t>u)
    else:
        at = enc_reserve(e, 9)
        at[0] = <char>0xCF
        put64(at + 1, u)
    return 0


cdef inline int write_float(Enc* e, double value) except -1:
    cdef char* at = enc_reserve(e, 9)
    cdef uint64_t bits
    memcpy(&bits, &value, 8)
    at[0] = <char>0xCB
    put64(at + 1, bits)
    return 0


cdef int write_timestamp(Enc* e, int64_t seconds, uint32_t nanoseconds) except -1:
    """MessagePack's timestamp extension, in its shortest form (as msgpack-python writes it)."""
    cdef uint64_t data64
    cdef char* at
    if (<uint64_t>seconds) >> 34 == 0:
        data64 = ((<uint64_t>nanoseconds) << 34) | <uint64_t>seconds
        if data64 >> 32 == 0:
            at = enc_reserve(e, 6)
            at[0] = <char>0xD6
            at[1] = <char>0xFF
            put32(at + 2, <uint32_t>data64)
        else:
            at = enc_reserve(e, 10)
            at[0] = <char>0xD7
            at[1] = <char>0xFF
            put64(at + 2, data64)
    else:
        at = enc_reserve(e, 15)
        at[0] = <char>0xC7
        at[1] = 12
        at[2] = <char>0xFF
        put32(at + 3, nanoseconds)
        put64(at + 7, <uint64_t>seconds)
    return 0


cdef int write_datetime(Enc* e, object dt) except -1:
    """An exact ``datetime``: the timestamp extension if its offset is zero, else ``EXT_DATETIME``."""
    cdef int64_t days, seconds
    if datetime_tzinfo(dt) is _UTC:
        days = days_from_civil(PyDateTime_GET_YEAR(dt), PyDateTime_GET_MONTH(dt), PyDateTime_GET_DAY(dt))
        seconds = (days * SECONDS_PER_DAY + PyDateTime_DATE_GET_HOUR(dt) * 3600
                   + PyDateTime_DATE_GET_MINUTE(dt) * 60 + PyDateTime_DATE_GET_SECOND(dt))
        return write_timestamp(e, seconds, <uint32_t>PyDateTime_DATE_GET_MICROSECOND(dt) * 1000)
    seconds_obj, nanoseconds, offset_us = values.datetime_parts(dt)
    if offset_us is not None and offset_us == 0:
        return write_timestamp(e, seconds_obj, nanoseconds)
    payload = values.datetime_payload(seconds_obj, nanoseconds, offset_us, dt.fold)
    return write_ext_bytes(e, EXT_DATETIME, payload)


cdef int write_list(Enc* e, object items, int depth) except -1:
    cdef Py_ssize_t n = PyList_GET_SIZE(items)
    cdef Py_ssize_t i
    write_array_header(e, n)
    for i in range(n):
        if i >= PyList_GET_SIZE(items):
            raise RuntimeError("list changed size while it was written")
        item = <object>PyList_GET_ITEM(items, i)
        write_value(e, item, depth + 1)
    return 0


cdef int write_dict(Enc* e, object mapping, int depth) except -1:
    cdef Py_ssize_t n = PyDict_GET_SIZE(mapping)
    cdef Py_ssize_t written = 0
    write_map_header(e, n)
    for key, item in (<dict>mapping).items():
        written += 1
        if written > n:
            break
        write_value(e, key, depth + 1)
        write_value(e, item, depth + 1)
    if written != n:
        raise RuntimeError("dict changed size while it was written")
    return 0


cdef int write_tuple(Enc* e, object items, int depth) except -1:
    cdef Py_ssize_t n = PyTuple_GET_SIZE(items)
    cdef Py_ssize_t i
    write_array_header(e, n + 1)
    write_marker(e, EXT_TUPLE)
    for i in range(n):
        write_value(e, <object>PyTuple_GET_ITEM(items, i), depth + 1)
    return 0


cdef object encode_element(object item, int depth, int max_depth, bint allow_pickle):
    """One element of a set, encoded on its own so that the elements can be sorted."""
    cdef Enc* element = <Enc*>PyMem_Malloc(sizeof(Enc))  # not on the C stack: sets nest deeply
    if element == NULL:
        raise MemoryError()
    enc_init(element, max_depth, allow_pickle)
    try:
        write_value(element, item, depth)
        return enc_finish(element)
    finally:
        enc_free(element)
        PyMem_Free(element)


cdef int write_set(Enc* e, object items, uint8_t marker, int depth) except -1:
    """A set's elements in canonical order: sorted by their encoded bytes."""
    cdef list encoded = [encode_element(item, depth + 1, e.max_depth, e.allow_pickle) for item in items]
    encoded.sort()
    write_array_header(e, len(encoded) + 1)
    write_marker(e, marker)
    for data in encoded:
        write_bytes(e, <bytes>data, len(<bytes>data))
    return 0


cdef int write_buffer(Enc* e, object obj) except -1:
    cdef Py_buffer view
    PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE)
    try:
        write_bin(e, <const char*>view.buf, view.len)
    finally:
        PyBuffer_Release(&view)
    return 0


cdef int write_value(Enc* e, object obj, int depth) except -1:
    """Any value, by the format's rules for values; ``depth`` is its nesting level."""
    cdef PyTypeObject* kind = Py_TYPE(obj)
    if kind is <PyTypeObject*>str:
        return write_str(e, obj)
    if kind is <PyTypeObject*>int:
        return write_int(e, obj)
    if kind is <PyTypeObject*>float:
        return write_float(e, PyFloat_AS_DOUBLE(obj))
    if obj is None:
        return write_byte(e, 0xC0)
    if obj is True:
        return write_byte(e, 0xC3)
    if obj is False:
        return write_byte(e, 0xC2)
    if kind is <PyTypeObject*>list or kind is <PyTypeObject*>dict or kind is <PyTypeObject*>tuple \
            or kind is <PyTypeObject*>set or kind is <PyTypeObject*>frozenset:
        if depth > e.max_depth:
            raise ValueError("recursion limit exceeded")
        if kind is <PyTypeObject*>list:
            return write_list(e, obj, depth)
        if kind is <PyTypeObject*>dict:
            return write_dict(e, obj, depth)
        if kind is <PyTypeObject*>tuple:
            return write_tuple(e, obj, depth)
        return write_set(e, obj, EXT_SET if kind is <PyTypeObject*>set else EXT_FROZENSET, depth)
    if kind is <PyTypeObject*>bytes:
        return write_bin(e, <bytes>obj, len(<bytes>obj))
    if kind is <PyTypeObject*>datetime:
        return write_datetime(e, obj)
    if obj is _NOEVENT:
        return write_marker(e, EXT_NOEVENT)
    if kind is <PyTypeObject*>bytearray:
        return write_bin(e, PyByteArray_AS_STRING(obj), PyByteArray_GET_SIZE(obj))
    if kind is <PyTypeObject*>memoryview:
        return write_buffer(e, obj)
    if kind is <PyTypeObject*>ExtType:
        return write_ext_type(e, obj)
    if kind is <PyTypeObject*>Timestamp:
        return write_msgpack_timestamp(e, obj)
    if PyType_Check(obj) and PyType_IsSubtype(<PyTypeObject*>obj, <PyTypeObject*>BaseException):
        return write_ext_bytes(e, EXT_EXCEPTION_TYPE, values.exception_type_payload(obj, e.allow_pickle))
    if values.is_numpy_value(obj):
        parts = values.ndarray_parts(obj)
        if parts is not None:
            return write_ndarray(e, parts[0], parts[1])
    return write_ext_bytes(e, EXT_PICKLE, values.pickle_payload(obj, e.allow_pickle))


cdef int write_ndarray(Enc* e, bytes header, object data) except -1:
    """An ``EXT_NDARRAY``: the packed header, then the array's bytes copied straight from its memory."""
    cdef Py_buffer view
    try:
        PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    except (BufferError, ValueError, TypeError):  # a dtype the buffer protocol cannot show
        return write_ext_bytes(e, EXT_NDARRAY, header + data.tobytes())
    try:
        write_ext_header(e, len(header) + view.len, EXT_NDARRAY)
        write_bytes(e, header, len(header))
        write_bytes(e, <const char*>view.buf, view.len)
    finally:
        PyBuffer_Release(&view)
    return 0


cdef int write_ext_type(Enc* e, object ext) except -1:
    """A ``msgpack.ExtType`` in a value is written as the extension it holds (as msgpack-python does)."""
    code, data = ext
    if type(code) is not int or not -128 <= code <= 127 or not isinstance(data, bytes):
        raise ValueError("malformed ExtType")
    write_ext_header(e, len(data), code)
    return write_bytes(e, <bytes>data, len(<bytes>data))


cdef int write_msgpack_timestamp(Enc* e, object stamp) except -1:
    cdef int64_t seconds = stamp.seconds
    nanoseconds = stamp.nanoseconds
    if not 0 <= nanoseconds <= 999_999_999:
        raise ValueError("Timestamp with out-of-range nanoseconds")
    return write_timestamp(e, seconds, <uint32_t>nanoseconds)


# --- the hot messages -------------------------------------------------------------------------------

cdef inline object item_or_none(object mapping, str key):
    cdef PyObject* found = PyDict_GetItem(mapping, key)
    return <object>found if found != NULL else None


cdef PyObject* EVENT_KEYS[6]
EVENT_KEYS[:] = [<PyObject*>K_ID, <PyObject*>K_TIMESTAMP, <PyObject*>K_NODE_ID, <PyObject*>K_SIGNAL,
                 <PyObject*>K_EPOCH, <PyObject*>K_VALUE]


cdef inline bint values_in_order(object mapping, PyObject** keys, Py_ssize_t count,
                                 PyObject** fields) noexcept:
    """Whether ``mapping`` (a dict) holds exactly ``keys`` (interned), in that order, as every dict
    pydantic validates does; if so, ``fields`` holds its values (borrowed), read without a lookup."""
    if PyDict_GET_SIZE(mapping) != count:
        return False
    cdef Py_ssize_t pos = 0
    cdef PyObject* key
    cdef Py_ssize_t i = 0
    while PyDict_Next(mapping, &pos, &key, &fields[i]):
        if key != keys[i]:
            return False
        i += 1
    return True


cdef int write_events(Enc* e, object events) except -1:
    if not isinstance(events, list):
        raise EncodeError(f"expected a list of events, got {type(events).__qualname__}", "value")
    cdef Py_ssize_t n = len(events)
    cdef Py_ssize_t i
    cdef PyObject* fields[6]
    last_timestamp = None  # the previous event's timestamp, and where its bytes are
    cdef Py_ssize_t stamp_at = 0, stamp_size = 0, start
    write_array_header(e, n)
    for i in range(n):
        event = events[i]
        if type(event) is dict and values_in_order(event, EVENT_KEYS, 6, fields):
            event_id = <object>fields[0]
            timestamp = <object>fields[1]
            node_id = <object>fields[2]
            signal = <object>fields[3]
            epoch = <object>fields[4]
            value = <object>fields[5]
        elif type(event) is dict:
            value = item_or_none(event, K_VALUE)
            event_id = item_or_none(event, K_ID) if K_VALUE in event else None
            timestamp = item_or_none(event, K_TIMESTAMP)
            node_id = item_or_none(event, K_NODE_ID)
            signal = item_or_none(event, K_SIGNAL)
            epoch = item_or_none(event, K_EPOCH)
        else:
            try:
                event_id = event["id"]
                timestamp = event["timestamp"]
                node_id = event["node_id"]
                signal = event["signal"]
                epoch = event["epoch"]
                value = event["value"]
            except (KeyError, TypeError):
                event_id = None
        if (type(event_id) is int and type(epoch) is int and type(node_id) is str
                and type(signal) is str and type(timestamp) is datetime):
            enc_reserve(e, 1)[0] = <char>0x96
            write_int(e, event_id)
            if timestamp is last_timestamp:  # the events of one call share one
                memcpy(enc_reserve(e, stamp_size), e.data + stamp_at, stamp_size)
            else:
                start = e.length
                write_datetime(e, timestamp)
                last_timestamp, stamp_at, stamp_size = timestamp, start, e.length - start
            write_str(e, node_id)
            write_str(e, signal)
            write_int(e, epoch)
            write_value(e, value, 4)
        else:
            checked = _pure._event_to_wire_checked(event, f"value[{i}]")
            enc_reserve(e, 1)[0] = <char>0x96
            for j in range(5):
                write_value(e, checked[j], MAX_DEPTH)
            write_value(e, checked[5], 4)
    return 0


cdef int write_process(Enc* e, object value) except -1:
    cdef PyObject* key
    cdef PyObject* epoch = NULL
    cdef PyObject* process_input = NULL
    cdef Py_ssize_t pos = 0
    if type(value) is dict and PyDict_GET_SIZE(value) == 2:
        PyDict_Next(value, &pos, &key, &epoch)
        if key != <PyObject*>K_EPOCH:
            epoch = NULL
        PyDict_Next(value, &pos, &key, &process_input)
        if key != <PyObject*>K_INPUT:
            process_input = NULL
    if (epoch != NULL and process_input != NULL and type(<object>epoch) is int
            and (<object>process_input is None or type(<object>process_input) is dict)):
        enc_reserve(e, 1)[0] = <char>0x92
        write_int(e, <object>epoch)
        return write_value(e, <object>process_input, 3)
    checked = _pure._process_to_wire(value)
    enc_reserve(e, 1)[0] = <char>0x92
    write_value(e, checked[0], MAX_DEPTH)
    return write_value(e, checked[1], 3)


cdef PyObject* MESSAGE_KEYS[4]
MESSAGE_KEYS[:] = [<PyObject*>K_TYPE, <PyObject*>K_NODE_ID, <PyObject*>K_TIMESTAMP, <PyObject*>K_VALUE]


cdef inline bint message_fields(object msg, PyObject** fields) noexcept:
    """The fields of a pydantic message from its ``__dict__`` (borrowed), if it holds exactly them, in
    the schema's order; else False and the caller reads the attributes."""
    cdef PyObject** dict_ptr = _PyObject_GetDictPtr(msg)
    if dict_ptr == NULL or dict_ptr[0] == NULL:
        return False
    cdef object instance_dict = <object>dict_ptr[0]
    return type(instance_dict) is dict and values_in_order(instance_dict, MESSAGE_KEYS, 4, fields)


cdef object EVENT_MEMBER = MessageType.event
cdef object PROCESS_MEMBER = MessageType.process
cdef str K_EVENT = "event"
cdef str K_PROCESS = "process"


cdef inline int message_type_code(object type_name) except -2:
    """The type code of a message's ``type_`` (a str or a str enum member), or -1."""
    # The mirror's own members first: an enum member hashes in Python, slowly.
    if type_name is EVENT_MEMBER or type_name is K_EVENT:
        return EVENT_CODE
    if type_name is PROCESS_MEMBER or type_name is K_PROCESS:
        return PROCESS_CODE
    if not isinstance(type_name, str):
        return -1
    cdef PyObject* found = PyDict_GetItemWithError(_TYPE_CODES, type_name)
    return -1 if found == NULL else <int><object>found


cdef object encode_hot(int code, object node_id, object timestamp, object value, bint allow_pickle,
                       int64_t max_frame_size):
    cdef Enc e
    enc_init(&e, MAX_DEPTH, allow_pickle)
    try:
        at = enc_reserve(&e, 4)
        at[0] = <char>0x96
        at[1] = 1
        at[2] = <char>code
        at[3] = 0
        write_str(&e, node_id if type(node_id) is str else as_str(node_id, "node_id"))
        if type(timestamp) is datetime:
            write_datetime(&e, timestamp)
        else:
            write_value(&e, _pure._schema_datetime(timestamp, "timestamp"), MAX_DEPTH)
        if code == EVENT_CODE:
            write_events(&e, value)
        else:
            write_process(&e, value)
        if e.length > max_frame_size:
            raise ValueError("frame larger than max_frame_size")
        return enc_finish(&e)
    finally:
        enc_free(&e)


cdef bint may_hold_buffer(object obj, Py_ssize_t threshold, int depth, Py_ssize_t* budget):
    """Whether the pre-pass of ``buffers.take_out_of_band`` could take a buffer out of ``obj`` (a free
    value at ``depth``): it enters lists, tuples and dict values, as deep as it does. False means
    it would not: the message is then written as it is, without the pre-pass and its copies. True
    may also mean the scan ran out of ``budget`` (a value of many containers, or a cyclic one)."""
    cdef PyTypeObject* kind = Py_TYPE(obj)
    if kind is <PyTypeObject*>list or kind is <PyTypeObject*>tuple or kind is <PyTypeObject*>dict:
        if depth >= MAX_BUFFER_DEPTH:
            return False
        budget[0] -= 1
        if budget[0] < 0:
            return True
        for item in (obj if kind is not <PyTypeObject*>dict else (<dict>obj).values()):
            if may_hold_buffer(item, threshold, depth + 1, budget):
                return True
        return False
    if kind is <PyTypeObject*>bytes or kind is <PyTypeObject*>bytearray:
        return len(obj) >= threshold
    if kind is <PyTypeObject*>memoryview:
        return True
    if (kind is <PyTypeObject*>int or kind is <PyTypeObject*>float or kind is <PyTypeObject*>str
            or obj is None or kind is <PyTypeObject*>bool or kind is <PyTypeObject*>datetime):
        return False
    return values.is_numpy_value(obj)


cdef bint message_may_hold_buffer(object msg, Py_ssize_t threshold) except -1:
    cdef Py_ssize_t budget = 4096  # containers to look into before leaving it to the pre-pass
    type_name, value = msg.type_, msg.value
    if type(value) is list and message_type_code(type_name) == EVENT_CODE:
        for event in value:
            if type(event) is dict and may_hold_buffer(event.get(K_VALUE), threshold, 0, &budget):
                return True
        return False
    if type(value) is dict and message_type_code(type_name) == PROCESS_CODE:
        return type(value.get(K_INPUT)) is dict and may_hold_buffer(value[K_INPUT], threshold, 0, &budget)
    return False


def encode(msg, options=DEFAULT_OPTIONS, out_of_band=None):
    """Encode ``msg`` as one wire-format frame, under the pickle policy and frame size of ``options``
    (the same bytes, and the same errors, as the pure backend); with ``out_of_band`` (a
    :class:`noobwire.buffers.OutOfBand`), the header frame of a message whose large buffers go in its
    ``buffers``."""
    if out_of_band is not None and message_may_hold_buffer(msg, out_of_band.threshold):
        return encode_with_buffers(encode, msg, options, out_of_band)
    cdef PyObject* fields[4]
    cdef bint allow_pickle = DEFAULT_ALLOW_PICKLE
    cdef int64_t max_frame_size = DEFAULT_MAX_FRAME
    if options is not _DEFAULT_OPTIONS:
        allow_pickle, max_frame_size = options.allow_pickle, frame_limit(options)
    if message_fields(msg, fields):
        type_name = <object>fields[0]
        node_id = <object>fields[1]
        timestamp = <object>fields[2]
        value = <object>fields[3]
    else:
        type_name = getattr(msg, "type_", None)
        node_id = timestamp = value = None
    cdef int code
    try:
        code = message_type_code(type_name)
    except Exception:  # a str subclass whose hash fails: the pure encoder says what is wrong
        code = -1
    if code != EVENT_CODE and code != PROCESS_CODE:
        return _pure.encode(msg, options)
    try:
        if node_id is None:
            node_id, timestamp, value = msg.node_id, msg.timestamp, msg.value
        return encode_hot(code, node_id, timestamp, value, allow_pickle, max_frame_size)
    except Exception:
        pass
    # Outside the handler, so that the pure backend's error does not chain this one.
    return _explain_encode(msg, options)


cdef object _explain_encode(object msg, object options):
    _pure.encode(msg, options)  # raises the error that says what is wrong, and where
    raise RuntimeError(
        "noobwire internal error: the compiled encoder refused a message that the pure encoder writes; "
        "please report it"
    )


# --- decoding --------------------------------------------------------------------------------------

cdef struct Dec:
    const uint8_t* start
    const uint8_t* pos
    const uint8_t* end
    int max_depth
    int64_t max_length
    # The bytes that the containers being read still need for the items they have yet to read: one
    # each at least, two for a map entry. A new container's count must fit in the bytes left less
    # these, so that what is presized from counts never adds up to more than the frame's length.
    Py_ssize_t owed
    bint allow_pickle
    PyObject* buffers  # the ReceivedBuffers of a multi-frame message (borrowed), or NULL
    # the last timestamp extension read, and the datetime it made: events of one call share one
    const uint8_t* last_stamp
    Py_ssize_t last_stamp_size
    PyObject* last_datetime


class _Refused(Exception):
    """The compiled decoder refuses a frame; the pure decoder will say why."""


cdef inline const uint8_t* take(Dec* d, Py_ssize_t size) except NULL:
    cdef const uint8_t* at = d.pos
    if size < 0 or d.end - at < size:
        raise _Refused("truncated")
    d.pos = at + size
    return at


cdef inline uint16_t get16(const uint8_t* at) noexcept:
    return (<uint16_t>at[0] << 8) | at[1]


cdef inline uint32_t get32(const uint8_t* at) noexcept:
    return (<uint32_t>at[0] << 24) | (<uint32_t>at[1] << 16) | (<uint32_t>at[2] << 8) | at[3]


cdef inline uint64_t get64(const uint8_t* at) noexcept:
    return (<uint64_t>get32(at) << 32) | get32(at + 4)


cdef inline Py_ssize_t checked_length(Dec* d, uint64_t n, Py_ssize_t min_item_size) except -1:
    """A declared length, refused if the bytes left cannot hold it or it breaks the limit."""
    if <int64_t>n > d.max_length or n * min_item_size > <uint64_t>(d.end - d.pos):
        raise _Refused("declared length")
    return <Py_ssize_t>n


cdef inline Py_ssize_t checked_count(Dec* d, uint64_t n, Py_ssize_t unit) except -1:
    """A container's declared count of items (``unit`` bytes each at least), refused if it breaks the
    limit or if the bytes left, less what the enclosing containers still owe, cannot hold them."""
    cdef Py_ssize_t available = (d.end - d.pos) - d.owed
    if <int64_t>n > d.max_length or available < 0 or n * unit > <uint64_t>available:
        raise _Refused("declared count")
    return <Py_ssize_t>n


cdef object read_str_body(Dec* d, Py_ssize_t n):
    checked_length(d, n, 1)
    return PyUnicode_DecodeUTF8(<const char*>take(d, n), n, NULL)


DEF STR_CACHE_SIZE = 512
DEF STR_CACHE_MAX_LENGTH = 24

cdef PyObject* STR_CACHE[STR_CACHE_SIZE]
"""Short ASCII strings read before, by a hash of their bytes: map keys, node ids and signal names
repeat from frame to frame, and a cached one is neither decoded, allocated nor hashed again."""


cdef object read_short_str(Dec* d, object buf, int depth):
    """A value that is most likely a short str (a key, a node id, a signal): read through the cache."""
    cdef const uint8_t* at = d.pos
    cdef Py_ssize_t n
    cdef uint32_t h = FNV_OFFSET
    cdef Py_ssize_t i
    cdef const uint8_t* data
    cdef PyObject* cached
    if at < d.end and 0xA0 <= at[0] <= 0xA0 + STR_CACHE_MAX_LENGTH:
        n = at[0] & 0x1F
        if n <= d.end - at - 1 and n <= d.max_length:
            data = at + 1
            for i in range(n):
                if data[i] >= 0x80:
                    break
                h = (h ^ data[i]) * 16777619
            else:
                h = (h ^ <uint32_t>n) & (STR_CACHE_SIZE - 1)
                cached = STR_CACHE[h]
                if (cached != NULL and PyUnicode_GET_LENGTH(<object>cached) == n
                        and memcmp(PyUnicode_DATA(<object>cached), data, n) == 0):
                    d.pos = data + n
                    return <object>cached
                text = PyUnicode_DecodeUTF8(<const char*>data, n, NULL)
                hash(text)  # computed once, kept with the cached object
                Py_INCREF(text)
                if cached != NULL:
                    STR_CACHE[h] = NULL
                    Py_DECREF(<object>cached)
                STR_CACHE[h] = <PyObject*>text
                d.pos = data + n
                return text
    return read_value(d, depth, buf)


cdef inline Py_ssize_t read_length(Dec* d, uint8_t width) except -1:
    cdef const uint8_t* at = take(d, width)
    if width == 1:
        return at[0]
    if width == 2:
        return get16(at)
    return get32(at)


cdef object read_value(Dec* d, int depth, object buf):
    """Read one value at nesting level ``depth``."""
    cdef uint8_t b = take(d, 1)[0]
    cdef const uint8_t* at
    cdef uint64_t u
    cdef uint32_t bits32
    cdef float f32
    cdef double f64
    if b <= 0x7F:
        return PyLong_FromLongLong(b)
    if b >= 0xE0:
        return PyLong_FromLongLong(<int8_t>b)
    if 0xA0 <= b <= 0xBF:
        return read_str_body(d, b & 0x1F)
    if 0x90 <= b <= 0x9F:
        return read_array(d, b & 0x0F, depth, buf)
    if 0x80 <= b <= 0x8F:
        return read_map(d, b & 0x0F, depth, buf)
    if b == 0xC0:
        return None
    if b == 0xC2:
        return False
    if b == 0xC3:
        return True
    if b == 0xCC:
        return PyLong_FromLongLong(take(d, 1)[0])
    if b == 0xCD:
        return PyLong_FromLongLong(get16(take(d, 2)))
    if b == 0xCE:
        return PyLong_FromLongLong(get32(take(d, 4)))
    if b == 0xCF:
        return PyLong_FromUnsignedLongLong(get64(take(d, 8)))
    if b == 0xD0:
        return PyLong_FromLongLong(<int8_t>take(d, 1)[0])
    if b == 0xD1:
        return PyLong_FromLongLong(<int16_t>get16(take(d, 2)))
    if b == 0xD2:
        return PyLong_FromLongLong(<int32_t>get32(take(d, 4)))
    if b == 0xD3:
        return PyLong_FromLongLong(<int64_t>get64(take(d, 8)))
    if b == 0xCA:
        bits32 = get32(take(d, 4))
        memcpy(&f32, &bits32, 4)
        return PyFloat_FromDouble(f32)
    if b == 0xCB:
        u = get64(take(d, 8))
        memcpy(&f64, &u, 8)
        return PyFloat_FromDouble(f64)
    if b == 0xD9:
        return read_str_body(d, read_length(d, 1))
    if b == 0xDA:
        return read_str_body(d, read_length(d, 2))
    if b == 0xDB:
        return read_str_body(d, read_length(d, 4))
    if b == 0xC4 or b == 0xC5 or b == 0xC6:
        return read_bin_body(d, read_length(d, 1 if b == 0xC4 else 2 if b == 0xC5 else 4))
    if b == 0xDC:
        return read_array(d, read_length(d, 2), depth, buf)
    if b == 0xDD:
        return read_array(d, read_length(d, 4), depth, buf)
    if b == 0xDE:
        return read_map(d, read_length(d, 2), depth, buf)
    if b == 0xDF:
        return read_map(d, read_length(d, 4), depth, buf)
    if 0xD4 <= b <= 0xD8:
        return read_ext(d, 1 << (b - 0xD4), buf)
    if b == 0xC7 or b == 0xC8 or b == 0xC9:
        return read_ext(d, read_length(d, 1 if b == 0xC7 else 2 if b == 0xC8 else 4), buf)
    raise _Refused("0xc1")


cdef object read_bin_body(Dec* d, Py_ssize_t n):
    checked_length(d, n, 1)
    return PyBytes_FromStringAndSize_obj(<const char*>take(d, n), n)


cdef int marker_at(Dec* d) noexcept:
    """The container marker (tuple, set, frozenset) that starts at the read position, or 0."""
    cdef const uint8_t* at = d.pos
    cdef Py_ssize_t left = d.end - at
    cdef uint8_t code
    if left >= 3 and at[0] == 0xC7 and at[1] == 0:
        code = at[2]
        d.pos += 3
    elif left >= 4 and at[0] == 0xC8 and at[1] == 0 and at[2] == 0:
        code = at[3]
        d.pos += 4
    elif left >= 6 and at[0] == 0xC9 and at[1] == 0 and at[2] == 0 and at[3] == 0 and at[4] == 0:
        code = at[5]
        d.pos += 6
    else:
        return 0
    if code == EXT_TUPLE or code == EXT_SET or code == EXT_FROZENSET:
        return code
    d.pos = at
    return 0


DEF LIST_PRESIZE = 4096


cdef object read_array(Dec* d, Py_ssize_t n, int depth, object buf):
    cdef Py_ssize_t i
    cdef int marker = 0
    if depth > d.max_depth:
        raise _Refused("too deep")
    checked_count(d, n, 1)
    d.owed += n
    if n:
        marker = marker_at(d)
    if marker:
        n -= 1
        d.owed -= 1
    # Presized up to a budget, then grown as the items arrive: a count the bytes left could hold is
    # still only claimed (and checked_count keeps what all open arrays presize below the frame's size).
    cdef Py_ssize_t presized = n if n <= LIST_PRESIZE else LIST_PRESIZE
    items = PyList_New(presized)
    for i in range(n):
        d.owed -= 1
        item = read_value(d, depth + 1, buf)
        if i < presized:
            Py_INCREF(item)
            PyList_SET_ITEM(items, i, <PyObject*>item)
        else:
            (<list>items).append(item)
    if marker == EXT_TUPLE:
        return tuple(items)
    if marker and n > MAX_SHARED_HASH:  # a set's elements, before they fill it: values.check_hashes
        values.check_hashes(items)
    if marker == EXT_SET:
        return PySet_New(items)
    if marker == EXT_FROZENSET:
        return PyFrozenSet_New(items)
    return items


cdef object read_map(Dec* d, Py_ssize_t n, int depth, object buf):
    cdef Py_ssize_t i
    if depth > d.max_depth:
        raise _Refused("too deep")
    checked_count(d, n, 2)
    d.owed += 2 * n
    mapping = {}  # grown as its entries arrive: duplicate keys would leave a presized table empty
    cdef dict hashes = None  # how many keys of chosen hash share each hash value (values.check_hashes)
    for i in range(n):
        d.owed -= 2
        key = read_short_str(d, buf, depth + 1)
        if n > MAX_SHARED_HASH and type(key) is not str and values.is_floodable(key):
            if hashes is None:
                hashes = {}
            count_hash(hashes, key)
        PyDict_SetItem(mapping, key, read_value(d, depth + 1, buf))
    return mapping


cdef int count_hash(dict hashes, object key) except -1:
    """Count a map's key of chosen hash; refuse the frame at the one too many of one hash value."""
    code = hash(key)
    count = hashes.get(code, 0) + 1
    hashes[code] = count
    if count > MAX_SHARED_HASH:
        raise _Refused("keys of one hash")
    return 0


cdef object read_ext(Dec* d, Py_ssize_t size, object buf):
    checked_length(d, size, 1)
    cdef int code = <int8_t>take(d, 1)[0]
    cdef Py_ssize_t offset = d.pos - d.start
    cdef const uint8_t* payload = take(d, size)
    if code == -1:
        return read_timestamp(d, payload, size)
    if code == EXT_NOEVENT and size == 0:
        return _NOEVENT
    if code == EXT_NDARRAY:
        return values.ndarray_from_payload(PyMemoryView_FromObject(buf)[offset:offset + size])
    data = PyBytes_FromStringAndSize_obj(<const char*>payload, size)
    if code == EXT_DATETIME:
        return values.datetime_from_payload(data)
    if code == EXT_BIGINT:
        return values.bigint_from_payload(data)
    if code == EXT_PICKLE:
        return values.unpickle_payload(data, d.allow_pickle)
    if code == EXT_EXCEPTION_TYPE:
        return values.exception_type_from_payload(data, d.allow_pickle)
    if d.buffers != NULL and FIRST_BUFFER_CODE <= code <= LAST_BUFFER_CODE:
        return (<object>d.buffers).resolve(code, data)
    raise _Refused("extension")


cdef object read_timestamp(Dec* d, const uint8_t* payload, Py_ssize_t size):
    cdef int64_t seconds
    cdef uint32_t nanoseconds
    cdef uint64_t data64
    cdef int year, month, day
    if d.last_datetime != NULL and size == d.last_stamp_size and memcmp(payload, d.last_stamp, size) == 0:
        return <object>d.last_datetime  # datetimes are immutable: one read serves all its copies
    if size == 4:
        seconds = get32(payload)
        nanoseconds = 0
    elif size == 8:
        data64 = get64(payload)
        seconds = <int64_t>(data64 & LOW34_MASK)
        nanoseconds = <uint32_t>(data64 >> 34)
    elif size == 12:
        nanoseconds = get32(payload)
        seconds = <int64_t>get64(payload + 4)
    else:
        raise _Refused("timestamp size")
    if nanoseconds > 999_999_999:
        raise _Refused("timestamp nanoseconds")
    cdef int64_t days = floor_div(seconds, SECONDS_PER_DAY)
    if days < MIN_DAYS or days > MAX_DAYS:
        raise _Refused("timestamp range")
    cdef int64_t second_of_day = seconds - days * SECONDS_PER_DAY
    civil_from_days(days, &year, &month, &day)
    result = datetime_new(year, month, day, <int>(second_of_day // 3600), <int>(second_of_day // 60 % 60),
                          <int>(second_of_day % 60), <int>(nanoseconds // 1000), _UTC)
    Py_INCREF(result)
    if d.last_datetime != NULL:
        Py_DECREF(<object>d.last_datetime)
    d.last_stamp = payload
    d.last_stamp_size = size
    d.last_datetime = <PyObject*>result  # owned: a value read later may drop its other references
    return result


cdef inline object read_exact_str(Dec* d, object buf):
    value = read_short_str(d, buf, 4)
    if type(value) is not str:
        raise _Refused("not a str")
    return value


cdef inline object read_exact_int(Dec* d, object buf):
    value = read_value(d, 4, buf)
    if type(value) is not int:
        raise _Refused("not an int")
    return value


cdef inline object read_exact_datetime(Dec* d, object buf):
    value = read_value(d, 4, buf)
    if type(value) is not datetime:
        raise _Refused("not a timestamp")
    return value


cdef Py_ssize_t read_array_header(Dec* d) except -1:
    cdef uint8_t b = take(d, 1)[0]
    cdef Py_ssize_t n
    if 0x90 <= b <= 0x9F:
        n = b & 0x0F
    elif b == 0xDC:
        n = read_length(d, 2)
    elif b == 0xDD:
        n = read_length(d, 4)
    else:
        raise _Refused("not an array")
    checked_count(d, n, 1)
    if n and marker_at(d):
        raise _Refused("a tuple or set where an array must be")
    return n



# --- dicts built from a template ----------------------------------------------------------------

cdef extern from *:
    """
    /* The dicts the decoder builds (events, a message's __dict__) have fixed keys. A copy of a template
       dict has those keys' table cloned already; its values are then put in place without a lookup
       each. This needs the layout of a combined, str-keyed dict table, which is private to CPython:
       it is the same in 3.11, 3.12 and 3.13 (default builds), and the function checks what it can
       (no split table, str keys, the count, each key by identity) and otherwise changes nothing and
       returns -1, for the caller to fall back on PyDict_SetItem. */
    #if !defined(Py_GIL_DISABLED) && PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030E0000
    typedef struct {
        Py_ssize_t dk_refcnt;
        uint8_t dk_log2_size;
        uint8_t dk_log2_index_bytes;
        uint8_t dk_kind;
        uint32_t dk_version;
        Py_ssize_t dk_usable;
        Py_ssize_t dk_nentries;
        char dk_indices[];
    } noobwire_dict_keys;
    typedef struct { PyObject *me_key; PyObject *me_value; } noobwire_str_entry;
    #define NOOBWIRE_DICT_KEYS_UNICODE 1
    #endif

    static int noobwire_fill_dict_copy(PyObject *d, PyObject *const *keys, PyObject *const *items,
                                       Py_ssize_t n) {
    #if !defined(Py_GIL_DISABLED) && PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030E0000
        PyDictObject *mp = (PyDictObject *)d;
        noobwire_dict_keys *dk = (noobwire_dict_keys *)mp->ma_keys;
        if (mp->ma_values != NULL || mp->ma_used != n || dk->dk_kind != NOOBWIRE_DICT_KEYS_UNICODE
                || dk->dk_nentries != n || dk->dk_refcnt != 1) {
            return -1;
        }
        noobwire_str_entry *entries =
            (noobwire_str_entry *)(dk->dk_indices + ((size_t)1 << dk->dk_log2_index_bytes));
        Py_ssize_t i;
        int holds_containers = 0;
        for (i = 0; i < n; i++) {
            if (entries[i].me_key != keys[i]) return -1;
        }
        for (i = 0; i < n; i++) {
            PyObject *old = entries[i].me_value;
            Py_INCREF(items[i]);
            entries[i].me_value = items[i];
            Py_XDECREF(old);
            holds_containers |= PyObject_IS_GC(items[i]);
        }
        if (holds_containers && !PyObject_GC_IsTracked(d)) {
            PyObject_GC_Track(d);  /* as PyDict_SetItem would, for the cycle collector */
        }
        return 0;
    #else
        (void)d; (void)keys; (void)items; (void)n;
        return -1;
    #endif
    }
    """
    int noobwire_fill_dict_copy(object d, PyObject** keys, PyObject** items, Py_ssize_t n)


cdef object dict_from_template(dict template, PyObject** keys, PyObject** items, Py_ssize_t n):
    """A new dict of ``keys`` (``template``'s, in its order) holding ``items``."""
    result = PyDict_Copy(template)
    cdef Py_ssize_t i
    if noobwire_fill_dict_copy(result, keys, items, n) != 0:
        for i in range(n):
            PyDict_SetItem(result, <object>keys[i], <object>items[i])
    return result


cdef dict EVENT_TEMPLATE = {K_ID: None, K_TIMESTAMP: None, K_NODE_ID: None, K_SIGNAL: None, K_EPOCH: None,
                            K_VALUE: None}


cdef object read_events(Dec* d, object buf):
    if d.max_depth < 2:
        raise _Refused("too deep")
    cdef Py_ssize_t n = read_array_header(d)
    cdef Py_ssize_t i
    cdef PyObject* fields[6]
    if n and d.max_depth < 3:
        raise _Refused("too deep")
    events = PyList_New(n)
    for i in range(n):
        if read_array_header(d) != 6:
            raise _Refused("an event is an array of 6 fields")
        event_id = read_exact_int(d, buf)
        timestamp = read_exact_datetime(d, buf)
        node_id = read_exact_str(d, buf)
        signal = read_exact_str(d, buf)
        epoch = read_exact_int(d, buf)
        value = read_value(d, 4, buf)
        fields[0], fields[1], fields[2] = <PyObject*>event_id, <PyObject*>timestamp, <PyObject*>node_id
        fields[3], fields[4], fields[5] = <PyObject*>signal, <PyObject*>epoch, <PyObject*>value
        event = dict_from_template(EVENT_TEMPLATE, EVENT_KEYS, fields, 6)
        Py_INCREF(event)
        PyList_SET_ITEM(events, i, <PyObject*>event)
    return events


cdef dict PROCESS_TEMPLATE = {K_EPOCH: None, K_INPUT: None}
cdef PyObject* PROCESS_KEYS[2]
PROCESS_KEYS[:] = [<PyObject*>K_EPOCH, <PyObject*>K_INPUT]


cdef object read_process(Dec* d, object buf):
    if d.max_depth < 2 or read_array_header(d) != 2:
        raise _Refused("a process value is an array of 2 fields")
    epoch = read_value(d, 3, buf)
    if type(epoch) is not int:
        raise _Refused("not an int")
    process_input = read_value(d, 3, buf)
    if process_input is not None and type(process_input) is not dict:
        raise _Refused("process input")
    cdef PyObject* items[2]
    items[0], items[1] = <PyObject*>epoch, <PyObject*>process_input
    return dict_from_template(PROCESS_TEMPLATE, PROCESS_KEYS, items, 2)


cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        Py_ssize_t offset
    ctypedef struct PyMemberDescrObject:
        PyMemberDef* d_member
    ctypedef PyObject* (*allocfunc)(PyTypeObject* cls, Py_ssize_t n)
    ctypedef struct PyTypeObjectSlots "PyTypeObject":
        allocfunc tp_alloc
        void* tp_new
        unsigned long tp_flags
    unsigned long Py_TPFLAGS_IS_ABSTRACT
    PyTypeObject PyBaseObject_Type


cdef PyTypeObject* BASE_MODEL = <PyTypeObject*>BaseModel


cdef Py_ssize_t slot_offset(str name) except -1:
    descriptor = BaseModel.__dict__[name]
    if type(descriptor).__name__ != "member_descriptor":
        raise ImportError(f"pydantic's BaseModel.{name} is not a slot")
    return (<PyMemberDescrObject*>descriptor).d_member.offset


# Where BaseModel keeps the three slots every instance has; written directly into a new instance.
cdef Py_ssize_t FIELDS_SET_OFFSET = slot_offset(K_FIELDS_SET)
cdef Py_ssize_t EXTRA_OFFSET = slot_offset(K_EXTRA)
cdef Py_ssize_t PRIVATE_OFFSET = slot_offset(K_PRIVATE)


cdef inline void set_new_slot(object obj, Py_ssize_t offset, object value) noexcept:
    Py_INCREF(value)
    (<PyObject**>((<char*><PyObject*>obj) + offset))[0] = <PyObject*>value


cdef dict FIELDS_TEMPLATE = {K_TYPE: None, K_NODE_ID: None, K_TIMESTAMP: None, K_VALUE: None}


cdef object construct(object cls, str type_name, object node_id, object timestamp, object value):
    """``schema.construct_message`` in C: the instance without a second validation."""
    cdef PyTypeObjectSlots* slots = <PyTypeObjectSlots*>cls
    cdef PyObject* items[4]
    items[0], items[1] = <PyObject*>type_name, <PyObject*>node_id
    items[2], items[3] = <PyObject*>timestamp, <PyObject*>value
    fields = dict_from_template(FIELDS_TEMPLATE, MESSAGE_KEYS, items, 4)
    cdef PyObject* allocated
    if (PyType_Check(cls) and PyType_IsSubtype(<PyTypeObject*>cls, BASE_MODEL)
            and slots.tp_new == (<PyTypeObjectSlots*>&PyBaseObject_Type).tp_new
            and not (slots.tp_flags & Py_TPFLAGS_IS_ABSTRACT)):
        # What object.__new__ does for a pydantic model: a zeroed instance, whose slots are filled here.
        allocated = slots.tp_alloc(<PyTypeObject*>cls, 0)
        if allocated == NULL:
            raise MemoryError()
        msg = <object>allocated
        Py_DECREF(msg)
        set_new_slot(msg, FIELDS_SET_OFFSET, PySet_New(_FIELDS_SET))
        set_new_slot(msg, EXTRA_OFFSET, None)
        set_new_slot(msg, PRIVATE_OFFSET, None)
        PyObject_GenericSetDict(msg, fields, NULL)
        return msg
    msg = _object_new(cls)
    PyObject_GenericSetDict(msg, fields, NULL)
    PyObject_GenericSetAttr(msg, K_FIELDS_SET, PySet_New(_FIELDS_SET))
    PyObject_GenericSetAttr(msg, K_EXTRA, None)
    PyObject_GenericSetAttr(msg, K_PRIVATE, None)
    return msg


cdef object decode_view(object buf, const uint8_t* data, Py_ssize_t size, object classes, object options,
                        object buffers):
    cdef Dec d
    d.buffers = NULL if buffers is None else <PyObject*>buffers
    d.start = data
    d.pos = data
    d.end = data + size
    d.last_datetime = NULL
    d.owed = 0
    try:
        return decode_fields(&d, buf, size, classes, options)
    finally:
        if d.last_datetime != NULL:
            Py_DECREF(<object>d.last_datetime)


cdef object decode_fields(Dec* d, object buf, Py_ssize_t size, object classes, object options):
    if options is _DEFAULT_OPTIONS:
        d.max_depth = DEFAULT_MAX_DEPTH
        d.max_length = DEFAULT_MAX_LENGTH
        d.allow_pickle = DEFAULT_ALLOW_PICKLE
        if size > DEFAULT_MAX_FRAME:
            raise _Refused("frame size")
    else:
        d.max_depth = options.max_depth
        d.max_length = length_limit(options)
        d.allow_pickle = options.allow_pickle
        if size > options.max_frame_size:
            raise _Refused("frame size")
    if size >= 2 and d.start[0] == 0x96 and d.start[1] == 0x01:
        d.pos += 2
    else:
        check_prefix(buf)
        if read_array_header(d) != 6 or read_value(d, 2, buf) != 1:
            raise _Refused("prefix")
    code_obj = read_value(d, 2, buf)
    if type(code_obj) is not int or not 0 <= code_obj < N_TYPES:
        raise _Refused("type code")
    cdef int code = code_obj
    n_buffers = read_value(d, 2, buf)
    if type(n_buffers) is not int or n_buffers != (0 if d.buffers == NULL else len(<object>d.buffers)):
        raise _Refused("n_buffers")
    node_id = read_short_str(d, buf, 2)
    if type(node_id) is not str:
        raise _Refused("node_id")
    timestamp = read_value(d, 2, buf)
    if type(timestamp) is not datetime:
        raise _Refused("timestamp")
    type_name = <str>_TYPE_NAMES[code]
    if code == EVENT_CODE:
        value = read_events(d, buf)
    elif code == PROCESS_CODE:
        value = read_process(d, buf)
    else:
        value = read_value(d, 2, buf)
    if d.pos != d.end:
        raise _Refused("extra bytes")
    cdef PyObject* found = PyDict_GetItemWithError(classes, type_name) if type(classes) is dict else NULL
    cls = <object>found if found != NULL else classes[type_name]
    if code == EVENT_CODE or code == PROCESS_CODE:
        return construct(cls, type_name, node_id, timestamp, value)
    return validate_control_message(cls, type_name, node_id, timestamp, value)


cdef object decode_buffer(object buf, object classes, object options, object buffers):
    cdef Py_buffer view
    if type(buf) is bytes:
        return decode_view(buf, <const uint8_t*>PyBytes_AS_STRING(<PyObject*>buf), len(<bytes>buf),
                           classes, options, buffers)
    PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE)
    try:
        return decode_view(buf, <const uint8_t*>view.buf, view.len, classes, options, buffers)
    finally:
        PyBuffer_Release(&view)


def decode_frame(buf, classes=MESSAGE_CLASSES, options=DEFAULT_OPTIONS, buffers=None):
    """Decode one non-empty MessagePack frame (a buffer) into a message of ``classes``, under the
    pickle policy and limits of ``options``; with ``buffers`` (a :class:`noobwire.buffers.ReceivedBuffers`),
    the header frame of a message whose buffer frames they are."""
    try:
        return decode_buffer(buf, classes, options, buffers)
    except Exception:
        pass
    # Outside the handler, so that the pure backend's error does not chain this one.
    return _explain_decode(buf, classes, options, buffers)


cdef object _explain_decode(object buf, object classes, object options, object buffers):
    if buffers is not None:
        buffers.forget_references()  # the pure decoder reads the references again
    _pure.decode_frame(buf, classes, options, buffers)  # raises the error that says what is wrong
    raise RuntimeError(
        "noobwire internal error: the compiled decoder refused a frame that the pure decoder reads; "
        "please report it"
    )



cdef bint IS_JSON_FIRST_BYTE[256]
IS_JSON_FIRST_BYTE[:] = [byte in wire.JSON_FIRST_BYTES for byte in range(256)]


cdef object _ZMQ_FRAME = None  # zmq.Frame, once pyzmq is imported


cdef bint reads_directly(object data):
    """Whether ``data`` is a ``bytearray``, a ``memoryview`` or a ``zmq.Frame``: holders whose own
    buffer is the frame (``decode_direct`` then checks that it is one-dimensional bytes). Any other
    type goes through ``decode_any``."""
    global _ZMQ_FRAME
    cdef type kind = type(data)
    if kind is bytearray or kind is memoryview:
        return True
    if _ZMQ_FRAME is None:
        zmq = sys.modules.get("zmq")  # not imported: nothing can be a zmq.Frame
        if zmq is None:
            return False
        _ZMQ_FRAME = getattr(zmq, "Frame", None)
    return kind is _ZMQ_FRAME


cdef object decode_direct(object data, object classes, object options):
    """Decode the frame that ``data`` holds in its buffer, where it is a canonical noobwire frame in
    one dimension of bytes; None where it is not (``decode_any`` then decides). A frame that the
    compiled path refuses goes to the pure backend to be explained, as in ``decode_frame``."""
    cdef Py_buffer view
    cdef const uint8_t* start
    cdef int64_t limit = frame_limit(options)
    try:
        PyObject_GetBuffer(data, &view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS)
    except Exception:  # a released memoryview, a non-contiguous one
        return None
    try:
        start = <const uint8_t*>view.buf
        if not (view.ndim == 1 and view.itemsize == 1 and (view.format == NULL or strcmp(view.format, b"B") == 0)
                and 2 <= view.len <= limit and start[0] == 0x96 and start[1] == 0x01):
            return None
        try:
            return decode_view(data, start, view.len, classes, options, None)
        except Exception:
            pass
    finally:
        PyBuffer_Release(&view)
    # Outside the handler, so that the pure backend's error does not chain this one.
    return _explain_decode(frame_buffer(data), classes, options, None)


def decode(data, classes=MESSAGE_CLASSES, options=DEFAULT_OPTIONS):
    """Decode a noobwire MessagePack frame or a legacy JSON frame (see :func:`noobwire.decode`)."""
    cdef Py_ssize_t size
    if type(data) is bytes:
        size = len(<bytes>data)
        if (size and size <= frame_limit(options)
                and not IS_JSON_FIRST_BYTE[(<const uint8_t*>PyBytes_AS_STRING(<PyObject*>data))[0]]):
            return decode_frame(data, classes, options)
    elif reads_directly(data):
        msg = decode_direct(data, classes, options)
        if msg is not None:
            return msg
    return decode_any(data, classes, options, decode_frame)
