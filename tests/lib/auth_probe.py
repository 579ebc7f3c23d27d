"""An HTTP endpoint on 127.0.0.1 that asks for NTLM or Negotiate authentication
and records what the client sends, to check that ccrup's winrm_auth reaches
libcurl (tests/integration/winrm.sh, docs/winrm.md "What is tested").

usage: auth_probe.py ntlm|negotiate PORTFILE LOG

Binds an ephemeral-free port (from 20000 up), writes it to PORTFILE, then
serves until killed.  Every request is one line of LOG (JSON): the connection
number, the method, the body length and the Authorization header.  A request
without credentials, or with anything but the scheme asked for, gets 401 with
`WWW-Authenticate: SCHEME` and `WWW-Authenticate: Basic realm="WSMAN"` (as a
Windows listener with Basic also enabled answers): a client told to use SCHEME
must not fall back to sending the password with Basic.

NTLM: a type-1 (NEGOTIATE_MESSAGE) gets 401 with a type-2 (CHALLENGE_MESSAGE)
built here from its published layout (MS-NLMP 2.2.1.2: signature, type, target
name, flags, an 8-byte server challenge, target info with the domain and
computer names); a type-3 (AUTHENTICATE_MESSAGE) is decoded (MS-NLMP 2.2.1.3:
domain, user and workstation names, the length of the NT response) into LOG
and answered 401.  The response itself is not verified: that needs MD4 and
HMAC-MD5 over the password, i.e. an NTLM server, which Debian does not ship
and which is not written here.

Negotiate: the Authorization header (if any) is recorded and answered 401.
"""
import base64
import json
import os
import struct
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NTLMSSP = b"NTLMSSP\0"
DOMAIN = "CCRSIM"
SERVER = "PROBE"


def utf16(s):
    return s.encode("utf-16-le")


def challenge():
    """A CHALLENGE_MESSAGE: Unicode, NTLM, target info, extended session security."""
    flags = 0x00000001 | 0x00000004 | 0x00000200 | 0x00010000 | 0x00080000 | 0x00800000 \
        | 0x20000000 | 0x80000000 | 0x02000000
    name = utf16(DOMAIN)
    info = b""
    for kind, value in ((2, DOMAIN), (1, SERVER), (4, DOMAIN.lower()), (3, SERVER.lower())):
        v = utf16(value)
        info += struct.pack("<HH", kind, len(v)) + v
    info += struct.pack("<HH", 0, 0)
    head = 56  # signature 8, type 4, target name 8, flags 4, challenge 8, reserved 8,
    #            target info 8, version 8
    msg = NTLMSSP + struct.pack("<I", 2)
    msg += struct.pack("<HHI", len(name), len(name), head)
    msg += struct.pack("<I", flags)
    msg += b"\x01\x23\x45\x67\x89\xab\xcd\xef" + b"\0" * 8
    msg += struct.pack("<HHI", len(info), len(info), head + len(name))
    msg += bytes([6, 1, 0x1d, 0x1e, 0, 0, 0, 15])  # version 6.1.7709, NTLMSSP revision 15
    return msg + name + info


def field(msg, off):
    n, _, at = struct.unpack_from("<HHI", msg, off)
    return msg[at:at + n]


def authenticate(msg):
    """What a client put in an AUTHENTICATE_MESSAGE."""
    return {"domain": field(msg, 28).decode("utf-16-le", "replace"),
            "user": field(msg, 36).decode("utf-16-le", "replace"),
            "workstation": field(msg, 44).decode("utf-16-le", "replace"),
            "nt_response_len": len(field(msg, 20))}


class Probe(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    scheme = "NTLM"
    log = None
    conns = 0
    lock = threading.Lock()

    def setup(self):
        super().setup()
        with Probe.lock:
            Probe.conns += 1
            self.conn = Probe.conns

    def log_message(self, *args):
        pass

    def record(self, **kw):
        with Probe.lock, open(Probe.log, "a") as f:
            f.write(json.dumps(kw) + "\n")

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        auth = self.headers.get("Authorization", "")
        rec = {"conn": self.conn, "method": "POST", "body": len(body), "auth": auth,
               "content_type": self.headers.get("Content-Type", "")}
        header = None
        parts = auth.split(" ", 1)
        if Probe.scheme == "NTLM" and len(parts) == 2 and parts[0] == "NTLM":
            msg = base64.b64decode(parts[1])
            if msg.startswith(NTLMSSP) and len(msg) >= 12:
                kind = struct.unpack_from("<I", msg, 8)[0]
                rec["ntlm_type"] = kind
                if kind == 1:
                    header = "NTLM " + base64.b64encode(challenge()).decode()
                elif kind == 3:
                    rec.update(authenticate(msg))
        self.record(**rec)
        self.send_response(401)
        self.send_header("WWW-Authenticate", header or Probe.scheme)
        if header is None:  # as a Windows listener with Basic enabled too says it
            self.send_header("WWW-Authenticate", 'Basic realm="WSMAN"')
        self.send_header("Content-Length", "0")
        self.end_headers()


def main():
    kind, portfile, Probe.log = sys.argv[1], sys.argv[2], sys.argv[3]
    Probe.scheme = {"ntlm": "NTLM", "negotiate": "Negotiate"}[kind]
    for port in range(20000, 20400):
        try:
            srv = ThreadingHTTPServer(("127.0.0.1", port), Probe)
            break
        except OSError:
            continue
    else:
        sys.exit("auth_probe: no free port")
    srv.daemon_threads = True
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


main()
