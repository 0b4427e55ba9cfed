# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The compiled backend: noobwire's wire format written and read in C, for every generation.

It is the twin of ``_pure``: the same functions, the same bytes, the same rejections. A generation's
description (:mod:`noobwire.layout`) is compiled once into tables (:class:`CompiledGeneration`): for each
hot record, its keys, the kind of each field and a template dict. The hot messages are then written
straight into one growing ``bytes`` and read straight into their classes' instances, field by field as
the tables say; the rare value kinds (big ints, offset datetimes, arrays, pickles, exception classes,
epoch paths) call back into ``extensions`` and ``shapes``, and control messages are converted and checked
by the shared code. Whenever this backend refuses a message or a frame, the pure backend is asked to
explain why, so that both raise the same error.
"""

from libc.stdint cimport INT64_MAX, int8_t, int16_t, int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcmp, memcpy, strcmp

from cpython.datetime cimport (
    PyDateTime_DATE_GET_FOLD,
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

from noobwire._core._calendar cimport civil_from_days, days_from_civil, floor_div
from noobwire._core._cpython cimport *

import sys
from datetime import UTC, datetime

from msgpack import ExtType, Timestamp
from pydantic import BaseModel

from noobwire import wire
from noobwire._core import epochs, extensions, meta_events, pickled_strs, pure, shapes
from noobwire._core.framing import check_prefix, frame_buffer, frame_to_decode, is_json
from noobwire._core.legacy_json import decode_json, written_again
from noobwire._core.out_of_band import MAX_BUFFER_DEPTH, OutOfBand, finish_header, take_out_of_band
from noobwire._core.out_of_band import with_n_buffers
from noobwire._core.out_of_band import _known_dtype as known_dtype
from noobwire._core.out_of_band import _reference as python_reference
from noobwire._core.scalars import as_str
from noobwire._core.validation import validate_control_message
from noobwire.generations import REFERENCE, as_generation
from noobwire.layout import FREE_KINDS, Kind
from noobwire.options import DEFAULT_OPTIONS
from noobwire.wire import DEFAULT_BUFFER_THRESHOLD

import_datetime()

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
cdef uint8_t FRAME_ARRAY = wire.FRAME_ARRAY
cdef int LEVEL_FIELD = wire.LEVEL_FIELD
cdef Py_ssize_t MAX_SHARED_HASH = extensions.MAX_SHARED_HASH
cdef int MAX_KEY_DEPTH = extensions.MAX_KEY_DEPTH
cdef int64_t DEFAULT_MAX_LENGTH = min(DEFAULT_OPTIONS.max_length, INT64_MAX)
cdef int64_t DEFAULT_MAX_FRAME = DEFAULT_OPTIONS.max_frame_size
cdef int DEFAULT_MAX_DEPTH = DEFAULT_OPTIONS.max_depth
cdef bint DEFAULT_ALLOW_PICKLE = DEFAULT_OPTIONS.allow_pickle


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


cdef class COptions:
    """An ``Options`` (frozen) as the C values the encoder and decoder read: found once per object, not
    attribute by attribute on every call."""

    cdef object options  # (held: the cache below is keyed by its identity)
    cdef int max_depth
    cdef int64_t max_length
    cdef int64_t max_frame_size
    cdef bint allow_pickle


cdef object _NOT_REMEMBERED = object()


cdef inline object remembered(object last, object key):
    """What the pair ``last`` (one tuple, so that a thread never sees half of it) keeps for ``key``, the
    object it was made for; ``_NOT_REMEMBERED`` for another key."""
    return (<tuple>last)[1] if (<tuple>last)[0] is key else _NOT_REMEMBERED


cdef COptions make_c_options(object options):
    cdef COptions co = COptions.__new__(COptions)
    co.options = options
    co.max_depth = options.max_depth
    co.max_length = length_limit(options)
    co.max_frame_size = frame_limit(options)
    co.allow_pickle = options.allow_pickle
    return co


cdef COptions DEFAULT_C_OPTIONS = make_c_options(DEFAULT_OPTIONS)
cdef object _last_c_options = (DEFAULT_OPTIONS, DEFAULT_C_OPTIONS)


cdef inline COptions c_options(object options):
    """The C values of ``options``; the last one asked for is remembered (one tuple, so a thread never
    sees half of a pair), as a codec asks for its own each call."""
    global _last_c_options
    if options is _DEFAULT_OPTIONS:
        return DEFAULT_C_OPTIONS
    co = remembered(_last_c_options, options)
    if co is _NOT_REMEMBERED:
        co = make_c_options(options)
        _last_c_options = (options, co)
    return <COptions>co


cdef object _UTC = UTC
cdef type DATETIME = datetime
cdef object _DEFAULT_OPTIONS = DEFAULT_OPTIONS
cdef object _REFERENCE = REFERENCE
cdef object _GENERATION_TYPE = type(REFERENCE)
cdef object _object_new = object.__new__
cdef object _FIELDS_SET = frozenset(("type_", "node_id", "timestamp", "value"))

cdef str K_TYPE = "type_"
cdef str K_NODE_ID = "node_id"
cdef str K_TIMESTAMP = "timestamp"
cdef str K_VALUE = "value"
cdef str K_FIELDS_SET = "__pydantic_fields_set__"
cdef str K_EXTRA = "__pydantic_extra__"
cdef str K_PRIVATE = "__pydantic_private__"

cdef uint8_t EXT_TUPLE = wire.EXT_TUPLE
cdef uint8_t EXT_SET = wire.EXT_SET
cdef uint8_t EXT_FROZENSET = wire.EXT_FROZENSET
cdef int EXT_BIGINT = wire.EXT_BIGINT
cdef int EXT_DATETIME = wire.EXT_DATETIME
cdef Py_ssize_t DATETIME_NAIVE_SIZE = wire.DATETIME_NAIVE_SIZE
cdef uint32_t FOLD_BIT = 1u << 31
cdef int EXT_META_SIGNAL = wire.EXT_META_SIGNAL
cdef int EXT_NDARRAY = wire.EXT_NDARRAY
cdef int EXT_PICKLE = wire.EXT_PICKLE
cdef int EXT_EXCEPTION_TYPE = wire.EXT_EXCEPTION_TYPE
cdef int FIRST_BUFFER_CODE = wire.OUT_OF_BAND_EXT_CODES.start
cdef int LAST_BUFFER_CODE = wire.OUT_OF_BAND_EXT_CODES.stop - 1

# The kinds of a record's fields, as the switch statements below read them: noobwire.layout.Kind's
# numbers, checked at import.
cdef enum:
    KIND_INT = 1
    KIND_STR = 2
    KIND_DATETIME = 3
    KIND_ANY = 4
    KIND_OPTIONAL_DICT = 5
    KIND_EPOCH = 6
    KIND_OPTIONAL_EPOCH = 7

if [Kind.INT, Kind.STR, Kind.DATETIME, Kind.ANY, Kind.OPTIONAL_DICT, Kind.EPOCH, Kind.OPTIONAL_EPOCH] != [
    KIND_INT, KIND_STR, KIND_DATETIME, KIND_ANY, KIND_OPTIONAL_DICT, KIND_EPOCH, KIND_OPTIONAL_EPOCH
]:
    raise ImportError("noobwire._core.compiled was built for another numbering of noobwire.layout.Kind")

DEF SECONDS_PER_DAY = 86400
# Days from 1970-01-01 to 0001-01-01 and to 9999-12-31: the range of datetime.
DEF MIN_DAYS = -719162
DEF MAX_DAYS = 2932896
DEF MAX_FIELDS = 32
"""The most fields a compiled record may have."""
DEF EPOCH_CACHE_SIZE = 256


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
    PyObject* meta_type  # the generation's meta-signal enum (borrowed): its members are written as such
    # Out of band (encode_frames): buffers of at least ``threshold`` bytes in a free value (whose level is
    # ``oob_base``; -1 outside free values and in dict keys) go into ``oob``, a list made at the first.
    Py_ssize_t threshold  # -1: nothing goes out of band
    int oob_base
    PyObject* oob  # owned, or NULL
    PyObject* oob_object  # an OutOfBand over ``oob`` for out_of_band's rare cases (owned), or NULL
    char stack[STACK_SIZE]


cdef inline void enc_init(Enc* e, int max_depth, bint allow_pickle, PyObject* meta_type) noexcept:
    e.out = NULL
    e.allow_pickle = allow_pickle
    e.meta_type = meta_type
    e.data = e.stack
    e.length = 0
    e.capacity = STACK_SIZE
    e.max_depth = max_depth
    e.threshold = -1
    e.oob_base = -1
    e.oob = NULL
    e.oob_object = NULL


cdef void enc_free(Enc* e) noexcept:
    if e.out != NULL:
        Py_DECREF(<object>e.out)
        e.out = NULL
    if e.oob != NULL:
        Py_DECREF(<object>e.oob)
        e.oob = NULL
    if e.oob_object != NULL:
        Py_DECREF(<object>e.oob_object)
        e.oob_object = NULL


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


cdef inline int write_marked(Enc* e, uint8_t marker, uint64_t v, Py_ssize_t size) except -1:
    """A marker byte and, after it, ``v`` big-endian in ``size`` bytes (1, 2, 4 or 8: a constant at
    every call, so the C compiler keeps one branch)."""
    cdef char* at = enc_reserve(e, 1 + size)
    at[0] = <char>marker
    if size == 1:
        at[1] = <char>v
    elif size == 2:
        put16(at + 1, <uint16_t>v)
    elif size == 4:
        put32(at + 1, <uint32_t>v)
    else:
        put64(at + 1, v)
    return 0


cdef inline int write_byte(Enc* e, uint8_t b) except -1:
    enc_reserve(e, 1)[0] = <char>b
    return 0


cdef inline int write_bytes(Enc* e, const char* data, Py_ssize_t size) except -1:
    memcpy(enc_reserve(e, size), data, size)
    return 0


cdef inline int write_header(Enc* e, Py_ssize_t n, uint8_t fix, uint8_t fix_limit, uint8_t m8,
                             uint8_t m16, uint8_t m32) except -1:
    """A length header: fix | n below fix_limit, else the 8 (if any), 16 or 32-bit form."""
    if n < fix_limit:
        enc_reserve(e, 1)[0] = <char>(fix | n)
    elif m8 != 0 and n <= 0xFF:
        write_marked(e, m8, <uint64_t>n, 1)
    elif n <= 0xFFFF:
        write_marked(e, m16, <uint64_t>n, 2)
    elif n <= SSIZE_U32_MAX:
        write_marked(e, m32, <uint64_t>n, 4)
    else:
        raise ValueError("too long for MessagePack")
    return 0


cdef inline int write_array_header(Enc* e, Py_ssize_t n) except -1:
    if n < 16:
        enc_reserve(e, 1)[0] = <char>(0x90 | n)
        return 0
    return write_header(e, n, 0x90, 16, 0, 0xDC, 0xDD)


cdef inline int write_map_header(Enc* e, Py_ssize_t n) except -1:
    return write_header(e, n, 0x80, 16, 0, 0xDE, 0xDF)


cdef inline int write_str(Enc* e, object text) except -1:
    cdef Py_ssize_t size
    cdef const char* utf8
    cdef char* at
    if PyUnicode_IS_COMPACT_ASCII(text):  # its characters are its UTF-8: no call, no cache of it
        size = PyUnicode_GET_LENGTH(text)
        utf8 = <const char*>PyUnicode_DATA(text)
        if size < 32:  # a fixstr: header and bytes in one reservation
            at = enc_reserve(e, size + 1)
            at[0] = <char>(0xA0 | size)
            memcpy(at + 1, utf8, size)
            return 0
    else:
        utf8 = PyUnicode_AsUTF8AndSize(text, &size)
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
    """An exact int (a subclass is converted before it gets here)."""
    cdef int overflow = 0
    cdef long long v
    if noobwire_small_int(value, &v) and v >= 0:
        return write_uint(e, <unsigned long long>v)
    v = PyLong_AsLongLongAndOverflow(value, &overflow)
    cdef unsigned long long u
    if overflow == 0:
        if v >= 0:
            return write_uint(e, <unsigned long long>v)
        if v >= -32:
            enc_reserve(e, 1)[0] = <char>v
        elif v >= -128:
            write_marked(e, 0xD0, <uint64_t>v, 1)
        elif v >= -32768:
            write_marked(e, 0xD1, <uint64_t>v, 2)
        elif v >= -2147483648:
            write_marked(e, 0xD2, <uint64_t>v, 4)
        else:
            write_marked(e, 0xD3, <uint64_t>v, 8)
        return 0
    if overflow > 0 and value < 18446744073709551616:
        return write_uint(e, PyLong_AsUnsignedLongLong(value))
    return write_ext_bytes(e, EXT_BIGINT, extensions.bigint_payload(value))


cdef inline int write_uint(Enc* e, unsigned long long u) except -1:
    if u < 128:
        enc_reserve(e, 1)[0] = <char>u
    elif u <= 0xFF:
        write_marked(e, 0xCC, <uint64_t>u, 1)
    elif u <= 0xFFFF:
        write_marked(e, 0xCD, <uint64_t>u, 2)
    elif u <= U32_MAX:
        write_marked(e, 0xCE, <uint64_t>u, 4)
    else:
        write_marked(e, 0xCF, <uint64_t>u, 8)
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
    cdef uint32_t nanoseconds_field
    cdef char* at
    tz = datetime_tzinfo(dt)
    if tz is _UTC or tz is None:
        days = days_from_civil(PyDateTime_GET_YEAR(dt), PyDateTime_GET_MONTH(dt), PyDateTime_GET_DAY(dt))
        seconds = (days * SECONDS_PER_DAY + PyDateTime_DATE_GET_HOUR(dt) * 3600
                   + PyDateTime_DATE_GET_MINUTE(dt) * 60 + PyDateTime_DATE_GET_SECOND(dt))
        if tz is _UTC:
            return write_timestamp(e, seconds, <uint32_t>PyDateTime_DATE_GET_MICROSECOND(dt) * 1000)
        # naive: its wall-clock time read as if it were UTC, the fold in the nanoseconds' top bit
        # (extensions.datetime_payload, written here without a call)
        nanoseconds_field = <uint32_t>PyDateTime_DATE_GET_MICROSECOND(dt) * 1000
        if PyDateTime_DATE_GET_FOLD(dt):
            nanoseconds_field |= FOLD_BIT
        write_ext_header(e, DATETIME_NAIVE_SIZE, EXT_DATETIME)
        at = enc_reserve(e, DATETIME_NAIVE_SIZE)
        put32(at, nanoseconds_field)
        put64(at + 4, <uint64_t>seconds)
        return 0
    seconds_obj, nanoseconds, offset_us = extensions.datetime_parts(dt)
    if offset_us is not None and offset_us == 0:
        return write_timestamp(e, seconds_obj, nanoseconds)
    payload = extensions.datetime_payload(seconds_obj, nanoseconds, offset_us, dt.fold)
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
    cdef Py_ssize_t pos = 0
    cdef Py_ssize_t written = 0
    cdef PyObject* key
    cdef PyObject* item
    cdef int base
    write_map_header(e, n)
    while PyDict_Next(mapping, &pos, &key, &item):
        written += 1
        if written > n or PyDict_GET_SIZE(mapping) != n:
            raise RuntimeError("dict changed size while it was written")
        # Borrowed from the dict: held while a value's own code (a pickled object's) could change it.
        incref(key)
        incref(item)
        try:
            if is_hashable_container(<object>key) and key_too_deep(<object>key, MAX_KEY_DEPTH):
                raise ValueError("a key nested too deep")  # (the pure encoder names it)
            base = e.oob_base
            e.oob_base = -1  # (a key stays in band)
            write_value(e, <object>key, depth + 1)
            e.oob_base = base
            write_value(e, <object>item, depth + 1)
        finally:
            decref(key)
            decref(item)
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


cdef object encode_element(object item, int depth, Enc* outer):
    """One element of a set, encoded on its own so that the elements can be sorted."""
    cdef Enc* element = <Enc*>PyMem_Malloc(sizeof(Enc))  # not on the C stack: sets nest deeply
    if element == NULL:
        raise MemoryError()
    enc_init(element, outer.max_depth, outer.allow_pickle, outer.meta_type)
    try:
        write_value(element, item, depth)
        return enc_finish(element)
    finally:
        enc_free(element)
        PyMem_Free(element)


cdef int write_set(Enc* e, object items, uint8_t marker, int depth) except -1:
    """A set's elements in canonical order: sorted by their encoded bytes."""
    for item in items:
        if is_hashable_container(item) and key_too_deep(item, MAX_KEY_DEPTH):
            raise ValueError("a set element nested too deep")  # (the pure encoder names it)
    cdef list encoded = [encode_element(item, depth + 1, e) for item in items]
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
        if e.oob_base >= 0 and PyBytes_GET_SIZE(obj) >= e.threshold and depth - e.oob_base <= MAX_OOB_DEPTH:
            return write_bytes_reference(e, obj)
        return write_bin(e, <bytes>obj, len(<bytes>obj))
    if kind is <PyTypeObject*>DATETIME:
        return write_datetime(e, obj)
    if kind is <PyTypeObject*>e.meta_type:
        return write_ext_bytes(e, EXT_META_SIGNAL, extensions.meta_signal_payload(obj))
    if kind is <PyTypeObject*>bytearray:
        if e.oob_base >= 0 and PyByteArray_GET_SIZE(obj) >= e.threshold and depth - e.oob_base <= MAX_OOB_DEPTH:
            return write_bytes_reference(e, obj)
        return write_bin(e, PyByteArray_AS_STRING(obj), PyByteArray_GET_SIZE(obj))
    if kind is <PyTypeObject*>memoryview:
        if e.oob_base >= 0 and depth - e.oob_base <= MAX_OOB_DEPTH and write_python_reference(e, obj):
            return 0
        return write_buffer(e, obj)
    if kind is <PyTypeObject*>ExtType:
        return write_ext_type(e, obj)
    if kind is <PyTypeObject*>Timestamp:
        return write_msgpack_timestamp(e, obj)
    if PyType_Check(obj) and PyType_IsSubtype(<PyTypeObject*>obj, <PyTypeObject*>BaseException):
        return write_ext_bytes(e, EXT_EXCEPTION_TYPE, extensions.exception_type_payload(obj, e.allow_pickle))
    array_type = _ndarray_type if _numpy_seen else ndarray_type()
    if array_type is not None and kind is <PyTypeObject*>array_type:
        if e.oob_base >= 0 and depth - e.oob_base <= MAX_OOB_DEPTH and write_array_reference(e, obj):
            return 0
        if write_ndarray_c(e, obj):
            return 0
    if extensions.is_numpy_value(obj):
        parts = extensions.ndarray_parts(obj)
        if parts is not None:
            return write_ndarray(e, parts[0], parts[1])
    return write_ext_bytes(e, EXT_PICKLE, extensions.pickle_payload(obj, e.allow_pickle))


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


