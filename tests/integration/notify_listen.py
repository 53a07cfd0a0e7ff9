#!/usr/bin/env python3
"""A stand-in for systemd's notification socket (Type=notify): binds a
datagram socket at PATH and appends one line per message to OUT, the
message's newlines shown as spaces, then " files=yes" when every FILE
existed the moment the message arrived (else " files=no").  Runs until
killed.

usage: notify_listen.py PATH OUT [FILE...]"""
import os
import socket
import sys

path, out, files = sys.argv[1], sys.argv[2], sys.argv[3:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a") as f:
    while True:
        msg = s.recv(4096).decode(errors="replace").strip().replace("\n", " ")
        have = all(os.path.exists(p) for p in files)
        f.write("%s files=%s\n" % (msg, "yes" if have else "no"))
        f.flush()
