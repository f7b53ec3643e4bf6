#!/usr/bin/python3
"""pcscio.py - talk to pcscd's virtual readers through libpcsclite (ctypes).

    pcscio.py status IDX present|absent|any
        exit 0 when vpcd reader IDX ("Virtual PCD 00 0IDX", or "Virtual Pinpad
        00 0IDX" under pcsc.sh start --pinpad) exists and holds
        a card / holds none / exists at all; 1 otherwise
    pcscio.py apdu IDX [--repeat N] APDU...
        send each hex APDU (exactly as given: no GET RESPONSE, no retries)
        and print "APDU -> RESPONSE"; with --repeat, send the list N times
        and print the mean round trip per APDU on stderr
    pcscio.py send IDX APDU...
        like apdu, but answer 61xx with GET RESPONSE and 6Cxx by sending the
        command again with Le=xx, as a T=0 host does
    pcscio.py read IDX SELECT_APDU...
        send the SELECT APDUs (each must give 9000), then READ BINARY the
        selected EF to its end and write its bytes to stdout
    pcscio.py atr IDX
        print the ATR

PCSCLITE_CSOCK_NAME selects the pcscd.  Used by pcsc.sh and selftest.sh.
"""

import ctypes
import sys
import time

SCARD_SCOPE_SYSTEM = 2
SCARD_SHARE_SHARED = 2
SCARD_PROTOCOL_T0 = 1
SCARD_PROTOCOL_T1 = 2
SCARD_LEAVE_CARD = 0
SCARD_STATE_UNAWARE = 0
SCARD_STATE_PRESENT = 0x20


class ReaderState(ctypes.Structure):
    # pcsc-lite's SCARD_READERSTATE (DWORD is unsigned long on Linux).
    _fields_ = [("szReader", ctypes.c_char_p),
                ("pvUserData", ctypes.c_void_p),
                ("dwCurrentState", ctypes.c_ulong),
                ("dwEventState", ctypes.c_ulong),
                ("cbAtr", ctypes.c_ulong),
                ("rgbAtr", ctypes.c_ubyte * 33)]


class IoRequest(ctypes.Structure):
    _fields_ = [("dwProtocol", ctypes.c_ulong), ("cbPciLength", ctypes.c_ulong)]


class PCSC:
    def __init__(self):
        self.lib = ctypes.CDLL("libpcsclite.so.1")
        self.ctx = ctypes.c_long()
        rv = self.lib.SCardEstablishContext(SCARD_SCOPE_SYSTEM, None, None, ctypes.byref(self.ctx))
        if rv:
            raise OSError("SCardEstablishContext: 0x%08X" % (rv & 0xFFFFFFFF))

    def close(self):
        self.lib.SCardReleaseContext(self.ctx)

    def reader(self, idx):
        size = ctypes.c_ulong()
        if self.lib.SCardListReaders(self.ctx, None, None, ctypes.byref(size)):
            return None
        buf = ctypes.create_string_buffer(size.value)
        if self.lib.SCardListReaders(self.ctx, None, buf, ctypes.byref(size)):
            return None
        names = [n for n in buf.raw[:size.value].split(b"\0") if n]
        mine = [n for n in names if n.startswith((b"Virtual PCD", b"Virtual Pinpad")) and n.endswith(b" %02d" % idx)]
        return mine[0] if mine else None

    def present(self, name):
        st = ReaderState()
        st.szReader = name
        st.dwCurrentState = SCARD_STATE_UNAWARE
        self.lib.SCardGetStatusChange.argtypes = [ctypes.c_long, ctypes.c_ulong,
                                                  ctypes.POINTER(ReaderState), ctypes.c_ulong]
        if self.lib.SCardGetStatusChange(self.ctx, 0, ctypes.byref(st), 1):
            return None
        return bool(st.dwEventState & SCARD_STATE_PRESENT), bytes(st.rgbAtr[:st.cbAtr])

    def connect(self, name):
        h, proto = ctypes.c_long(), ctypes.c_ulong()
        rv = self.lib.SCardConnect(self.ctx, name, SCARD_SHARE_SHARED,
                                   SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                                   ctypes.byref(h), ctypes.byref(proto))
        if rv:
            raise OSError("SCardConnect: 0x%08X" % (rv & 0xFFFFFFFF))
        return h, proto.value

    def transmit(self, h, proto, apdu):
        pci = IoRequest(proto, ctypes.sizeof(IoRequest))
        out = ctypes.create_string_buffer(65538)
        n = ctypes.c_ulong(len(out))
        rv = self.lib.SCardTransmit(h, ctypes.byref(pci), apdu, len(apdu), None, out, ctypes.byref(n))
        if rv:
            raise OSError("SCardTransmit: 0x%08X" % (rv & 0xFFFFFFFF))
        return out.raw[:n.value]