# --- numpy arrays, in C --------------------------------------------------------------------------------
#
# An exact ``numpy.ndarray`` that is C- or F-contiguous, of a dtype met before, is written here straight from
# its memory (in band, ``EXT_NDARRAY``, or out of band, a reference); an ``EXT_NDARRAY`` or a reference in
# the common form (fix arrays, unsigned ints, a dtype str that passed ``extensions.check_array_header`` before)
# is read here. Anything else goes to the Python code of ``extensions`` and ``out_of_band``, which decides.

cdef extern from "Python.h":
    object PyByteArray_FromStringAndSize(const char* s, Py_ssize_t n)
    Py_ssize_t PyBytes_GET_SIZE(object o)
    bint PyList_Check(object o)
    bint PyTuple_Check(object o)
    object PyTuple_New(Py_ssize_t n)
    void PyTuple_SET_ITEM(object o, Py_ssize_t i, PyObject* item)
    object PyLong_FromSsize_t(Py_ssize_t v)
    bint PyMemoryView_Check(object o)
    Py_ssize_t PySet_GET_SIZE(object o)
    int PySet_Contains(object s, object key) except -1
    Py_buffer* PyMemoryView_GET_BUFFER(object o)
    Py_ssize_t PY_SSIZE_T_MAX
    int PyBuffer_IsContiguous(Py_buffer* view, char order)

cdef extern from *:
    """
    /* The fields that numpy's own C API macros (PyArray_DATA, PyArray_NDIM, PyArray_DIMS, PyArray_DESCR,
       PyArray_FLAGS) read from an ndarray: the start of PyArrayObject_fields, the same in numpy 1.x and
       2.x. noobwire does not build against numpy's headers (numpy is optional), so numpy_layout_ok checks
       this layout against what Python sees on a few arrays before any of it is used. */
    typedef struct {
        PyObject_HEAD
        char *data;
        int nd;
        Py_ssize_t *dimensions;
        Py_ssize_t *strides;
        PyObject *base;
        PyObject *descr;
        int flags;
    } noobwire_ndarray;
    static inline char *noobwire_nd_data(PyObject *o) { return ((noobwire_ndarray *)o)->data; }
    static inline int noobwire_nd_ndim(PyObject *o) { return ((noobwire_ndarray *)o)->nd; }
    static inline Py_ssize_t *noobwire_nd_dims(PyObject *o) { return ((noobwire_ndarray *)o)->dimensions; }
    static inline PyObject *noobwire_nd_descr(PyObject *o) { return ((noobwire_ndarray *)o)->descr; }
    static inline int noobwire_nd_flags(PyObject *o) { return ((noobwire_ndarray *)o)->flags; }
    """
    char* nd_data "noobwire_nd_data" (object o)
    int nd_ndim "noobwire_nd_ndim" (object o)
    Py_ssize_t* nd_dims "noobwire_nd_dims" (object o)
    PyObject* nd_descr "noobwire_nd_descr" (object o)
    int nd_flags "noobwire_nd_flags" (object o)

DEF ND_C_CONTIGUOUS = 0x0001
DEF ND_F_CONTIGUOUS = 0x0002
DEF ND_WRITEABLE = 0x0400
DEF DTYPE_CACHE_SIZE = 64
DEF MAX_FAST_NDIM = 15  # a fixarray: longer shapes go to the Python code

cdef int LAYOUT_C = wire.LAYOUT_C
cdef int LAYOUT_F = wire.LAYOUT_F
cdef int EXT_BUFFER_NDARRAY = wire.EXT_BUFFER_NDARRAY
cdef int EXT_BUFFER_BYTES = wire.EXT_BUFFER_BYTES
cdef int MAX_OOB_DEPTH = MAX_BUFFER_DEPTH

cdef object _ndarray_type = None
"""numpy.ndarray, once numpy is imported and its array layout checked (it stays None if the check fails)."""
cdef bint _numpy_seen = False
cdef object _np_empty = None
cdef object _np_frombuffer = None


cdef object ndarray_type():
    """``numpy.ndarray`` if numpy is imported and its arrays are laid out as this module reads them; None
    otherwise (no array can exist before numpy is imported; the Python code handles every array then)."""
    global _ndarray_type, _numpy_seen, _np_empty, _np_frombuffer
    if _numpy_seen:
        return _ndarray_type
    np = sys.modules.get("numpy")
    if np is None or getattr(np, "ndarray", None) is None:  # (not imported, or still being imported)
        return None
    _numpy_seen = True
    if numpy_layout_ok(np):
        _ndarray_type = np.ndarray
        _np_empty, _np_frombuffer = np.empty, np.frombuffer
    return _ndarray_type


cdef bint numpy_layout_ok(object np):
    """Whether the fields read above are where this numpy keeps them, checked on arrays of each kind."""
    cdef int i, flags
    try:
        samples = [
            np.arange(6, dtype="<u2").reshape(2, 3),
            np.asfortranarray(np.arange(12, dtype="<f8").reshape(3, 4)),
            np.arange(20, dtype=">i4")[::3],
            np.frombuffer(b"abcd", dtype="u1"),
            np.zeros((), dtype="<c16"),
        ]
        for a in samples:
            dtype = a.dtype
            flags = nd_flags(a)
            if (nd_ndim(a) != a.ndim or nd_descr(a) != <PyObject*>dtype
                    or <size_t>nd_data(a) != a.__array_interface__["data"][0]
                    or tuple([nd_dims(a)[i] for i in range(nd_ndim(a))]) != a.shape
                    or bool(flags & ND_C_CONTIGUOUS) != a.flags.c_contiguous
                    or bool(flags & ND_F_CONTIGUOUS) != a.flags.f_contiguous
                    or bool(flags & ND_WRITEABLE) != a.flags.writeable):
                return False
        return True
    except Exception:
        return False


cdef inline Py_ssize_t uint_size(uint64_t u) noexcept:
    """The bytes of ``u`` as MessagePack writes it (``write_uint``)."""
    return 1 if u < 128 else 2 if u <= 0xFF else 3 if u <= 0xFFFF else 5 if u <= U32_MAX else 9


cdef inline Py_ssize_t array_header_size(Py_ssize_t n) noexcept:
    return 1 if n < 16 else 3 if n <= 0xFFFF else 5


cdef class DtypeOut:
    """How arrays of one dtype are written: its descr as MessagePack (as ``extensions.ndarray_parts`` packs
    it), and its item size."""

    cdef bytes descr
    cdef Py_ssize_t itemsize


