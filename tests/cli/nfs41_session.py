#!/usr/bin/env python3
"""Creates one NFSv4.1 client and session on a dfs server (EXCHANGE_ID + CREATE_SESSION over
raw ONC RPC), so the CLI test has a client and a session to list, show, destroy and evict.
The state outlives the connection until the lease expires. Prints "CLIENTID SESSIONID" in
hex, as the REST API shows them.

With "hold" it keeps the connection open after printing, until the server closes it (a
drain), so the CLI test has a live connection bound to the session.

Usage: nfs41_session.py PORT OWNER [hold]
"""
import socket
import struct
import sys

NFS_PROGRAM, NFS_V4, COMPOUND = 100003, 4, 1
OP_EXCHANGE_ID, OP_CREATE_SESSION = 42, 43
AUTH_NONE, AUTH_SYS = 0, 1


def opaque(data: bytes) -> bytes:
    pad = (4 - len(data) % 4) % 4
    return struct.pack(">I", len(data)) + data + b"\0" * pad


def u32(v: int) -> bytes:
    return struct.pack(">I", v)


def u64(v: int) -> bytes:
    return struct.pack(">Q", v)


class Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def u32(self) -> int:
        (v,) = struct.unpack_from(">I", self.data, self.pos)
        self.pos += 4
        return v

    def u64(self) -> int:
        (v,) = struct.unpack_from(">Q", self.data, self.pos)
        self.pos += 8
        return v

    def fixed(self, n: int) -> bytes:
        v = self.data[self.pos:self.pos + n]
        self.pos += n + (4 - n % 4) % 4
        return v

    def opaque(self) -> bytes:
        return self.fixed(self.u32())


def call(sock: socket.socket, xid: int, ops: bytes, nops: int) -> Reader:
    cred = u32(AUTH_SYS) + opaque(u32(0) + opaque(b"dfsctl-test") + u32(0) + u32(0) + u32(0))
    body = (u32(xid) + u32(0) + u32(2) + u32(NFS_PROGRAM) + u32(NFS_V4) + u32(COMPOUND) +
            cred + u32(AUTH_NONE) + u32(0) +
            opaque(b"") + u32(1) + u32(nops) + ops)  # tag, minorversion 1, ops
    sock.sendall(u32(0x80000000 | len(body)) + body)
    reply = b""
    last = False
    while not last:
        hdr = recv_exact(sock, 4)
        (mark,) = struct.unpack(">I", hdr)
        last = bool(mark & 0x80000000)
        reply += recv_exact(sock, mark & 0x7FFFFFFF)
    r = Reader(reply)
    if r.u32() != xid or r.u32() != 1 or r.u32() != 0:
        sys.exit("unexpected RPC reply")
    r.u32()  # verifier flavor
    r.opaque()
    if r.u32() != 0:
        sys.exit("RPC call not accepted")
    status = r.u32()
    r.opaque()  # tag
    r.u32()  # result count
    if status != 0:
        sys.exit(f"COMPOUND failed with status {status}")
    return r


def recv_exact(sock: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            sys.exit("connection closed")
        out += chunk
    return out


def channel_attrs(max_size: int, max_ops: int, max_reqs: int) -> bytes:
    return u32(0) + u32(max_size) + u32(max_size) + u32(4096) + u32(max_ops) + u32(max_reqs) + u32(0)


def main() -> None:
    port, owner = int(sys.argv[1]), sys.argv[2].encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        impl = opaque(b"dittofs.test") + opaque(b"dfsctl test client") + u64(0) + u32(0)
        exchange = (u32(OP_EXCHANGE_ID) + b"verifier" + opaque(owner) + u32(0) + u32(0) +
                    u32(1) + impl)
        r = call(sock, 1, exchange, 1)
        r.u32()  # op
        r.u32()  # status (0: the compound status said so)
        clientid, sequence = r.u64(), r.u32()
        create = (u32(OP_CREATE_SESSION) + u64(clientid) + u32(sequence) + u32(0) +
                  channel_attrs(1048576, 16, 8) + channel_attrs(4096, 2, 1) +
                  u32(0x40000000) + u32(1) + u32(AUTH_NONE))
        r = call(sock, 2, create, 1)
        r.u32()
        r.u32()
        sessionid = r.fixed(16)
        print(f"{clientid:016x} {sessionid.hex()}", flush=True)
        if len(sys.argv) > 3 and sys.argv[3] == "hold":
            sock.settimeout(120)
            while sock.recv(4096):
                pass


if __name__ == "__main__":
    main()
