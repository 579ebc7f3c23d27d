"""Helpers of tests/integration/winrm.sh around tests/lib/auth_probe.py.

usage: auth_probe_check.py inventory SIM_INV OUT ntlm|negotiate PORT
         a copy of ccrsim's generated inventory that reaches every host at the probe
         (127.0.0.1:PORT) over plain HTTP, winrm_auth KIND, user CONTOSO\\svc-ccrup
       auth_probe_check.py log PROBE_LOG ntlm|negotiate
         exit 0 if what the probe recorded is what libcurl sends for KIND:
         ntlm: a type-1 message first on every connection, then on the same connection a type-3 naming
         domain CONTOSO and user svc-ccrup with an NTLMv2 response, carrying the
         SOAP body; negotiate: never anything but a Negotiate token (no Kerberos
         ticket here, so libcurl sends none); Basic credentials never.
"""
import json
import re
import sys


def inventory(src, out, kind, port):
    t = open(src).read()
    t = re.sub(r"(?m)^  transport: winrm$", "  transport: winrm\n  winrm_scheme: http\n"
               "  winrm_allow_unencrypted: true\n  winrm_auth: " + kind, t)
    t = re.sub(r"(?m)^  winrm_user: .*$", lambda m: "  winrm_user: 'CONTOSO\\svc-ccrup'", t)
    t = re.sub(r"(?m)^    winrm_port: \d+$", "    winrm_port: " + port, t)
    open(out, "w").write(t)


def check(log, kind):
    reqs = [json.loads(line) for line in open(log)]
    assert reqs, "no request arrived"
    assert not any(r["auth"].startswith("Basic") for r in reqs), "Basic credentials sent"
    if kind == "negotiate":
        assert all(r["auth"] == "" or r["auth"].startswith("Negotiate ") for r in reqs), reqs
        return "%d requests, no Basic" % len(reqs)
    one = [r for r in reqs if r.get("ntlm_type") == 1]
    three = [r for r in reqs if r.get("ntlm_type") == 3]
    assert one and all(r["auth"].startswith("NTLM TlRMTVNTUAABAAAA") for r in one), reqs
    first = {}
    for r in reqs:
        first.setdefault(r["conn"], r)
    assert all(r.get("ntlm_type") == 1 for r in first.values()), \
        "a connection did not start with the type-1 message (a round trip to learn the scheme)"
    assert three, "no type-3 message: %r" % reqs
    for r in three:
        assert (r["domain"], r["user"]) == ("CONTOSO", "svc-ccrup"), r
        assert r["nt_response_len"] > 24, r  # NTLMv2: a proof and a blob, not 24 bytes
        assert any(o["conn"] == r["conn"] for o in one), "type 3 on another connection"
        assert r["body"] > 0, "no SOAP body with the type-3 message"
    return "%d requests, %d type-3 as CONTOSO\\svc-ccrup" % (len(reqs), len(three))


def main():
    if sys.argv[1] == "inventory":
        inventory(*sys.argv[2:6])
    else:
        print(check(sys.argv[2], sys.argv[3]))


main()