cdef dict _dtypes_out = {}
"""dtype -> DtypeOut, or None for a dtype that is pickled (objects, no size); at most DTYPE_CACHE_SIZE."""


cdef object _last_dtype_out = (None, None)
"""The dtype last written and its DtypeOut, as one tuple: consecutive arrays most often share one."""


cdef DtypeOut dtype_out(object dtype):
    global _last_dtype_out
    entry = remembered(_last_dtype_out, dtype)
    if entry is _NOT_REMEMBERED:
        entry = dtype_out_lookup(dtype)
        _last_dtype_out = (dtype, entry)
    return <DtypeOut>entry


cdef DtypeOut dtype_out_lookup(object dtype):
    cdef PyObject* found = NULL
    cdef bint hashable = True
    try:
        found = PyDict_GetItemWithError(_dtypes_out, dtype)
    except TypeError:  # a field title numpy cannot hash (a list): described below, never remembered
        hashable = False
    if found != NULL:
        return None if found == <PyObject*>None else <DtypeOut>found
    cdef DtypeOut entry = None
    if not dtype.hasobject and dtype.itemsize != 0:
        entry = DtypeOut.__new__(DtypeOut)
        entry.descr = extensions._header_packer.pack(extensions.dtype_descr(dtype))
        entry.itemsize = dtype.itemsize
    if hashable and len(_dtypes_out) < DTYPE_CACHE_SIZE:
        _dtypes_out[dtype] = entry
    return entry


cdef inline int contiguous_layout(object array) noexcept:
    """LAYOUT_C or LAYOUT_F for an array whose memory holds its items in that order, else -1 (an array of
    any other strides is made contiguous by the Python code)."""
    cdef int flags = nd_flags(array)
    if flags & ND_C_CONTIGUOUS:
        return LAYOUT_C
    if flags & ND_F_CONTIGUOUS:
        return LAYOUT_F
    return -1


cdef Py_ssize_t write_array_header_items(Enc* e, object array, DtypeOut dt, int layout) except -1:
    """The dtype, shape and layout of an array's header (its ``[..., dtype, shape, layout]`` items)."""
    cdef int i, nd = nd_ndim(array)
    cdef Py_ssize_t* dims = nd_dims(array)
    write_bytes(e, dt.descr, len(dt.descr))
    write_array_header(e, nd)
    for i in range(nd):
        write_uint(e, <uint64_t>dims[i])
    write_byte(e, <uint8_t>layout)
    return 0


cdef inline Py_ssize_t array_header_items_size(object array, DtypeOut dt) noexcept:
    cdef int i, nd = nd_ndim(array)
    cdef Py_ssize_t* dims = nd_dims(array)
    cdef Py_ssize_t size = len(dt.descr) + array_header_size(nd) + 1
    for i in range(nd):
        size += uint_size(<uint64_t>dims[i])
    return size


cdef inline Py_ssize_t array_nbytes(object array, DtypeOut dt) noexcept:
    cdef int i, nd = nd_ndim(array)
    cdef Py_ssize_t* dims = nd_dims(array)
    cdef Py_ssize_t nbytes = dt.itemsize
    for i in range(nd):
        nbytes *= dims[i]  # (an array that exists: its size fits)
    return nbytes


cdef DtypeOut array_dtype_out(object array):
    """The DtypeOut of ``array``'s dtype; None where the Python code must write it (a dtype that is
    pickled, or one that changed while its DtypeOut was found: finding it may run Python code, and
    another thread with it, which may give the array another dtype; what follows reads the array's
    shape and memory with no Python code between, so they are the dtype's)."""
    descr = <object>nd_descr(array)
    cdef DtypeOut dt = dtype_out(descr)
    if nd_descr(array) != <PyObject*>descr:
        return None
    return dt


cdef bint write_ndarray_c(Enc* e, object array) except -1:
    """An exact ndarray as ``EXT_NDARRAY``, its items copied from its memory; False (nothing written) where
    the Python code must write it: not contiguous, or of a dtype that is pickled."""
    cdef DtypeOut dt = array_dtype_out(array)  # (first: it may call Python code)
    cdef int layout = contiguous_layout(array)
    if dt is None or layout < 0:
        return False
    cdef Py_ssize_t nbytes = array_nbytes(array, dt)
    write_ext_header(e, 1 + array_header_items_size(array, dt) + nbytes, EXT_NDARRAY)
    write_byte(e, 0x93)
    write_array_header_items(e, array, dt, layout)
    write_bytes(e, nd_data(array), nbytes)
    return True


# --- numpy arrays, read ----------------------------------------------------------------------------------

cdef class DtypeIn:
    """A dtype str met before, as its bytes on the wire, and the dtype it passed as."""

    cdef bytes key
    cdef object dtype
    cdef Py_ssize_t itemsize


cdef list _dtypes_in = []
"""The DtypeIn of the dtype strs met so far (at most DTYPE_CACHE_SIZE, looked through in order)."""


cdef object dtype_in(const uint8_t* data, Py_ssize_t n, Py_ssize_t* itemsize):
    """The dtype of a dtype str of ``n`` bytes at ``data`` if ``out_of_band._known_dtype`` takes it (checked
    once, as ``extensions.check_array_header`` checks it) and its items need no check of their own (not
    numpy strs), else None."""
    cdef DtypeIn entry
    for item in _dtypes_in:
        entry = <DtypeIn>item
        if PyBytes_GET_SIZE(entry.key) == n and memcmp(PyBytes_AS_STRING(<PyObject*>entry.key), data, n) == 0:
            itemsize[0] = entry.itemsize
            return entry.dtype
    try:
        descr = PyUnicode_DecodeUTF8(<const char*>data, n, NULL)
    except UnicodeDecodeError:
        return None
    dtype = known_dtype(descr)
    if dtype is None or dtype.kind == "U":  # (numpy strs: the Python code checks their code points)
        return None
    entry = DtypeIn.__new__(DtypeIn)
    entry.key = PyBytes_FromStringAndSize_obj(<const char*>data, n)
    entry.dtype = dtype
    entry.itemsize = dtype.itemsize
    if len(_dtypes_in) < DTYPE_CACHE_SIZE:
        _dtypes_in.append(entry)
    itemsize[0] = entry.itemsize
    return dtype


cdef inline Py_ssize_t read_uint_at(const uint8_t* p, Py_ssize_t size, Py_ssize_t pos, uint64_t* out) noexcept:
    """An unsigned int as MessagePack writes it at ``pos``: the position after it, or -1."""
    cdef uint8_t b
    if pos >= size:
        return -1
    b = p[pos]
    if b <= 0x7F:
        out[0] = b
        return pos + 1
    if b == 0xCC and size - pos >= 2:
        out[0] = p[pos + 1]
        return pos + 2
    if b == 0xCD and size - pos >= 3:
        out[0] = get16(p + pos + 1)
        return pos + 3
    if b == 0xCE and size - pos >= 5:
        out[0] = get32(p + pos + 1)
        return pos + 5
    if b == 0xCF and size - pos >= 9:
        out[0] = get64(p + pos + 1)
        return pos + 9
    return -1


cdef struct ArrayHeader:
    # What the common form of an array header holds, read by read_array_items.
    Py_ssize_t ndim
    Py_ssize_t dims[MAX_FAST_NDIM]
    Py_ssize_t count  # the number of items (no dimension is 0)
    Py_ssize_t itemsize
    int layout


cdef object read_array_items(const uint8_t* p, Py_ssize_t size, Py_ssize_t* at, ArrayHeader* h):
    """The ``dtype, shape, layout`` items of an array header at ``pos``, in the common form: a str dtype
    that passed its check before (or passes it now), a fixarray shape of unsigned ints none of them 0, a
    layout of 0 or 1. Returns the dtype, ``at`` moved past them; or None, ``at`` -1 (nothing is refused
    here: the Python code reads, or refuses, every other form)."""
    cdef Py_ssize_t pos = at[0]
    at[0] = -1
    cdef Py_ssize_t n, i
    cdef uint64_t dim
    cdef uint8_t b
    if pos >= size:
        return None
    b = p[pos]
    if 0xA0 <= b <= 0xBF:
        n = b & 0x1F
        pos += 1
    elif b == 0xD9 and size - pos >= 2:
        n = p[pos + 1]
        pos += 2
    else:
        return None
    if n > size - pos:
        return None
    dtype = dtype_in(p + pos, n, &h.itemsize)
    if dtype is None:
        return None
    pos += n
    if pos >= size or not 0x90 <= p[pos] <= 0x90 + MAX_FAST_NDIM:
        return None
    h.ndim = p[pos] & 0x0F
    pos += 1
    h.count = 1
    for i in range(h.ndim):
        pos = read_uint_at(p, size, pos, &dim)
        if pos < 0 or dim == 0 or dim > <uint64_t>PY_SSIZE_T_MAX:
            return None
        if <uint64_t>h.count > <uint64_t>PY_SSIZE_T_MAX / dim:
            return None
        h.dims[i] = <Py_ssize_t>dim
        h.count *= <Py_ssize_t>dim
    if pos >= size or p[pos] > 1:
        return None  # (layout 2, a numpy scalar, is read by the Python code)
    h.layout = p[pos]
    at[0] = pos + 1
    return dtype


cdef inline bint holds_items(ArrayHeader* h, Py_ssize_t nbytes) noexcept:
    """Whether ``nbytes`` are exactly the items of the array ``h`` describes."""
    return h.count <= nbytes / h.itemsize and h.count * h.itemsize == nbytes


cdef object shape_of(ArrayHeader* h):
    cdef Py_ssize_t i
    shape = PyTuple_New(h.ndim)
    for i in range(h.ndim):
        dim = PyLong_FromSsize_t(h.dims[i])
        Py_INCREF(dim)
        PyTuple_SET_ITEM(shape, i, <PyObject*>dim)
    return shape


cdef object view_ndarray(ArrayHeader* h, object dtype, object frame, bint fixed):
    """An array that is a view of ``frame`` (checked to hold its items). Over memory that cannot move (a
    ``bytes``, a ``zmq.Frame``'s), ``numpy.ndarray(shape, dtype, frame)``; over any other (a bytearray's,
    an mmap's), through ``numpy.frombuffer``, whose view holds the buffer while the array lives: numpy's
    ``ndarray`` keeps only the object, which could then be resized, or closed, under the array."""
    shape = shape_of(h)
    if not fixed:
        flat = _np_frombuffer(frame, dtype, h.count)
        return flat.reshape(shape, order="F" if h.layout == LAYOUT_F else "C")
    if h.layout == LAYOUT_F:
        return _ndarray_type(shape, dtype, frame, 0, None, "F")
    return _ndarray_type(shape, dtype, frame)


cdef object read_ndarray_c(const uint8_t* p, Py_ssize_t size):
    """An ``EXT_NDARRAY`` payload in the common form as a new writable array (a copy of the items, in
    memory numpy owns); None for any other payload (``extensions.ndarray_from_payload`` reads it, or
    refuses it)."""
    cdef ArrayHeader h
    cdef Py_ssize_t pos
    if _ndarray_type is None and ndarray_type() is None:
        return None
    if size < 1 or p[0] != 0x93:
        return None
    pos = 1
    dtype = read_array_items(p, size, &pos, &h)
    if dtype is None or not holds_items(&h, size - pos):
        return None
    array = _np_empty(shape_of(&h), dtype, "F" if h.layout == LAYOUT_F else "C")
    memcpy(nd_data(array), p + pos, size - pos)  # (numpy's own memory, of exactly these bytes)
    return array


# --- buffers out of band, written ------------------------------------------------------------------------
#
# encode_frames writes a hot message in one pass: a large buffer in a free value (where
# out_of_band.take_out_of_band would find it: in lists, tuples and dict values, at most MAX_BUFFER_DEPTH deep,
# never in dict keys or set elements) is added to the encoder's frames and written as its reference, in
# the order the pre-pass would have numbered it (both follow the order the values are written in).

cdef Py_ssize_t add_frame(Enc* e, object frame) except -1:
    """Add a buffer frame; its index."""
    if e.oob == NULL:
        frames = []
        Py_INCREF(frames)
        e.oob = <PyObject*>frames
    cdef Py_ssize_t index = PyList_GET_SIZE(<object>e.oob)
    (<list>e.oob).append(frame)
    return index


cdef int write_bytes_reference(Enc* e, object frame) except -1:
    """A ``bytes`` or ``bytearray`` value out of band: itself as a frame, and an ``EXT_BUFFER_BYTES``."""
    cdef Py_ssize_t index = add_frame(e, frame)
    write_ext_header(e, uint_size(<uint64_t>index), EXT_BUFFER_BYTES)
    return write_uint(e, <uint64_t>index)