def exchange(p, h, proto, apdu):
    """Transmit with T=0 style 61xx / 6Cxx handling."""
    r = p.transmit(h, proto, apdu)
    data = b""
    while True:
        if len(r) == 2 and r[0] == 0x6C:
            r = p.transmit(h, proto, apdu[:4] + bytes([r[1]]) if len(apdu) <= 5
                           else apdu[:-1] + bytes([r[1]]))
            continue
        if r[-2] == 0x61:
            data += r[:-2]
            r = p.transmit(h, proto, bytes([0x00, 0xC0, 0x00, 0x00, r[-1]]))
            continue
        return data + r


def read_ef(p, h, proto):
    out, offset = b"", 0
    while offset <= 0x7FFF:
        r = exchange(p, h, proto, bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, 0x00]))
        data, sw = r[:-2], r[-2:]
        out += data
        offset += len(data)
        if sw == b"\x6b\x00" or sw == b"\x62\x82" or (sw == b"\x90\x00" and len(data) < 256):
            return out
        if sw != b"\x90\x00":
            raise OSError("READ BINARY at %d: %s" % (offset, sw.hex().upper()))
    return out


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, idx = argv[1], int(argv[2])
    p = PCSC()
    try:
        name = p.reader(idx)
        if cmd == "status":
            if name is None:
                return 1
            if argv[3] == "any":
                return 0
            st = p.present(name)
            return 0 if st is not None and st[0] == (argv[3] == "present") else 1
        if name is None:
            print("no reader %d" % idx, file=sys.stderr)
            return 1
        if cmd == "atr":
            print(p.present(name)[1].hex().upper())
            return 0
        if cmd == "read":
            h, proto = p.connect(name)
            try:
                for a in argv[3:]:
                    r = exchange(p, h, proto, bytes.fromhex(a))
                    if r[-2:] != b"\x90\x00":
                        print("%s -> %s" % (a, r.hex().upper()), file=sys.stderr)
                        return 1
                sys.stdout.buffer.write(read_ef(p, h, proto))
            finally:
                p.lib.SCardDisconnect(h, SCARD_LEAVE_CARD)
            return 0
        if cmd in ("apdu", "send"):
            args, repeat = argv[3:], 0
            if args[:1] == ["--repeat"]:
                repeat, args = int(args[1]), args[2:]
            apdus = [bytes.fromhex(a) for a in args]
            h, proto = p.connect(name)
            try:
                if repeat:
                    t = time.perf_counter()
                    for _ in range(repeat):
                        for a in apdus:
                            p.transmit(h, proto, a)
                    dt = (time.perf_counter() - t) / (repeat * len(apdus))
                    print("%.3f ms per APDU (%d APDUs, T=%d)" % (dt * 1000, repeat * len(apdus),
                                                               0 if proto == 1 else 1),
                          file=sys.stderr)
                for a in apdus:
                    r = exchange(p, h, proto, a) if cmd == "send" else p.transmit(h, proto, a)
                    print("%s -> %s" % (a.hex().upper(), r.hex().upper()))
            finally:
                p.lib.SCardDisconnect(h, SCARD_LEAVE_CARD)
            return 0
        print(__doc__, file=sys.stderr)
        return 2
    finally:
        p.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
