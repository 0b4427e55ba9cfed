# cython: language_level=3
"""Calendar arithmetic for the compiled backend: days since 1970-01-01 to and from a proleptic
Gregorian date, without a datetime object (H. Hinnant's algorithms)."""

cimport cython
from libc.stdint cimport int64_t


cdef extern from *:
    """
    /* Floor division of C integers (C's own division truncates toward zero). */
    static inline int64_t noobwire_floor_div(int64_t a, int64_t b) {
        int64_t q = a / b;
        if ((a % b != 0) && ((a < 0) != (b < 0))) q -= 1;
        return q;
    }
    """
    int64_t floor_div "noobwire_floor_div" (int64_t a, int64_t b) noexcept


@cython.cdivision(True)
cdef inline int64_t days_from_civil(int64_t y, int64_t m, int64_t d) noexcept:
    """Days since 1970-01-01 of a proleptic Gregorian date."""
    y -= m <= 2
    cdef int64_t era = floor_div(y, 400)
    cdef int64_t yoe = y - era * 400
    cdef int64_t mp = m - 3 if m > 2 else m + 9
    cdef int64_t doy = (153 * mp + 2) // 5 + d - 1
    cdef int64_t doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@cython.cdivision(True)
cdef inline void civil_from_days(int64_t z, int* year, int* month, int* day) noexcept:
    """The date ``z`` days after 1970-01-01."""
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