cdef bint write_array_reference(Enc* e, object array) except -1:
    """An exact ndarray of at least ``threshold`` bytes out of band: a byte view of its memory as a frame,
    and an ``EXT_BUFFER_NDARRAY``; False (nothing written) if it stays in band. Arrays that are not
    contiguous, or whose memory has no buffer format, go to out_of_band's own code."""
    cdef DtypeOut dt = array_dtype_out(array)
    if dt is None:
        return False  # (pickled, in band)
    cdef int layout = contiguous_layout(array)
    if layout < 0:
        return write_python_reference(e, array)
    descr = <object>nd_descr(array)
    cdef Py_ssize_t nbytes = array_nbytes(array, dt)
    if nbytes < e.threshold:
        return False
    try:
        frame = PyMemoryView_FromObject(array if layout == LAYOUT_C else array.T).cast("B")
    except (ValueError, TypeError, BufferError):
        return write_python_reference(e, array)
    if nd_descr(array) != <PyObject*>descr or len(frame) != nbytes or contiguous_layout(array) != layout:
        return write_python_reference(e, array)  # (changed while the view was made: Python code ran)
    cdef Py_ssize_t index = add_frame(e, frame)
    write_ext_header(e, 1 + uint_size(<uint64_t>index) + array_header_items_size(array, dt), EXT_BUFFER_NDARRAY)
    write_byte(e, 0x94)
    write_uint(e, <uint64_t>index)
    write_array_header_items(e, array, dt, layout)
    return True


cdef bint write_python_reference(Enc* e, object obj) except -1:
    """``out_of_band._reference`` (the rare cases: memoryviews, arrays that are not contiguous), on an
    ``OutOfBand`` whose buffers are this encoder's frames; False if ``obj`` stays in band."""
    if e.oob_object == NULL:
        if e.oob == NULL:
            frames = []
            Py_INCREF(frames)
            e.oob = <PyObject*>frames
        out_of_band = OutOfBand(e.threshold)
        out_of_band.buffers = <list>e.oob
        Py_INCREF(out_of_band)
        e.oob_object = <PyObject*>out_of_band
    reference = python_reference(obj, <object>e.oob_object)
    if reference is None:
        return False
    write_ext_type(e, reference)
    return True


class _NotFast(Exception):
    """encode_frames meets what only the general path writes (it then writes the whole message)."""


# --- a generation, compiled ----------------------------------------------------------------------------

cdef class CompiledRecord:
    """One hot record of a generation as tables: its interned keys, the kind of each field, a template
    dict of its keys, and where its fields sit."""

    cdef Py_ssize_t n
    cdef PyObject* keys[MAX_FIELDS]
    cdef int kinds[MAX_FIELDS]
    cdef tuple key_objects  # holds the interned keys that ``keys`` points to
    cdef dict template
    cdef object record  # the noobwire.layout.Record
    cdef bint listed  # the message's value is a list of these (else one of these)
    cdef int level  # the nesting level of the record's fields
    cdef bint has_free  # whether a field holds free values (where buffers may go out of band)
    cdef object meta  # its noobwire.layout.MetaEvents, or None
    cdef Py_ssize_t meta_node, meta_signal, meta_value
    cdef object meta_node_id
    cdef object meta_prefix

    def __init__(self, record, bint listed):
        cdef Py_ssize_t i
        fields = record.fields
        if len(fields) > MAX_FIELDS:
            raise ValueError(f"a record of more than {MAX_FIELDS} fields cannot be compiled")
        self.record = record
        self.listed = listed
        self.level = wire.LEVEL_LISTED_RECORD_FIELD if listed else wire.LEVEL_RECORD_FIELD
        self.n = len(fields)
        self.key_objects = tuple(sys.intern(item.name) for item in fields)
        self.template = dict.fromkeys(self.key_objects)
        self.has_free = False
        for i in range(self.n):
            if not isinstance(fields[i].shape, Kind) or fields[i].shape.value > KIND_OPTIONAL_EPOCH:
                raise ValueError(f"field {fields[i].name!r} of {record.what} is not of a flat kind")
            self.keys[i] = <PyObject*>self.key_objects[i]
            self.kinds[i] = fields[i].shape.value
            self.has_free |= fields[i].shape in FREE_KINDS
        self.meta = record.meta
        self.meta_node = self.meta_signal = self.meta_value = -1
        if record.meta is not None:
            meta = record.meta
            self.meta_node = record.index(meta.node_field)
            self.meta_signal = record.index(meta.signal_field)
            self.meta_value = record.index(meta.value_field)
            self.meta_node_id = record.meta.node_id
            self.meta_prefix = record.meta.prefix


cdef class CompiledGeneration:
    """A generation (``noobwire.layout.Generation``) compiled for this backend: its version, its type
    codes, the classes to build, and a :class:`CompiledRecord` for each hot message."""

    cdef object generation
    cdef uint8_t version
    cdef dict type_codes
    cdef tuple type_names
    cdef dict classes
    cdef list class_by_code  # by type code: the class to build, or None
    cdef list records  # by type code: a CompiledRecord, or None for a control message
    cdef list shapes  # by type code: the layout's value shape
    cdef Py_ssize_t n_types
    cdef Py_ssize_t n_hot
    cdef PyObject* hot_names[4]  # the names of the first hot types (borrowed from type_names)
    cdef PyObject* hot_defaults[4]  # their classes' default type_ (an enum member; borrowed from them)
    cdef list hot_default_objects
    cdef int hot_codes[4]
    cdef object meta_signal_type
    cdef object pickle_prefix  # the generation's: strs its classes unpickle (refused with pickle off)
    cdef object no_event
    cdef object epoch_class
    cdef int64_t epoch_fast_max  # roots up to this are made (and remembered) here; others by records
    cdef bint epoch_paths_fast  # paths (noob_core's epochs) are written and made here; others by records
    cdef bint epochs_hashed_by_python  # Python tuples of segments, whose hashes a frame can choose
    cdef int64_t epoch_min
    cdef Py_ssize_t epoch_max_levels
    cdef int64_t epoch_max
    cdef PyObject* epoch_cache[EPOCH_CACHE_SIZE]
    cdef int64_t epoch_cache_roots[EPOCH_CACHE_SIZE]

    def __init__(self, generation):
        self.generation = generation
        if not 0 <= generation.version < 128:
            raise ValueError("a wire-format version is a positive fixint (below 128)")
        self.version = generation.version
        self.type_codes = dict(generation.type_codes)
        self.type_names = tuple(sys.intern(name) for name in generation.type_names)
        self.classes = dict(generation.classes)
        self.class_by_code = [self.classes.get(name) for name in self.type_names]
        self.n_types = len(generation.messages)
        self.records = []
        self.shapes = []
        for layout in generation.messages:
            self.shapes.append(layout.value)
            self.records.append(CompiledRecord(layout.record, layout.listed) if layout.constructed else None)
        self.n_hot = 0
        self.hot_default_objects = []
        for code in range(self.n_types):
            if self.records[code] is not None and self.n_hot < 4:
                self.hot_names[self.n_hot] = <PyObject*>self.type_names[code]
                field = getattr(self.classes[self.type_names[code]], "model_fields", {}).get("type_")
                default = getattr(field, "default", None)
                self.hot_default_objects.append(default)
                self.hot_defaults[self.n_hot] = <PyObject*>default if default is not None else NULL
                self.hot_codes[self.n_hot] = code
                self.n_hot += 1
        self.meta_signal_type = generation.meta_signal_enum
        self.pickle_prefix = generation.pickle_prefix
        self.no_event = getattr(self.meta_signal_type, extensions.NO_EVENT, None)
        self.epoch_class = generation.epoch_class
        epochs = generation.epochs
        self.epoch_fast_max = -1 if epochs is None or epochs.min > 0 else min(epochs.max, INT64_MAX)
        self.epoch_paths_fast = (
            epochs is not None and epochs.segment is None and 0 <= epochs.min <= epochs.max <= INT64_MAX
        )
        self.epochs_hashed_by_python = generation.segment_class is not None
        self.epoch_min = epochs.min if self.epoch_paths_fast else 0
        self.epoch_max_levels = epochs.max_levels if epochs is not None else 0
        self.epoch_max = epochs.max if self.epoch_paths_fast else -1

    def __dealloc__(self):
        cdef Py_ssize_t i
        for i in range(EPOCH_CACHE_SIZE):
            if self.epoch_cache[i] != NULL:
                Py_DECREF(<object>self.epoch_cache[i])
                self.epoch_cache[i] = NULL

    cdef object root_epoch(self, object number):
        """The epoch whose root is ``number`` (an int), remembered: consecutive messages share roots."""
        cdef int overflow = 0
        cdef long long root = PyLong_AsLongLongAndOverflow(number, &overflow)
        if overflow or root < 0 or root > self.epoch_fast_max:
            return epochs.epoch_from_wire(self.generation, number, "an epoch")
        cdef Py_ssize_t slot = root & (EPOCH_CACHE_SIZE - 1)
        cdef PyObject* known = self.epoch_cache[slot]
        if known != NULL and self.epoch_cache_roots[slot] == root:
            return <object>known
        epoch = PyObject_CallOneArg(self.epoch_class, number)
        # The slot is read again: the epoch class's own code may have let another thread replace (and
        # release) what it held.
        known = self.epoch_cache[slot]
        Py_INCREF(epoch)
        self.epoch_cache[slot] = <PyObject*>epoch
        self.epoch_cache_roots[slot] = root
        if known != NULL:
            Py_DECREF(<object>known)
        return epoch

    cdef bint epoch_number_ok(self, object number) noexcept:
        """Whether ``number`` is an exact int within the range of this generation's epoch numbers."""
        cdef int overflow = 0
        cdef long long value
        if type(number) is not int:
            return False
        value = PyLong_AsLongLongAndOverflow(number, &overflow)
        return overflow == 0 and self.epoch_min <= value <= self.epoch_max

    cdef bint is_segment(self, object segment, type kind) noexcept:
        """Whether ``segment`` is a ``kind`` (a list as read, a tuple as noob_core's ``to_wire()`` gives
        it) of a node id and an epoch number in range."""
        cdef PyObject** items
        if type(segment) is not kind or Py_SIZE(segment) != 2:
            return False
        items = PySequence_Fast_ITEMS(segment)
        return type(<object>items[0]) is str and self.epoch_number_ok(<object>items[1])

    cdef object path_epoch(self, list wire):
        """The epoch of a path's wire form ``[root, [node_id, n], ...]`` (as read: lists), made by the
        epoch class itself; None for anything else, which ``records`` then reads (or refuses)."""
        cdef Py_ssize_t i, n = len(wire)
        if not self.epoch_paths_fast or n < 1 or n > self.epoch_max_levels or not self.epoch_number_ok(wire[0]):
            return None
        segments = PyList_New(n - 1)
        for i in range(1, n):
            segment = wire[i]
            if not self.is_segment(segment, list):
                return None
            item = ((<list>segment)[0], (<list>segment)[1])
            Py_INCREF(item)
            PyList_SET_ITEM(segments, i - 1, <PyObject*>item)
        return self.epoch_class(wire[0], segments)


cdef dict _compiled_generations = {}
cdef CompiledGeneration REFERENCE_COMPILED = None  # the reference's tables, made when first used


cdef inline CompiledGeneration tables_of(object generation):
    """The compiled tables of a generation (or of the reference building a dict of classes)."""
    if generation is _REFERENCE and REFERENCE_COMPILED is not None:
        return REFERENCE_COMPILED
    return compiled_for(generation)


cdef CompiledGeneration compiled_for(object schema):
    """``tables_of``, the general case: the tables are made once per generation (a generation is bound
    to its classes when first used, so none is made at import)."""
    global _last_compiled, REFERENCE_COMPILED
    if schema is _REFERENCE:
        if REFERENCE_COMPILED is None:
            REFERENCE_COMPILED = CompiledGeneration(REFERENCE)
        return REFERENCE_COMPILED
    last = _last_compiled
    if schema is (<tuple>last)[0]:
        return <CompiledGeneration>(<tuple>last)[1]
    if type(schema) is _GENERATION_TYPE:  # (a dict of classes is no key: as_generation finds its own)
        found = _compiled_generations.get(schema)
        if found is not None:
            _last_compiled = (schema, found)
            return <CompiledGeneration>found
    generation = as_generation(schema)
    found = _compiled_generations.get(generation)
    if found is None:
        found = CompiledGeneration(generation)
        _compiled_generations[generation] = found  # (the generation itself is the key: kept alive)
    if generation is schema:
        _last_compiled = (schema, found)
    return <CompiledGeneration>found


cdef object _last_compiled = (object(), None)
"""The generation last looked up and its tables, as one tuple (so a thread never sees half of a pair):
a pipeline decodes one generation, and finds it here without a dict lookup."""


