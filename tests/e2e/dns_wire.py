"""DNS over UDP for end-to-end tests, by hand (standard library only): one query with EDNS(0),
the answer's rcode and records decoded."""
import random
import socket
import struct

TYPE_A, TYPE_TXT, TYPE_SRV = 1, 16, 33
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def read_name(msg, off):
    """(name as latin-1 text, offset after the name in the record)."""
    labels, end, hops = [], None, 0
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            hops += 1
            if hops > 64:
                raise ValueError("compression loop")
            continue
        if n == 0:
            off += 1
            break
        labels.append(msg[off + 1:off + 1 + n].decode("latin-1"))
        off += 1 + n
    return ".".join(labels), (end if end is not None else off)


def dns_query(port, name, qtype, tries=3, timeout=1.0, authority=False):
    """(rcode name, [(type, ttl, value)]) or ("TIMEOUT", []); with authority=True a third
    item, the authority section's [(type, ttl)]."""
    for _ in range(tries):
        qid = random.randrange(1 << 16)
        # EDNS(0) with a 4096-byte payload: several SRV records do not fit in 512 bytes.
        query = struct.pack(">HHHHHH", qid, 0, 1, 0, 0, 1) + encode_name(name) + \
            struct.pack(">HH", qtype, 1) + b"\0" + struct.pack(">HHIH", 41, 4096, 0, 0)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(query, ("127.0.0.1", port))
            try:
                while True:
                    msg = s.recv(65535)
                    if len(msg) >= 12 and struct.unpack(">H", msg[:2])[0] == qid:
                        break
            except socket.timeout:
                continue
        _, flags, qd, an, _, _ = struct.unpack(">HHHHHH", msg[:12])
        off = 12
        for _ in range(qd):
            _, off = read_name(msg, off)
            off += 4
        records = []
        for _ in range(an):
            _, off = read_name(msg, off)
            rtype, _, ttl, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
            off += 10
            rdata = msg[off:off + rdlen]
            if rtype == TYPE_A:
                value = socket.inet_ntoa(rdata)
            elif rtype == TYPE_SRV:
                prio, weight, sport = struct.unpack(">HHH", rdata[:6])
                value = (prio, weight, sport, read_name(msg, off + 6)[0])
            elif rtype == TYPE_TXT:
                value, i = [], 0
                while i < len(rdata):
                    value.append(rdata[i + 1:i + 1 + rdata[i]])
                    i += 1 + rdata[i]
            else:
                value = rdata
            records.append((rtype, ttl, value))
            off += rdlen
        status = "TRUNCATED" if flags & 0x0200 else RCODES.get(flags & 0xF, str(flags & 0xF))
        if not authority:
            return status, records
        ns = struct.unpack(">H", msg[8:10])[0]
        auth = []
        for _ in range(ns):
            _, off = read_name(msg, off)
            rtype, _, ttl, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
            auth.append((rtype, ttl))
            off += 10 + rdlen
        return status, records, auth
    return ("TIMEOUT", [], []) if authority else ("TIMEOUT", [])
