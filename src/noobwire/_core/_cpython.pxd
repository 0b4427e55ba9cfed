# cython: language_level=3
"""What the compiled backend uses of CPython's C API beyond Cython's own declarations, and of its
private layouts: the table of a str-keyed dict (to fill a copy of a template dict without a lookup per
key) and the slots of a pydantic model (to build one without running ``__init__``).

Both private layouts are checked where they are used, and anything unexpected falls back on the public
API: the dict table is the same in CPython 3.11, 3.12 and 3.13 (default builds, not free-threaded).
"""

from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_DECREF, Py_INCREF


cdef extern from "Python.h":
    ctypedef struct Py_buffer:
        void* buf
        Py_ssize_t len
        Py_ssize_t itemsize
        int ndim
        char* format
        Py_ssize_t* shape
        Py_ssize_t* strides
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
    bint PyUnicode_IS_COMPACT_ASCII(object o)
    Py_ssize_t PyUnicode_Tailmatch(object s, object substr, Py_ssize_t start, Py_ssize_t end,
                                   int direction) except -1

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
    Py_ssize_t Py_SIZE(object o)  # (of a list or a tuple: its length)
    PyObject** PySequence_Fast_ITEMS(object o)  # (of a list or a tuple: its items, borrowed)

    object _PyDict_NewPresized(Py_ssize_t n)
    PyObject* PyDict_GetItem(object d, object key)
    PyObject* PyDict_GetItemWithError(object d, object key) except? NULL
    int PyDict_SetItem(object d, object key, object value) except -1
    Py_ssize_t PyDict_GET_SIZE(object d)  # (a macro: every caller holds a dict)
    int PyDict_Next(object d, Py_ssize_t* pos, PyObject** key, PyObject** value)
    object PySet_New(object iterable)
    object PyDict_Copy(object d)
    object PyFrozenSet_New(object iterable)

    void incref "Py_INCREF" (PyObject* o)
    void decref "Py_DECREF" (PyObject* o)
    PyTypeObject* type_of "Py_TYPE" (PyObject* o)
    bint PyType_Check(object o)
    bint PyType_IsSubtype(PyTypeObject* a, PyTypeObject* b)
    PyTypeObject* Py_TYPE(object o)
    int PyObject_GenericSetDict(object o, object value, void* context) except -1
    int PyObject_GenericSetAttr(object o, object name, object value) except -1
    object PyObject_CallOneArg(object callable, object arg)
    object PyMemoryView_FromObject(object o)
    PyObject** _PyObject_GetDictPtr(object o)


# --- a small int's value, without a call ------------------------------------------------------------

cdef extern from *:
    """
    /* Whether the exact int ``o`` fits one digit (|o| < 2**30), and if so its value in *out: the common
       case of an int in a message, read from the object's own layout rather than through a call. */
    static inline int noobwire_small_int(PyObject *o, long long *out) {
    #if PY_VERSION_HEX >= 0x030C0000
        if (PyUnstable_Long_IsCompact((PyLongObject *)o)) {
            *out = (long long)PyUnstable_Long_CompactValue((PyLongObject *)o);
            return 1;
        }
        return 0;
    #else
        Py_ssize_t size = Py_SIZE(o);
        if (size == 0) { *out = 0; return 1; }
        if (size == 1) { *out = (long long)((PyLongObject *)o)->ob_digit[0]; return 1; }
        if (size == -1) { *out = -(long long)((PyLongObject *)o)->ob_digit[0]; return 1; }
        return 0;
    #endif
    }
    """
    bint noobwire_small_int(object o, long long* out) noexcept


# --- a copy of a template dict, filled in place ----------------------------------------------------