# --- the hot messages, written ---------------------------------------------------------------------

cdef struct Shared:
    # Where the last datetime and the last epoch written are in the frame: the records of one call
    # share them, and their bytes are copied rather than written again.
    PyObject* datetime
    Py_ssize_t datetime_at
    Py_ssize_t datetime_size
    PyObject* epoch
    Py_ssize_t epoch_at
    Py_ssize_t epoch_size


cdef inline void shared_init(Shared* s) noexcept:
    s.datetime = NULL
    s.epoch = NULL


cdef int write_shared_datetime(Enc* e, object stamp, Shared* s) except -1:
    cdef Py_ssize_t start
    if <PyObject*>stamp == s.datetime:
        memcpy(enc_reserve(e, s.datetime_size), e.data + s.datetime_at, s.datetime_size)
        return 0
    start = e.length
    write_datetime(e, stamp)
    s.datetime, s.datetime_at, s.datetime_size = <PyObject*>stamp, start, e.length - start
    return 0


cdef int write_epoch(Enc* e, CompiledGeneration c, object epoch, int level, Shared* s) except -1:
    cdef Py_ssize_t start
    if <PyObject*>epoch == s.epoch:
        memcpy(enc_reserve(e, s.epoch_size), e.data + s.epoch_at, s.epoch_size)
        return 0
    start = e.length
    if not (c.epoch_paths_fast and write_epoch_wire(e, c, epoch.to_wire())):
        e.length = start  # (anything else is converted, or refused, by records)
        write_value(e, epochs.epoch_to_wire(c.generation, epoch, ""), level)
    s.epoch, s.epoch_at, s.epoch_size = <PyObject*>epoch, start, e.length - start
    return 0


cdef bint write_epoch_wire(Enc* e, CompiledGeneration c, object wire) except -1:
    """An epoch as its class's ``to_wire()`` gives it (noob_core: a root's int, or a list of the root
    and ``(node_id, n)`` tuples), written as ``epochs.epoch_to_wire`` writes it; False, with part of it
    written, for anything else."""
    cdef Py_ssize_t i, n
    if type(wire) is int:
        if not c.epoch_number_ok(wire):
            return False
        write_int(e, wire)
        return True
    if type(wire) is not list:
        return False
    n = len(<list>wire)
    if n < 1 or n > c.epoch_max_levels or not c.epoch_number_ok((<list>wire)[0]):
        return False
    write_array_header(e, n)
    write_int(e, (<list>wire)[0])
    for i in range(1, n):
        segment = (<list>wire)[i]
        if not c.is_segment(segment, tuple):
            return False
        write_array_header(e, 2)
        write_str(e, (<tuple>segment)[0])
        write_int(e, (<tuple>segment)[1])
    return True


cdef int write_record(Enc* e, CompiledGeneration c, CompiledRecord t, object row, Shared* s) except -1:
    """A record's values in order, each written as its kind says; a record this does not take (a
    subclass of a field's type, a key missing or in another order) is converted by ``records``."""
    cdef PyObject* fields[MAX_FIELDS]
    cdef Py_ssize_t i, n = t.n
    cdef Py_ssize_t start = e.length
    cdef PyTypeObject* kind
    cdef bint taken = True
    if type(row) is not dict:
        return write_checked_record(e, c, t, row)
    if not values_in_order(row, t.keys, n, fields):
        for i in range(n):
            fields[i] = PyDict_GetItem(row, <object>t.keys[i])
            if fields[i] == NULL:
                return write_checked_record(e, c, t, row)
    # The values are the dict's (borrowed): hold them while a value's own code could change the dict.
    for i in range(n):
        incref(fields[i])
    try:
        write_array_header(e, n)
        for i in range(n):
            kind = type_of(fields[i])
            if t.kinds[i] == KIND_INT:
                if kind is not <PyTypeObject*>int:
                    taken = False
                    break
                write_int(e, <object>fields[i])
            elif t.kinds[i] == KIND_STR:
                if kind is not <PyTypeObject*>str:
                    taken = False
                    break
                write_str(e, <object>fields[i])
            elif t.kinds[i] == KIND_DATETIME:
                if kind is not <PyTypeObject*>DATETIME:
                    taken = False
                    break
                write_shared_datetime(e, <object>fields[i], s)
            elif t.kinds[i] == KIND_ANY:
                if e.threshold >= 0:
                    e.oob_base = t.level  # a free value: its buffers may go out of band
                write_value(e, <object>fields[i], t.level)
                e.oob_base = -1
            elif t.kinds[i] == KIND_OPTIONAL_DICT:
                if kind is not <PyTypeObject*>dict and fields[i] != <PyObject*>None:
                    taken = False
                    break
                if e.threshold >= 0:
                    e.oob_base = t.level
                write_value(e, <object>fields[i], t.level)
                e.oob_base = -1
            elif t.kinds[i] == KIND_OPTIONAL_EPOCH and fields[i] == <PyObject*>None:
                write_byte(e, 0xC0)
            else:
                if kind is not <PyTypeObject*>c.epoch_class:
                    taken = False
                    break
                write_epoch(e, c, <object>fields[i], t.level, s)
    finally:
        for i in range(n):
            decref(fields[i])
    if not taken:  # written again by the checked path, from where this record started
        e.length = start
        s.datetime = s.epoch = NULL  # (what they pointed to may lie past the new end)
        return write_checked_record(e, c, t, row)
    return 0


cdef int write_checked_record(Enc* e, CompiledGeneration c, CompiledRecord t, object row) except -1:
    if e.threshold >= 0 and t.has_free:
        raise _NotFast()  # (records converts it: take_out_of_band's pre-pass decides what goes out of band)
    checked = shapes.record_to_wire(c.generation, t.record, row, "")
    cdef Py_ssize_t i
    write_array_header(e, t.n)
    for i in range(t.n):
        value = checked[i]
        if t.kinds[i] == KIND_DATETIME and type(value) is not DATETIME:
            value = pure._schema_datetime(value, "")  # a subclass, as its datetime (else it would be pickled)
        write_value(e, value, t.level)
    return 0


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


cdef inline int message_type_code(CompiledGeneration c, object type_name) except -2:
    """The type code of a message's ``type_`` (a str or a str enum member), or -1."""
    cdef Py_ssize_t i
    for i in range(c.n_hot):  # the hot types, as their classes hold them (a default, an interned name)
        if <PyObject*>type_name == c.hot_defaults[i] or <PyObject*>type_name == c.hot_names[i]:
            return c.hot_codes[i]
    if not isinstance(type_name, str):
        return -1
    cdef PyObject* found = PyDict_GetItemWithError(c.type_codes, type_name)
    return -1 if found == NULL else <int><object>found


cdef object encode_hot(CompiledGeneration c, int code, object node_id, object timestamp, object value,
                       bint allow_pickle, int64_t max_frame_size):
    cdef Enc e
    enc_init(&e, MAX_DEPTH, allow_pickle, <PyObject*>c.meta_signal_type)
    try:
        write_hot(&e, c, code, node_id, timestamp, value, max_frame_size)
        return enc_finish(&e)
    finally:
        enc_free(&e)


cdef int write_hot(Enc* e, CompiledGeneration c, int code, object node_id, object timestamp, object value,
                   int64_t max_frame_size) except -1:
    """A hot message's frame, its value written through the records' fast path."""
    cdef Shared s
    cdef CompiledRecord t = <CompiledRecord>c.records[code]
    cdef Py_ssize_t i, n
    shared_init(&s)
    at = enc_reserve(e, 4)
    at[0] = <char>FRAME_ARRAY
    at[1] = <char>c.version
    at[2] = <char>code
    at[3] = 0
    write_str(e, node_id if type(node_id) is str else as_str(node_id, "node_id"))
    if type(timestamp) is DATETIME:
        write_datetime(e, timestamp)
    else:
        write_value(e, pure._schema_datetime(timestamp, "timestamp"), MAX_DEPTH)
    if not t.listed:
        write_record(e, c, t, value, &s)
    else:
        if type(value) is not list:
            raise ValueError("not a list of records")
        n = PyList_GET_SIZE(value)
        write_array_header(e, n)
        for i in range(n):
            if i >= PyList_GET_SIZE(value):
                raise RuntimeError("list changed size while it was written")
            row = <object>PyList_GET_ITEM(value, i)
            write_record(e, c, t, row, &s)
    if e.length > max_frame_size:
        raise ValueError("frame larger than max_frame_size")
    return 0


# --- messages, written as frames ---------------------------------------------------------------------------
#
# encode_frames writes a hot message in one pass: its large buffers go out of band as they are met
# (write_value), numbered in the order the pure backend's pre-pass (out_of_band.take_out_of_band) numbers
# them. Anything else, and anything this cannot write, goes to the general path: an OutOfBand and
# ``encode``, which writes it or says what is wrong.

cdef list encode_hot_frames(CompiledGeneration c, int code, object node_id, object timestamp, object value,
                            bint allow_pickle, int64_t max_frame_size, Py_ssize_t threshold):
    """``[buffer_0, ..., header]`` of a hot message, its buffers of at least ``threshold`` bytes (-1: none)
    taken out of band as it is written."""
    cdef Enc e
    cdef Py_ssize_t count = 0
    enc_init(&e, MAX_DEPTH, allow_pickle, <PyObject*>c.meta_signal_type)
    e.threshold = threshold
    try:
        write_hot(&e, c, code, node_id, timestamp, value, max_frame_size)
        if e.oob == NULL:
            return [enc_finish(&e)]
        frames = <list>e.oob
        count = PyList_GET_SIZE(frames)
        for frame in frames:
            if len(frame) > max_frame_size:  # (memoryviews of bytes: their length is their bytes)
                raise ValueError("a buffer frame larger than max_frame_size")  # (the general path says so)
        if count < 128:
            e.data[3] = <char>count  # n_buffers, a positive fixint
            header = enc_finish(&e)
        else:
            header = with_n_buffers(enc_finish(&e), count)
        frames.append(header)
        return frames
    finally:
        enc_free(&e)


cdef object encode_frames_hot(CompiledGeneration c, object msg, Py_ssize_t threshold, COptions co):
    """The frames of a hot message of ``c``'s generation whose fields are as pydantic holds them, written in
    one pass; None for anything else, and for any error (the general path then writes it, or says what
    is wrong)."""
    cdef PyObject* fields[4]
    cdef int code
    if not message_fields(msg, fields):
        return None
    type_name = <object>fields[0]
    try:
        code = message_type_code(c, type_name)
        if code < 0 or c.records[code] is None:
            return None
        frames = encode_hot_frames(
            c, code, <object>fields[1], <object>fields[2], <object>fields[3], co.allow_pickle,
            co.max_frame_size, threshold if (<CompiledRecord>c.records[code]).has_free else -1,
        )
        if c.pickle_prefix is not None and not co.allow_pickle:
            # (with buffers out of band, their items are not in the header: look at the message itself)
            pickled_strs.refuse_encoded(frames[0] if len(frames) == 1 else None, msg, c.pickle_prefix)
        return frames
    except Exception:
        return None


cdef list encode_frames_general(object msg, CompiledGeneration c, object options, object threshold):
    out_of_band = OutOfBand(threshold)
    header = encode(msg, c.generation, options, out_of_band)
    frames = out_of_band.buffers
    frames.append(header)
    return frames


def encode_frames(msg, generation=REFERENCE, options=DEFAULT_OPTIONS, threshold=DEFAULT_BUFFER_THRESHOLD):
    """``[buffer_0, ..., buffer_n-1, header]`` of ``msg`` (see :func:`noobwire.encode_frames`): a hot
    message in one pass, its buffers taken out of band as it is written; anything else as ``encode``
    writes it with an :class:`~noobwire._core.out_of_band.OutOfBand`."""
    cdef CompiledGeneration c = tables_of(generation)
    if type(threshold) is int and 0 <= threshold <= PY_SSIZE_T_MAX:
        frames = encode_frames_hot(c, msg, threshold, c_options(options))
        if frames is not None:
            return frames
    return encode_frames_general(msg, c, options, threshold)


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
            or obj is None or kind is <PyTypeObject*>bool or kind is <PyTypeObject*>DATETIME):
        return False
    return extensions.is_numpy_value(obj)


cdef bint record_may_hold_buffer(CompiledRecord t, object row, Py_ssize_t threshold,
                                 Py_ssize_t* budget) except -1:
    cdef Py_ssize_t i
    cdef PyObject* item
    if type(row) is not dict:
        return False
    for i in range(t.n):
        if t.kinds[i] == KIND_ANY or t.kinds[i] == KIND_OPTIONAL_DICT:
            item = PyDict_GetItem(row, <object>t.keys[i])
            if item != NULL and may_hold_buffer(<object>item, threshold, 0, budget):
                return True
    return False


