# cython: language_level=3, boundscheck=False, wraparound=False
"""The reading processes' quick way through a part of a log file (compiled with Cython):
Postfix smtpd's usual lines in rsyslog's traditional format — a connection's start or
end, its TLS line, a login — are scanned here byte by byte and turned straight into
logins (`checks.evidence.reading.Login`); every other line is handed, in order, to the
reader's own `LogReader.read`, which also reads these lines the same way (the tests hold
the two to each other). Only lines of printable ASCII take the quick way.

It follows `POSTFIX_LINE` and `LogReader.read` / `_postfix_connection` /
`_postfix_login` in `checks/evidence/parse.py` exactly; a change there is a change here.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.string cimport memcpy
from cpython.unicode cimport PyUnicode_DecodeASCII

from hashlib import blake2b

from checks.evidence.parse import LOGIN, MAX_LINE, PENDING, POSTFIX_SERVICE_PORTS

cdef bytes CONNECT = b"connect from "
cdef bytes DISCONNECT = b"disconnect from "
cdef bytes TLS_LINE = b"TLS connection established from "
cdef bytes WITH_CIPHER = b" with cipher"
cdef bytes CLIENT = b": client="
cdef bytes METHOD = b", sasl_method="
cdef bytes USERNAME = b", sasl_username="
cdef bytes SMTPD = b"/smtpd"


cdef inline bint _upper(unsigned char c):
    return 65 <= c <= 90


cdef inline bint _lower(unsigned char c):
    return 97 <= c <= 122


cdef inline bint _digit(unsigned char c):
    return 48 <= c <= 57


cdef inline bint _word(unsigned char c):  # \w on ASCII
    return _upper(c) or _lower(c) or _digit(c) or c == 95


cdef inline bint _at(const unsigned char* s, Py_ssize_t n, Py_ssize_t i, bytes what):
    """`what` starts at s[i] (within n)."""
    cdef Py_ssize_t k, m = len(what)
    cdef const unsigned char* w = what
    if i + m > n:
        return False
    for k in range(m):
        if s[i + k] != w[k]:
            return False
    return True


cdef inline str _ascii(const unsigned char* s, Py_ssize_t start, Py_ssize_t end):
    return PyUnicode_DecodeASCII(<const char*>s + start, end - start, NULL)


cdef inline Py_ssize_t _find(const unsigned char* s, Py_ssize_t i, Py_ssize_t n, unsigned char c):
    while i < n:
        if s[i] == c:
            return i
        i += 1
    return -1


def read_block(reader, bytes data, login, list logins, list pending):
    """Read `data` (whole lines of a log) with `reader` (a LogReader(blocks=True)): its
    logins are appended to `logins` and the PENDING ones' (index, connection, service) to
    `pending`, as `_block_read` gives them; `login(event, timestamps)` makes a login of
    an event that the reader's own way read."""
    cdef const unsigned char* s = data
    cdef Py_ssize_t n = len(data)
    cdef Py_ssize_t start = 0, end, i, j, k, host_end, tag_end, pid_end, msg
    cdef Py_ssize_t q_end = 0, remote_start = 0, remote_end = 0, method_end, user_start = 0
    cdef Py_ssize_t start_of_line
    cdef int kind
    cdef bint quick
    cdef unsigned char c
    cdef long lines = 0, skipped = 0, logged = 0, pid
    cdef Py_ssize_t max_line = MAX_LINE
    cdef unsigned long long number
    cdef bytes last_stamp = None, last_host = None, last_tag = None, last_version = None
    cdef bytes last_minute = None
    cdef double minute_start = 0
    cdef bint whole_minute = False
    cdef int second
    cdef unsigned char* into
    cdef dict stamps = reader._stamps
    cdef dict tls = reader._postfix_tls
    cdef set touched = reader._touched
    cdef dict services = reader._services
    # (host, pid) by the pid's last digits: a connection's lines share one tuple
    cdef list keys = [None] * 4096
    cdef long pids[4096]
    cdef tuple key
    counts = reader.counts
    other = []  # lines for the reader's own way, read before the next quick one
    timestamps = {}
    at = timestamp = host = tag = service = port = version_text = None

    def others():
        for event in reader.read(other):
            if event.tls_version == PENDING:
                pending.append((len(logins), event.connection, event.service))
            logins.append(login(event, timestamps))
        other.clear()

    while start < n:
        end = _find(s, start, n, 10)
        if end < 0:
            end = n
        quick = end - start <= max_line and end - start > 24
        if quick:
            for i in range(start, end):
                c = s[i]
                if c < 32 or c > 126:
                    quick = False
                    break
        # "Mmm dd hh:mm:ss host tag[pid]: " (POSTFIX_LINE's envelope)
        if quick:
            i = start
            quick = (
                _upper(s[i]) and _lower(s[i + 1]) and _lower(s[i + 2]) and s[i + 3] == 32
                and (s[i + 4] == 32 or _digit(s[i + 4])) and _digit(s[i + 5]) and s[i + 6] == 32
                and _digit(s[i + 7]) and _digit(s[i + 8]) and s[i + 9] == 58
                and _digit(s[i + 10]) and _digit(s[i + 11]) and s[i + 12] == 58
                and _digit(s[i + 13]) and _digit(s[i + 14]) and s[i + 15] == 32
            )
        if quick:
            host_end = i + 16
            while host_end < end and s[host_end] != 32 and s[host_end] != 58 and s[host_end] != 91:
                host_end += 1
            quick = host_end > i + 16 and host_end < end and s[host_end] == 32
        if quick:
            tag_end = host_end + 1
            while tag_end < end and s[tag_end] != 32 and s[tag_end] != 58 and s[tag_end] != 91:
                tag_end += 1
            quick = (
                tag_end < end and s[tag_end] == 91 and tag_end - (host_end + 1) >= 6
                and _at(s, end, tag_end - 6, SMTPD)
            )
        if quick:
            pid_end = tag_end + 1
            while pid_end < end and _digit(s[pid_end]):
                pid_end += 1
            quick = (
                pid_end > tag_end + 1 and pid_end + 3 <= end and s[pid_end] == 93
                and s[pid_end + 1] == 58 and s[pid_end + 2] == 32
            )
        kind = 0  # 1: start or end, 2: TLS, 3: login
        if quick:
            msg = pid_end + 3
            if _at(s, end, msg, CONNECT) or _at(s, end, msg, DISCONNECT):
                kind = 1
            else:
                # TLS: "(?:\w+ )?TLS connection established from \S+: (\S+) with cipher"
                j = msg
                while j < end and _word(s[j]):
                    j += 1
                if j > msg and j < end and s[j] == 32 and _at(s, end, j + 1, TLS_LINE):
                    k = j + 1 + len(TLS_LINE)
                elif _at(s, end, msg, TLS_LINE):
                    k = msg + len(TLS_LINE)
                else:
                    k = -1
                if k >= 0:
                    j = k
                    while j < end and s[j] != 32:
                        j += 1
                    # the client: a run ending in ":" (at least one character before it)
                    if j - k >= 2 and s[j - 1] == 58 and j < end:
                        k = j + 1
                        j = k
                        while j < end and s[j] != 32:
                            j += 1
                        if j > k and _at(s, end, j, WITH_CIPHER):
                            kind = 2
                            remote_start, remote_end = k, j  # the version
                if kind == 0:
                    # "([0-9A-Za-z]+): client=[^\[]*\[([^\]]+)\](?::\d+)?, sasl_method=[^,]+,
                    #  sasl_username=([^,]{1,320})$"
                    q_end = msg
                    while q_end < end and (_upper(s[q_end]) or _lower(s[q_end]) or _digit(s[q_end])):
                        q_end += 1
                    if q_end > msg and _at(s, end, q_end, CLIENT):
                        j = _find(s, q_end + len(CLIENT), end, 91)
                        if j >= 0:
                            remote_start = j + 1
                            remote_end = _find(s, remote_start, end, 93)
                            if remote_end > remote_start:
                                j = remote_end + 1
                                if j < end and s[j] == 58:
                                    k = j + 1
                                    while k < end and _digit(s[k]):
                                        k += 1
                                    if k > j + 1 and _at(s, end, k, METHOD):
                                        j = k
                                if _at(s, end, j, METHOD):
                                    j += len(METHOD)
                                    method_end = _find(s, j, end, 44)
                                    if method_end > j and _at(s, end, method_end, USERNAME):
                                        user_start = method_end + len(USERNAME)
                                        if (
                                            0 < end - user_start <= 320
                                            and _find(s, user_start, end, 44) < 0
                                        ):
                                            kind = 3
        if kind == 0:
            other.append(data[start:end].decode("utf-8", "replace"))
            start = end + 1
            continue
        if other:
            others()
        lines += 1
        start_of_line = start
        start = end + 1
        if last_stamp is None or not _at(s, end, start_of_line, last_stamp):
            # A minute's times are worked out once (its first and last second: both
            # plausible, so is every second between); a second is added here. Any other
            # minute (a time too old, an impossible one) is judged second by second.
            last_stamp = PyBytes_FromStringAndSize(<const char*>s + start_of_line, 15)
            second = (s[start_of_line + 13] - 48) * 10 + (s[start_of_line + 14] - 48)
            if last_minute is None or not _at(s, end, start_of_line, last_minute):
                last_minute = PyBytes_FromStringAndSize(<const char*>s + start_of_line, 12)
                minute_text = _ascii(s, start_of_line, start_of_line + 12)
                first = stamps.get(minute_text + ":00") or reader._stamp(minute_text + ":00")
                final = stamps.get(minute_text + ":59") or reader._stamp(minute_text + ":59")
                whole_minute = first.__class__ is not str and final.__class__ is not str
                if whole_minute:
                    minute_start = first.timestamp()
            if whole_minute and second <= 59:
                at = None  # a time (not why there is none)
                timestamp = minute_start + second
            else:
                stamp = _ascii(s, start_of_line, start_of_line + 15)
                at = stamps.get(stamp) or reader._stamp(stamp)
                if at.__class__ is not str:
                    timestamp = at.timestamp()
        if at.__class__ is str:  # GARBAGE or BAD_TIME
            counts[at] += 1
            continue
        if last_host is None or host_end - (start_of_line + 16) != len(last_host) or not _at(
            s, host_end, start_of_line + 16, last_host
        ):
            last_host = data[start_of_line + 16:host_end]
            host = _ascii(s, start_of_line + 16, host_end)
        pid = 1  # the digits after a 1: "0123" and "123" differ
        for j in range(tag_end + 1, min(pid_end, tag_end + 18)):
            pid = pid * 10 + (s[j] - 48)
        key = keys[pid & 4095]
        if key is None or pids[pid & 4095] != pid or key[0] is not host or pid_end - tag_end > 17:
            key = (host, _ascii(s, tag_end + 1, pid_end))
            keys[pid & 4095] = key
            pids[pid & 4095] = pid
        if kind == 1 or kind == 2:
            if kind == 1:
                tls.pop(key, None)
            else:
                if last_version is None or remote_end - remote_start != len(last_version) or not _at(
                    s, remote_end, remote_start, last_version
                ):
                    last_version = data[remote_start:remote_end]
                    version_text = _ascii(s, remote_start, remote_end)
                tls[key] = version_text
                if len(tls) > 100_000:  # connections whose end we never saw
                    tls.clear()
            touched.add(key)
            skipped += 1
            continue
        if last_tag is None or tag_end - (host_end + 1) != len(last_tag) or not _at(
            s, tag_end, host_end + 1, last_tag
        ):
            last_tag = data[host_end + 1:tag_end]
            tag = _ascii(s, host_end + 1, tag_end)
            service = services.get(tag) or reader._service(tag)
            port = POSTFIX_SERVICE_PORTS.get(service)
        # The session's key as `reading._login` makes it: "login|postfix:host:pid:queue".
        j = host_end - start_of_line - 16
        k = pid_end - tag_end - 1
        session = PyBytes_FromStringAndSize(NULL, 14 + j + 1 + k + 1 + (q_end - msg))
        into = <unsigned char*>PyBytes_AS_STRING(session)
        memcpy(into, <const char*>b"login|postfix:", 14)
        memcpy(into + 14, s + start_of_line + 16, j)
        into[14 + j] = 58
        memcpy(into + 15 + j, s + tag_end + 1, k)
        into[15 + j + k] = 58
        memcpy(into + 16 + j + k, s + msg, q_end - msg)
        digest = blake2b(session, digest_size=16).digest()
        number = 0
        for j in range(8):
            number = (number << 8) | <unsigned char>digest[j]
        if key in touched:
            version = tls.get(key)
            secure = version is not None or service == "smtps"
        else:
            version, secure = PENDING, True  # as _postfix_login has them, until resolved
            pending.append((len(logins), key, service))
        logins.append(
            (
                number,
                timestamp,
                LOGIN,
                "smtp",
                _ascii(s, user_start, end).strip(),
                _ascii(s, remote_start, remote_end),
                None,
                port,
                secure,
                version,
            )
        )
        logged += 1
    if other:
        others()
    counts["lines"] += lines
    counts["skipped"] += skipped
    if logged:
        counts[LOGIN] += logged