cdef extern from *:
    """
    /* The dicts the decoder builds (records, a message's __dict__) have fixed keys. A copy of a template
       dict has those keys' table cloned already; its values are then put in place without a lookup
       each. This needs the layout of a combined, str-keyed dict table, which is private to CPython:
       it is the same in 3.11, 3.12 and 3.13 (default builds), and noobwire_template_entries checks
       what it can (no split table, str keys, the count, each key by identity) and otherwise returns
       NULL, for the caller to fall back on PyDict_SetItem. */
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
    #else
    typedef struct { PyObject *me_key; PyObject *me_value; } noobwire_str_entry;
    #endif

    /* The entries of ``d`` (a fresh copy of a template holding ``keys`` in order), or NULL if its table
       is not the layout this code knows. */
    static noobwire_str_entry *noobwire_template_entries(PyObject *d, PyObject *const *keys,
                                                         Py_ssize_t n) {
    #if !defined(Py_GIL_DISABLED) && PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030E0000
        PyDictObject *mp = (PyDictObject *)d;
        noobwire_dict_keys *dk = (noobwire_dict_keys *)mp->ma_keys;
        if (mp->ma_values != NULL || mp->ma_used != n || dk->dk_kind != NOOBWIRE_DICT_KEYS_UNICODE
                || dk->dk_nentries != n || dk->dk_refcnt != 1) {
            return NULL;
        }
        noobwire_str_entry *entries =
            (noobwire_str_entry *)(dk->dk_indices + ((size_t)1 << dk->dk_log2_index_bytes));
        for (Py_ssize_t i = 0; i < n; i++) {
            if (entries[i].me_key != keys[i]) return NULL;
        }
        return entries;
    #else
        (void)d; (void)keys; (void)n;
        return NULL;
    #endif
    }

    /* Put ``value`` (a new reference is taken) in entry ``i`` of a dict whose entries ``entries`` are;
       returns whether ``value`` may hold references (the dict must then be tracked by the cycle
       collector: see noobwire_track). */
    static inline int noobwire_entry_put(noobwire_str_entry *entries, Py_ssize_t i, PyObject *value) {
        PyObject *old = entries[i].me_value;
        Py_INCREF(value);
        entries[i].me_value = value;
        Py_XDECREF(old);
        return PyObject_IS_GC(value);
    }

    /* Track ``d`` for the cycle collector, as PyDict_SetItem would have, if it holds a container. */
    static inline void noobwire_track(PyObject *d, int holds_containers) {
        if (holds_containers && !PyObject_GC_IsTracked(d)) {
            PyObject_GC_Track(d);
        }
    }
    """
    ctypedef struct noobwire_str_entry:
        pass
    noobwire_str_entry* noobwire_template_entries(object d, PyObject** keys, Py_ssize_t n)
    bint noobwire_entry_put(noobwire_str_entry* entries, Py_ssize_t i, object value)
    void noobwire_track(object d, bint holds_containers)


cdef inline object dict_from_template(dict template, PyObject** keys, PyObject** items, Py_ssize_t n):
    """A new dict of ``keys`` (``template``'s, in its order) holding ``items``."""
    result = PyDict_Copy(template)
    cdef noobwire_str_entry* entries = noobwire_template_entries(result, keys, n)
    cdef Py_ssize_t i
    cdef bint holds_containers = False
    for i in range(n):
        if entries != NULL:
            holds_containers |= noobwire_entry_put(entries, i, <object>items[i])
        else:
            PyDict_SetItem(result, <object>keys[i], <object>items[i])
    noobwire_track(result, holds_containers)
    return result


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


# --- a pydantic model built without __init__ -------------------------------------------------------

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


cdef inline Py_ssize_t slot_offset(object owner, str name) except -1:
    """Where the instances of ``owner`` keep the slot ``name`` (an ImportError if it is not a slot)."""
    descriptor = owner.__dict__[name]
    if type(descriptor).__name__ != "member_descriptor":
        raise ImportError(f"{owner.__qualname__}.{name} is not a slot")
    return (<PyMemberDescrObject*>descriptor).d_member.offset


cdef inline void set_new_slot(object obj, Py_ssize_t offset, object value) noexcept:
    """Fill an empty slot of a new instance (takes a new reference to ``value``)."""
    Py_INCREF(value)
    (<PyObject**>((<char*><PyObject*>obj) + offset))[0] = <PyObject*>value


cdef inline object new_instance(object cls, PyTypeObject* base):
    """A zeroed instance of ``cls`` (a subclass of ``base`` whose ``__new__`` is ``object.__new__``),
    as ``object.__new__`` makes it, or None where ``cls`` is not such a class."""
    cdef PyTypeObjectSlots* slots = <PyTypeObjectSlots*>cls
    cdef PyObject* allocated
    if not (PyType_Check(cls) and PyType_IsSubtype(<PyTypeObject*>cls, base)
            and slots.tp_new == (<PyTypeObjectSlots*>&PyBaseObject_Type).tp_new
            and not (slots.tp_flags & Py_TPFLAGS_IS_ABSTRACT)):
        return None
    allocated = slots.tp_alloc(<PyTypeObject*>cls, 0)
    if allocated == NULL:
        raise MemoryError()
    msg = <object>allocated
    Py_DECREF(msg)
    return msg