cdef bint message_may_hold_buffer(CompiledGeneration c, object msg, Py_ssize_t threshold) except -1:
    cdef Py_ssize_t budget = 4096  # containers to look into before leaving it to the pre-pass
    cdef int code = message_type_code(c, msg.type_)
    if code < 0 or c.records[code] is None:
        return False
    cdef CompiledRecord t = <CompiledRecord>c.records[code]
    if not t.has_free:
        return False
    value = msg.value
    if not t.listed:
        return record_may_hold_buffer(t, value, threshold, &budget)
    if type(value) is not list:
        return False
    for row in value:
        if record_may_hold_buffer(t, row, threshold, &budget):
            return True
    return False


def encode(msg, generation=REFERENCE, options=DEFAULT_OPTIONS, out_of_band=None):
    """Encode ``msg`` as one frame of ``generation``'s wire format, under the pickle policy and frame
    size of ``options`` (the same bytes, and the same errors, as the pure backend); with
    ``out_of_band`` (a :class:`noobwire._core.out_of_band.OutOfBand`), the header frame of a message
    whose large buffers go in its ``buffers``."""
    cdef CompiledGeneration c = tables_of(generation)
    if out_of_band is not None and message_may_hold_buffer(c, msg, out_of_band.threshold):
        header = encode_message(take_out_of_band(msg, out_of_band, c.generation), c, options)
        return finish_header(header, out_of_band, msg, c.generation, options)
    return encode_message(msg, c, options)


cdef object encode_message(object msg, CompiledGeneration c, object options):
    """One frame of ``msg`` (whose buffers may be references to frames of their own)."""
    cdef PyObject* fields[4]
    cdef bint allow_pickle = DEFAULT_ALLOW_PICKLE
    cdef int64_t max_frame_size = DEFAULT_MAX_FRAME
    cdef COptions co
    if options is not _DEFAULT_OPTIONS:
        co = c_options(options)
        allow_pickle, max_frame_size = co.allow_pickle, co.max_frame_size
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
        code = message_type_code(c, type_name)
    except Exception:  # a str subclass whose hash fails: the pure encoder says what is wrong
        code = -1
    if code < 0 or c.records[code] is None:
        return pure.encode(msg, c.generation, options)
    try:
        if node_id is None:
            node_id, timestamp, value = msg.node_id, msg.timestamp, msg.value
        frame = encode_hot(c, code, node_id, timestamp, value, allow_pickle, max_frame_size)
    except Exception:
        pass
    else:
        if c.pickle_prefix is not None and not allow_pickle:
            pickled_strs.refuse_encoded(frame, msg, c.pickle_prefix)
        return frame
    # Outside the handler, so that the pure backend's error does not chain this one.
    return _explain_encode(msg, options, c.generation)


cdef object _explain_encode(object msg, object options, object generation):
    pure.encode(msg, generation, options)  # raises the error that says what is wrong, and where
    raise RuntimeError(
        "noobwire internal error: the compiled encoder refused a message that the pure encoder writes; "
        "please report it"
    )


# --- decoding --------------------------------------------------------------------------------------

cdef struct Repeat:
    # The bytes of the value read last at one place of a record, and the object they made (owned): the
    # records of one message most often repeat it, and equal bytes make an equal (immutable) object.
    const uint8_t* at
    Py_ssize_t size
    PyObject* value


DEF MAX_FAST_BUFFERS = 32


cdef struct Received:
    # The buffer frames of a message as decode_frames holds them: a list (borrowed) of bytes and
    # one-dimensional memoryviews of bytes, and which of them a reference has named.
    PyObject* frames
    Py_ssize_t n
    bint as_memoryview
    char used[MAX_FAST_BUFFERS]
    char fixed[MAX_FAST_BUFFERS]  # whether a frame's memory cannot move (a bytes', a zmq.Frame's)


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
    PyObject* compiled  # the CompiledGeneration being read (borrowed)
    PyObject* buffers  # the ReceivedBuffers of a multi-frame message (borrowed), or NULL
    Received* received  # or the buffer frames as decode_frames holds them, or NULL
    # the last timestamp extension read, and the datetime it made: events of one call share one
    const uint8_t* last_stamp
    Py_ssize_t last_stamp_size
    PyObject* last_datetime
    Repeat epoch  # the last epoch of a record: ... and one epoch
    Repeat field_datetime  # the last datetime field of a record


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
                # Read again: an allocation may run a collection, whose finalizers may let another
                # thread replace (and release) what the entry held.
                cached = STR_CACHE[h]
                Py_INCREF(text)
                STR_CACHE[h] = <PyObject*>text
                if cached != NULL:
                    Py_DECREF(<object>cached)
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
    if marker:  # a set's elements, before they fill it
        for item in items:
            if is_hashable_container(item) and key_too_deep(item, MAX_KEY_DEPTH):
                raise _Refused("key too deep")
        if n > MAX_SHARED_HASH:
            extensions.check_hashes(items)
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
    cdef dict hashes = None  # how many keys of chosen hash share each hash value (extensions.check_hashes)
    for i in range(n):
        d.owed -= 2
        key = read_short_str(d, buf, depth + 1)
        if is_hashable_container(key) and key_too_deep(key, MAX_KEY_DEPTH):
            raise _Refused("key too deep")
        if n > MAX_SHARED_HASH and type(key) is not str and extensions.is_floodable(key):
            if hashes is None:
                hashes = {}
            count_hash(hashes, key)
        PyDict_SetItem(mapping, key, read_value(d, depth + 1, buf))
    return mapping


cdef inline bint is_hashable_container(object obj) noexcept:
    return type(obj) is tuple or type(obj) is frozenset


cdef bint key_too_deep(object key, int levels) except -1:
    """Whether ``key`` (a tuple or frozenset) nests tuples and frozensets more than ``levels`` deep
    (``extensions.refuse_deep_keys``); the recursion stops at ``levels``."""
    if levels == 0:
        return True
    for item in key:
        if is_hashable_container(item) and key_too_deep(item, levels - 1):
            return True
    return False


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
    if code == EXT_META_SIGNAL and size == 0 and (<CompiledGeneration>d.compiled).no_event is not None:
        return (<CompiledGeneration>d.compiled).no_event
    if code == EXT_NDARRAY:
        array = read_ndarray_c(payload, size)
        if array is not None:
            return array
        return extensions.ndarray_from_payload(PyMemoryView_FromObject(buf)[offset:offset + size])
    if d.received != NULL and FIRST_BUFFER_CODE <= code <= LAST_BUFFER_CODE:
        return resolve_received(d.received, code, payload, size)
    if code == EXT_DATETIME and size == DATETIME_NAIVE_SIZE:
        return read_naive_datetime(payload)
    data = PyBytes_FromStringAndSize_obj(<const char*>payload, size)
    if code == EXT_DATETIME:
        return extensions.datetime_from_payload(data)
    if code == EXT_BIGINT:
        return extensions.bigint_from_payload(data)
    if code == EXT_META_SIGNAL:
        return extensions.meta_signal_from_payload(data, (<CompiledGeneration>d.compiled).meta_signal_type)
    if code == EXT_PICKLE:
        return extensions.unpickle_payload(data, d.allow_pickle)
    if code == EXT_EXCEPTION_TYPE:
        return extensions.exception_type_from_payload(data, d.allow_pickle)
    if d.buffers != NULL and FIRST_BUFFER_CODE <= code <= LAST_BUFFER_CODE:
        return (<object>d.buffers).resolve(code, data)
    raise _Refused("extension")


cdef object read_naive_datetime(const uint8_t* payload):
    """A naive datetime of ``EXT_DATETIME`` (``extensions.datetime_from_payload`` without a call); what
    it does not read, the pure backend refuses."""
    cdef uint32_t nanoseconds = get32(payload)
    return datetime_at(<int64_t>get64(payload + 4), nanoseconds & ~FOLD_BIT, None,
                       1 if nanoseconds & FOLD_BIT else 0)


cdef inline object datetime_at(int64_t seconds, uint32_t nanoseconds, object tz, int fold):
    """The datetime ``seconds`` (and ``nanoseconds``, to the microsecond) after 1970-01-01 00:00, with
    ``tz`` and ``fold``; refused if not a datetime (nanoseconds past a second, a year outside 1-9999)."""
    cdef int year, month, day
    if nanoseconds > 999_999_999:
        raise _Refused("datetime nanoseconds")
    cdef int64_t days = floor_div(seconds, SECONDS_PER_DAY)
    if days < MIN_DAYS or days > MAX_DAYS:
        raise _Refused("datetime range")
    cdef int64_t second_of_day = seconds - days * SECONDS_PER_DAY
    civil_from_days(days, &year, &month, &day)
    return datetime_new(year, month, day, <int>(second_of_day // 3600), <int>(second_of_day // 60 % 60),
                        <int>(second_of_day % 60), <int>(nanoseconds // 1000), tz, fold)


cdef object read_timestamp(Dec* d, const uint8_t* payload, Py_ssize_t size):
    cdef int64_t seconds
    cdef uint32_t nanoseconds
    cdef uint64_t data64
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
    result = datetime_at(seconds, nanoseconds, _UTC, 0)
    Py_INCREF(result)
    if d.last_datetime != NULL:
        Py_DECREF(<object>d.last_datetime)
    d.last_stamp = payload
    d.last_stamp_size = size
    d.last_datetime = <PyObject*>result  # owned: a value read later may drop its other references
    return result


cdef inline object read_exact(Dec* d, object buf, int depth, type kind, str refusal):
    """A value that must be of exactly the type ``kind`` (a str, an int or a datetime)."""
    value = read_short_str(d, buf, depth) if kind is str else read_value(d, depth, buf)
    if type(value) is not kind:
        raise _Refused(refusal)
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


# --- the hot messages, read --------------------------------------------------------------------------

cdef inline PyObject* repeated(Dec* d, Repeat* r) noexcept:
    """The object of ``r`` if the bytes at the read position repeat its bytes (they are then taken),
    else NULL."""
    cdef const uint8_t* start = d.pos
    if r.value != NULL and d.end - start >= r.size and memcmp(start, r.at, r.size) == 0:
        d.pos = start + r.size
        return r.value
    return NULL


cdef object remember(Dec* d, Repeat* r, object value, const uint8_t* start):
    """``value``, read from ``start`` up to here, kept in ``r`` as the one the next record may repeat."""
    Py_INCREF(value)
    if r.value != NULL:
        Py_DECREF(<object>r.value)
    r.value = <PyObject*>value
    r.at = start
    r.size = d.pos - start
    return value


cdef inline void forget(Repeat* r) noexcept:
    if r.value != NULL:
        Py_DECREF(<object>r.value)
        r.value = NULL


cdef object read_epoch(Dec* d, CompiledGeneration c, object buf, int level):
    """An epoch: a root made (and remembered) here, a path made by ``records``; the epoch of the last
    record is reused when the bytes are the same."""
    cdef const uint8_t* start = d.pos
    cdef PyObject* known = repeated(d, &d.epoch)
    if known != NULL:
        return <object>known
    epoch = read_path_epoch(d, c, buf, level) if c.epoch_paths_fast else None
    if epoch is not None:
        return remember(d, &d.epoch, epoch, start)
    wire_epoch = read_value(d, level, buf)
    if type(wire_epoch) is int:
        epoch = c.root_epoch(wire_epoch)
    else:
        epoch = c.path_epoch(wire_epoch) if type(wire_epoch) is list else None
        if epoch is None:
            epoch = epochs.epoch_from_wire(c.generation, wire_epoch, "an epoch")
    return remember(d, &d.epoch, epoch, start)


cdef inline bint take_epoch_number(Dec* d, CompiledGeneration c, uint32_t* number) noexcept:
    """An unsigned int of at most 32 bits, within the generation's epoch numbers, read and taken; False
    (nothing taken) for anything else."""
    cdef const uint8_t* at = d.pos
    cdef Py_ssize_t left = d.end - at
    cdef uint32_t value
    cdef Py_ssize_t size
    if left < 1:
        return False
    if at[0] <= 0x7F:
        value, size = at[0], 1
    elif at[0] == 0xCC and left >= 2:
        value, size = at[1], 2
    elif at[0] == 0xCD and left >= 3:
        value, size = get16(at + 1), 3
    elif at[0] == 0xCE and left >= 5:
        value, size = get32(at + 1), 5
    else:
        return False
    if not c.epoch_min <= value <= c.epoch_max:
        return False
    d.pos = at + size
    number[0] = value
    return True


cdef object read_path_epoch(Dec* d, CompiledGeneration c, object buf, int level):
    """A sub-epoch read straight from its bytes when they have the common form (fix arrays, numbers of at
    most 32 bits, node ids as str) and made by the epoch class; None, with nothing taken, otherwise (the
    value is then read as any value is, and converted or refused by ``records``)."""
    cdef const uint8_t* start = d.pos
    cdef Py_ssize_t i, n
    cdef uint32_t number
    if start >= d.end or not 0x92 <= start[0] <= 0x9F:
        return None
    n = (start[0] & 0x0F) - 1
    d.pos = start + 1
    if not take_epoch_number(d, c, &number):
        d.pos = start
        return None
    root = number
    segments = PyList_New(n)
    for i in range(n):
        if d.end - d.pos < 2 or d.pos[0] != 0x92 or not 0xA0 <= d.pos[1] <= 0xBF:
            d.pos = start
            return None
        d.pos += 1
        node_id = read_short_str(d, buf, level)
        if type(node_id) is not str or not take_epoch_number(d, c, &number):
            d.pos = start
            return None
        item = (node_id, number)
        Py_INCREF(item)
        PyList_SET_ITEM(segments, i, <PyObject*>item)
    return c.epoch_class(root, segments)


cdef object read_field(Dec* d, CompiledGeneration c, int kind, object buf, int level):
    """One field of a record, checked as its kind says."""
    cdef const uint8_t* start = d.pos
    if kind == KIND_INT:
        if start < d.end and start[0] <= 0x7F:  # a positive fixint: an event's id, most often
            d.pos = start + 1
            return PyLong_FromLongLong(start[0])
        return read_exact(d, buf, level, int, "not an int")
    if kind == KIND_STR:
        return read_exact(d, buf, level, str, "not a str")
    if kind == KIND_DATETIME:
        return read_datetime_field(d, buf, level)
    if kind == KIND_ANY:
        return read_value(d, level, buf)
    if kind == KIND_OPTIONAL_DICT:
        value = read_value(d, level, buf)
        if value is not None and type(value) is not dict:
            raise _Refused("not a map or nil")
        return value
    if kind == KIND_OPTIONAL_EPOCH and d.pos < d.end and d.pos[0] == 0xC0:
        d.pos += 1
        return None
    return read_epoch(d, c, buf, level)


cdef object read_datetime_field(Dec* d, object buf, int level):
    """A datetime field; the records of one message most often share one, and the bytes of the last
    one read are compared rather than read again."""
    cdef const uint8_t* start = d.pos
    cdef PyObject* known = repeated(d, &d.field_datetime)
    if known != NULL:
        return <object>known
    return remember(d, &d.field_datetime, read_exact(d, buf, level, DATETIME, "not a timestamp"), start)


cdef object read_record(Dec* d, CompiledGeneration c, CompiledRecord t, object buf, Py_ssize_t index):
    """A record's dict, read field by field into a copy of its template."""
    if d.max_depth < t.level - 1 or read_array_header(d) != t.n:
        raise _Refused("not a record of this layout")
    record = PyDict_Copy(t.template)
    cdef noobwire_str_entry* entries = noobwire_template_entries(record, t.keys, t.n)
    cdef Py_ssize_t i
    cdef bint holds_containers = False
    node_id = signal = event_value = None  # (the fields the meta rules read, kept as they are read)
    for i in range(t.n):
        value = read_field(d, c, t.kinds[i], buf, t.level)
        if entries != NULL:
            holds_containers |= noobwire_entry_put(entries, i, value)
        else:
            PyDict_SetItem(record, <object>t.keys[i], value)
        if i == t.meta_node:
            node_id = value
        elif i == t.meta_signal:
            signal = value
        elif i == t.meta_value:
            event_value = value
    noobwire_track(record, holds_containers)
    if t.meta is not None:
        apply_meta_rules(c, t, record, index, node_id, signal, event_value)
    return record


cdef int apply_meta_rules(
    CompiledGeneration c, CompiledRecord t, object record, Py_ssize_t index, object node_id, object signal,
    object value,
) except -1:
    """A meta event's signal must be a meta event type; a node event's ``"__META__..."`` str value is
    the meta signal it names (as noob's own validation makes it)."""
    if node_id is t.meta_node_id or (
        type(node_id) is str
        and PyUnicode_GET_LENGTH(node_id) == PyUnicode_GET_LENGTH(t.meta_node_id)
        and node_id == t.meta_node_id
    ):
        meta_events.checked(c.generation, t.meta, signal, index)
        return 0
    if type(value) is str and PyUnicode_Tailmatch(value, t.meta_prefix, 0, PyUnicode_GET_LENGTH(value), -1):
        member = meta_events.member(c.generation, t.meta, value)
        if member is not value:
            PyDict_SetItem(record, <object>t.keys[t.meta_value], member)
    return 0


cdef object read_records(Dec* d, CompiledGeneration c, CompiledRecord t, object buf):
    """A list of records (an event message's value)."""
    if d.max_depth < LEVEL_FIELD:
        raise _Refused("too deep")
    cdef Py_ssize_t n = read_array_header(d)
    cdef Py_ssize_t i
    rows = PyList_New(n)
    for i in range(n):
        row = read_record(d, c, t, buf, i)
        Py_INCREF(row)
        PyList_SET_ITEM(rows, i, <PyObject*>row)
    if c.epochs_hashed_by_python and n > MAX_SHARED_HASH:
        epochs.refuse_shared_hashes(c.generation, t.record, rows)
    return rows


# --- messages, built -------------------------------------------------------------------------------

cdef PyTypeObject* BASE_MODEL = <PyTypeObject*>BaseModel

# Where BaseModel keeps the three slots every instance has; written directly into a new instance.
cdef Py_ssize_t FIELDS_SET_OFFSET = slot_offset(BaseModel, K_FIELDS_SET)
cdef Py_ssize_t EXTRA_OFFSET = slot_offset(BaseModel, K_EXTRA)
cdef Py_ssize_t PRIVATE_OFFSET = slot_offset(BaseModel, K_PRIVATE)

cdef dict FIELDS_TEMPLATE = {K_TYPE: None, K_NODE_ID: None, K_TIMESTAMP: None, K_VALUE: None}


cdef object construct(object cls, str type_name, object node_id, object timestamp, object value):
    """``shapes.construct_message`` in C: the instance without a second validation."""
    cdef PyObject* items[4]
    items[0], items[1] = <PyObject*>type_name, <PyObject*>node_id
    items[2], items[3] = <PyObject*>timestamp, <PyObject*>value
    fields = dict_from_template(FIELDS_TEMPLATE, MESSAGE_KEYS, items, 4)
    msg = new_instance(cls, BASE_MODEL)
    if msg is not None:  # a zeroed pydantic model, whose slots are filled here
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


# --- frames, read ----------------------------------------------------------------------------------

cdef object decode_view(object buf, const uint8_t* data, Py_ssize_t size, CompiledGeneration c,
                        object options, object buffers, Received* received):
    cdef Dec d
    d.compiled = <PyObject*>c
    d.buffers = NULL if buffers is None else <PyObject*>buffers
    d.received = received
    d.start = data
    d.pos = data
    d.end = data + size
    d.last_datetime = NULL
    d.epoch.value = d.field_datetime.value = NULL
    d.owed = 0
    try:
        return decode_fields(&d, c, buf, size, options)
    finally:
        if d.last_datetime != NULL:
            Py_DECREF(<object>d.last_datetime)
        forget(&d.epoch)
        forget(&d.field_datetime)


cdef object decode_fields(Dec* d, CompiledGeneration c, object buf, Py_ssize_t size, object options):
    cdef COptions co = c_options(options)
    d.max_depth = co.max_depth
    d.max_length = co.max_length
    d.allow_pickle = co.allow_pickle
    if size > co.max_frame_size:
        raise _Refused("frame size")
    if size >= 2 and d.start[0] == FRAME_ARRAY and d.start[1] == c.version:
        d.pos += 2
    else:
        check_prefix(buf, c.generation)
        if read_array_header(d) != wire.HEADER_LENGTH or read_value(d, LEVEL_FIELD, buf) != c.version:
            raise _Refused("prefix")
    cdef int code
    if d.pos < d.end and d.pos[0] <= 0x7F and d.pos[0] < c.n_types:  # a fixint, as type codes are written
        code = d.pos[0]
        d.pos += 1
    else:
        code_obj = read_value(d, LEVEL_FIELD, buf)
        if type(code_obj) is not int or not 0 <= code_obj < c.n_types:
            raise _Refused("type code")
        code = code_obj
    if d.buffers == NULL and d.received == NULL and d.pos < d.end and d.pos[0] == 0:  # no buffers: the common case
        d.pos += 1
    else:
        n_buffers = read_value(d, LEVEL_FIELD, buf)
        if type(n_buffers) is not int or n_buffers != (
            d.received.n if d.received != NULL else 0 if d.buffers == NULL else len(<object>d.buffers)
        ):
            raise _Refused("n_buffers")
    node_id = read_short_str(d, buf, LEVEL_FIELD)
    if type(node_id) is not str:
        raise _Refused("node_id")
    timestamp = read_value(d, LEVEL_FIELD, buf)
    if type(timestamp) is not DATETIME:
        raise _Refused("timestamp")
    type_name = <str>c.type_names[code]
    table = c.records[code]
    if table is None:
        value = read_value(d, LEVEL_FIELD, buf)
    elif (<CompiledRecord>table).listed:
        value = read_records(d, c, <CompiledRecord>table, buf)
    else:
        value = read_record(d, c, <CompiledRecord>table, buf, 0)
    if d.pos != d.end:
        raise _Refused("extra bytes")
    cls = c.class_by_code[code]
    if cls is None:
        cls = c.classes[type_name]  # (a generation without a class for it: refused as the pure one does)
    if table is None:
        return ControlFields(cls, type_name, node_id, timestamp, value, c.shapes[code], d.allow_pickle, buf,
                             d.buffers != NULL or d.received != NULL)
    if c.pickle_prefix is not None and not d.allow_pickle:
        pickled_strs.refuse_decoded(buf, d.buffers != NULL or d.received != NULL, node_id, value, c.pickle_prefix)
    return construct(cls, type_name, node_id, timestamp, value)


cdef class ControlFields:
    """A control message as read, before its class validates it: validated by ``validated`` outside
    the handler that hands refused frames to the pure backend, so that a message the class refuses is
    validated once, not again by the pure backend to explain it (their verdicts are the same: both
    read the same value and check it with the same functions)."""
    cdef object cls, type_name, node_id, timestamp, value, shape, buf
    cdef bint allow_pickle
    cdef bint with_buffers  # (their arrays' items are not in ``buf``: every value is looked at)

    def __init__(self, cls, type_name, node_id, timestamp, value, shape, bint allow_pickle, buf,
                 bint with_buffers):
        self.cls, self.type_name, self.node_id = cls, type_name, node_id
        self.timestamp, self.value, self.shape = timestamp, value, shape
        self.allow_pickle, self.buf, self.with_buffers = allow_pickle, buf, with_buffers


cdef object validated(object decoded, CompiledGeneration c):
    """The message of what ``decode_view`` returned: itself, or a control message checked and
    validated as the pure backend does it."""
    if type(decoded) is not ControlFields:
        return decoded
    cdef ControlFields fields = <ControlFields>decoded
    value = shapes.value_from_wire(c.generation, fields.shape, fields.value)
    if c.pickle_prefix is not None and not fields.allow_pickle:
        pickled_strs.refuse_decoded(fields.buf, fields.with_buffers, fields.node_id, value, c.pickle_prefix)
    return validate_control_message(fields.cls, fields.type_name, fields.node_id, fields.timestamp, value)


cdef object decode_buffer(object buf, CompiledGeneration c, object options, object buffers):
    cdef Py_buffer view
    if type(buf) is bytes:
        return decode_view(buf, <const uint8_t*>PyBytes_AS_STRING(<PyObject*>buf), len(<bytes>buf),
                           c, options, buffers, NULL)
    PyObject_GetBuffer(buf, &view, PyBUF_SIMPLE)
    try:
        return decode_view(buf, <const uint8_t*>view.buf, view.len, c, options, buffers, NULL)
    finally:
        PyBuffer_Release(&view)


def decode_frame(buf, generation=REFERENCE, options=DEFAULT_OPTIONS, buffers=None):
    """Decode one non-empty MessagePack frame (a buffer) of ``generation`` (or, given a dict of
    classes, of the reference building those classes), under the pickle policy and limits of
    ``options``; with ``buffers`` (a :class:`noobwire._core.out_of_band.ReceivedBuffers`), the header frame of a
    message whose buffer frames they are."""
    cdef CompiledGeneration c = tables_of(generation)
    return decode_checked(buf, c, options, buffers)


cdef object decode_checked(object buf, CompiledGeneration c, object options, object buffers):
    """``decode_frame`` once its generation's tables are found."""
    try:
        decoded = decode_buffer(buf, c, options, buffers)
    except Exception:
        pass
    else:
        return validated(decoded, c)
    # Outside the handler, so that the pure backend's error does not chain this one.
    return _explain_decode(buf, c, options, buffers)


cdef object _explain_decode(object buf, CompiledGeneration c, object options, object buffers):
    if buffers is not None:
        buffers.forget_references()  # the pure decoder reads the references again
    pure.decode_frame(buf, c.generation, options, buffers)  # raises the error that says what is wrong
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
    type is read as :func:`decode` reads it."""
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


cdef object decode_direct(object data, CompiledGeneration c, object options):
    """Decode the frame that ``data`` holds in its buffer, where it is a canonical frame of ``c``'s
    generation in one dimension of bytes; None where it is not (:func:`decode` then decides). A frame
    that the compiled path refuses goes to the pure backend to be explained, as in ``decode_frame``."""
    cdef Py_buffer view
    cdef const uint8_t* start
    cdef int64_t limit = c_options(options).max_frame_size
    try:
        PyObject_GetBuffer(data, &view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS)
    except Exception:  # a released memoryview, a non-contiguous one
        return None
    try:
        start = <const uint8_t*>view.buf
        if not (view.ndim == 1 and view.itemsize == 1 and (view.format == NULL or strcmp(view.format, b"B") == 0)
                and 2 <= view.len <= limit and start[0] == FRAME_ARRAY and start[1] == c.version):
            return None
        try:
            decoded = decode_view(data, start, view.len, c, options, None, NULL)
        except Exception:
            pass
        else:
            return validated(decoded, c)
    finally:
        PyBuffer_Release(&view)
    # Outside the handler, so that the pure backend's error does not chain this one.
    return _explain_decode(frame_buffer(data), c, options, None)


def decode(data, generation=REFERENCE, options=DEFAULT_OPTIONS):
    """Decode a noobwire MessagePack frame or a legacy JSON frame (see :func:`noobwire.decode`)."""
    cdef Py_ssize_t size
    cdef CompiledGeneration c = tables_of(generation)
    if type(data) is bytes:
        size = len(<bytes>data)
        if (size and size <= c_options(options).max_frame_size
                and not IS_JSON_FIRST_BYTE[(<const uint8_t*>PyBytes_AS_STRING(<PyObject*>data))[0]]):
            return decode_checked(data, c, options, None)
    elif reads_directly(data):
        msg = decode_direct(data, c, options)
        if msg is not None:
            return msg
    buf = frame_to_decode(data, options)
    if is_json(buf):
        msg = decode_json(buf, c.generation, options)
        written_again(msg, encode, c.generation, options)
        return msg
    return decode_checked(buf, c, options, None)


# --- frames, read in one pass ------------------------------------------------------------------------------
#
# decode_frames reads the common forms here: a header that is bytes or a buffer of bytes (a zmq.Frame),
# starting as every noobwire encoder starts it, and buffer frames that are bytes or zmq.Frames; the
# references read by resolve_received. For anything else, and whenever this refuses something, the
# general path (multipart.FrameCodec) reads the frames again, and decodes them or says what is wrong.

cdef object GENERAL = object()
"""decode_frames_c: the general path must read these frames."""
cdef object JSON_HEADER = object()
"""decode_frames_c: the header is a legacy JSON frame."""


cdef object take_received(Received* r, uint64_t index):
    if index >= <uint64_t>r.n or r.used[index]:
        raise _Refused("reference")
    r.used[index] = 1
    return <object>PyList_GET_ITEM(<object>r.frames, <Py_ssize_t>index)


cdef object resolve_received(Received* r, int code, const uint8_t* p, Py_ssize_t size):
    """A reference (extension code 16 to 31) to a buffer frame, in the common form: the frame's bytes, or an
    array that is a view of it; anything else is refused here (and read, or refused, by the general path)."""
    cdef uint64_t index = 0
    cdef Py_ssize_t pos
    cdef ArrayHeader h
    if code == EXT_BUFFER_BYTES:
        if read_uint_at(p, size, 0, &index) != size:
            raise _Refused("bytes reference")
        frame = take_received(r, index)
        if r.as_memoryview:
            return frame if type(frame) is memoryview else PyMemoryView_FromObject(frame)
        return frame if type(frame) is bytes else bytes(frame)
    if code == EXT_BUFFER_NDARRAY:
        if size < 1 or p[0] != 0x94 or (_ndarray_type is None and ndarray_type() is None):
            raise _Refused("array reference")
        pos = read_uint_at(p, size, 1, &index)
        dtype = read_array_items(p, size, &pos, &h) if pos > 0 else None
        if dtype is None or pos != size:
            raise _Refused("array reference")
        frame = take_received(r, index)
        if not holds_items(&h, len(frame)):
            raise _Refused("array reference length")
        return view_ndarray(&h, dtype, frame, r.fixed[index])
    raise _Refused("reference")


cdef bint one_dimension_of_bytes(object view) noexcept:
    cdef Py_buffer* b = PyMemoryView_GET_BUFFER(view)
    return (b.ndim == 1 and b.itemsize == 1 and (b.format == NULL or strcmp(b.format, b"B") == 0)
            and (b.strides == NULL or b.strides[0] == 1))  # (an empty view of any step is contiguous too)


cdef dict _read_as_stored = {list: True, tuple: True}


cdef bint reads_as_stored(type kind):
    """Whether a list or tuple of type ``kind`` gives its items as it stores them: a subclass that does
    not redefine how it is read (the runner hook's), whose items are read here from its storage; one
    that does goes to the general path, which reads it through its own methods."""
    known = _read_as_stored.get(kind)
    if known is None:
        base = list if issubclass(kind, list) else tuple
        known = all(getattr(kind, name) is getattr(base, name) for name in ("__getitem__", "__len__", "__iter__"))
        if len(_read_as_stored) < 64:
            _read_as_stored[kind] = known
    return known


cdef object decode_frames_c(object frames, CompiledGeneration c, object options, bint as_memoryview):
    """The message of ``frames`` (a list or tuple, header last) in the common forms; GENERAL for the
    general path, JSON_HEADER for a legacy JSON header."""
    cdef Py_buffer view
    cdef bint has_view = False
    cdef const uint8_t* p
    cdef Py_ssize_t size, count, n_buffers, first, i
    cdef int64_t limit
    cdef Received r
    cdef bint is_list = PyList_Check(frames)  # (a list or tuple, or a subclass: the runner hook's frames)
    if not (is_list or PyTuple_Check(frames)) or not reads_as_stored(type(frames)):
        return GENERAL
    count = PyList_GET_SIZE(frames) if is_list else PyTuple_GET_SIZE(frames)
    if count == 0:
        return GENERAL
    header = <object>(PyList_GET_ITEM(frames, count - 1) if is_list else PyTuple_GET_ITEM(frames, count - 1))
    if type(header) is bytes:
        p = <const uint8_t*>PyBytes_AS_STRING(<PyObject*>header)
        size = PyBytes_GET_SIZE(header)
    elif reads_directly(header):  # a zmq.Frame, a bytearray, a memoryview
        try:
            PyObject_GetBuffer(header, &view, PyBUF_FORMAT | PyBUF_C_CONTIGUOUS)
        except Exception:
            return GENERAL
        has_view = True
        p = <const uint8_t*>view.buf
        size = view.len
        if not (view.ndim == 1 and view.itemsize == 1 and (view.format == NULL or strcmp(view.format, b"B") == 0)):
            PyBuffer_Release(&view)
            return GENERAL
    else:
        return GENERAL
    try:
        if size >= 1 and IS_JSON_FIRST_BYTE[p[0]]:
            return JSON_HEADER
        if not (size >= 4 and p[0] == FRAME_ARRAY and p[1] == c.version and p[2] < 0x80 and p[3] < 0x80):
            return GENERAL
        n_buffers = p[3]
        if n_buffers == 0:
            try:
                return decode_view(header, p, size, c, options, None, NULL)
            except Exception:
                return GENERAL
        if n_buffers >= count or n_buffers > MAX_FAST_BUFFERS:
            return GENERAL
        limit = c_options(options).max_frame_size
        first = count - 1 - n_buffers
        held = PyList_New(n_buffers)
        for i in range(n_buffers):
            frame = <object>(PyList_GET_ITEM(frames, first + i) if is_list else PyTuple_GET_ITEM(frames, first + i))
            r.fixed[i] = type(frame) is bytes or (_ZMQ_FRAME is not None and type(frame) is _ZMQ_FRAME)
            if type(frame) is not bytes:  # (as multipart._buffer reads it: bytes kept, else a byte view)
                if not (type(frame) is bytearray or type(frame) is memoryview
                        or (_ZMQ_FRAME is not None and type(frame) is _ZMQ_FRAME)):
                    return GENERAL
                try:  # a view of its own (a zmq.Frame's is what its .buffer is, without its __getattr__)
                    frame = PyMemoryView_FromObject(frame)
                except Exception:  # a released memoryview: the general path says so
                    return GENERAL
                if not one_dimension_of_bytes(frame):
                    return GENERAL
            if len(frame) > limit:
                return GENERAL
            Py_INCREF(frame)
            PyList_SET_ITEM(held, i, <PyObject*>frame)
            r.used[i] = 0
        r.frames = <PyObject*>held
        r.n = n_buffers
        r.as_memoryview = as_memoryview
        try:
            msg = decode_view(header, p, size, c, options, None, &r)
        except Exception:
            return GENERAL
        for i in range(n_buffers):
            if not r.used[i]:
                return GENERAL
        return msg
    finally:
        if has_view:
            PyBuffer_Release(&view)


cdef object decode_frames_read(object frames, CompiledGeneration c, object options, bint as_memoryview):
    """The message of ``frames`` read in one pass, a control message validated by its class; GENERAL or
    JSON_HEADER where the general path must read them."""
    decoded = decode_frames_c(frames, c, options, as_memoryview)
    if decoded is GENERAL or decoded is JSON_HEADER:
        return decoded
    return validated(decoded, c)  # (outside decode_frames_c: a class's refusal is the verdict)


def decode_frames(frames, generation=REFERENCE, options=DEFAULT_OPTIONS, bint as_memoryview=False):
    """The message of ``frames`` (see :func:`noobwire.decode_frames`) read in one pass, or None where the
    general path (``noobwire.multipart.FrameCodec``) must read them: any other form, a legacy JSON header,
    anything refused (which the general path then refuses, saying what is wrong)."""
    msg = decode_frames_read(frames, tables_of(generation), options, as_memoryview)
    return None if msg is GENERAL or msg is JSON_HEADER else msg


cdef class FrameFunctions:
    """``encode_frames`` / ``decode_frames`` of one generation and options on the compiled backend, with no
    layer of Python between their caller and this module: what the package-level functions, a
    :class:`noobwire.Codec` and noob's runner hook call. Frames that ``decode_frames`` does not read in one
    pass go to ``general`` (``noobwire.multipart.FrameCodec.decode_frames_general``), which reads them or
    says what is wrong."""

    cdef CompiledGeneration c
    cdef object options
    cdef COptions co
    cdef object general

    def __init__(self, generation, options, general):
        self.c = tables_of(generation)
        self.options = options
        self.co = make_c_options(options)
        self.general = general

    def encode_frames(self, msg, generation=None, options=None, *, threshold=DEFAULT_BUFFER_THRESHOLD):
        """``[buffer_0, ..., header]`` of ``msg``: see :func:`noobwire.encode_frames`."""
        cdef CompiledGeneration c = self.c if generation is None else tables_of(generation)
        cdef COptions co = self.co if options is None or options is self.options else c_options(options)
        if type(threshold) is int and 0 <= threshold <= PY_SSIZE_T_MAX:
            frames = encode_frames_hot(c, msg, threshold, co)
            if frames is not None:
                return frames
        return encode_frames_general(msg, c, self.options if options is None else options, threshold)

    def encode_frames_at(self, msg, threshold):
        """``encode_frames(msg, threshold=threshold)``, as noob's runner hook calls it."""
        return self.encode_frames(msg, threshold=threshold)

    def decode_frames(self, frames, generation=None, options=None, *, buffers_as="bytes"):
        """The message of ``frames``: see :func:`noobwire.decode_frames`."""
        cdef CompiledGeneration c = self.c if generation is None else tables_of(generation)
        if options is None:
            options = self.options
        if buffers_as == "bytes" or buffers_as == "memoryview":
            msg = decode_frames_read(frames, c, options, buffers_as == "memoryview")
            if msg is not GENERAL and msg is not JSON_HEADER:
                return msg
        return self.general(frames, c.generation if generation is None else generation, options, buffers_as)
