#!/usr/bin/env python3
"""Socket activation as systemd does it (sd_listen_fds(3)), for tests: binds a TCP listening
socket and a UDP socket on the same free port of HOST, moves them to descriptors 3 and 4,
sets LISTEN_FDS=2 and LISTEN_PID to this process and execs the command (exec keeps the pid).
HOST "::" gives dual-stack sockets, as systemd's BindIPv6Only=both (our unit) does.

usage: listen_fds.py HOST COMMAND [ARG...]
"""
import fcntl
import os
import socket
import sys

host, command = sys.argv[1], sys.argv[2:]
family = socket.AF_INET6 if ":" in host else socket.AF_INET
tcp = socket.socket(family, socket.SOCK_STREAM)
udp = socket.socket(family, socket.SOCK_DGRAM)
if family == socket.AF_INET6:
    for s in (tcp, udp):
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind((host, 0))
tcp.listen(64)
udp.bind((host, tcp.getsockname()[1]))
# Park them above the target numbers first so dup2 never clobbers one with the other.
parked = [fcntl.fcntl(s.fileno(), fcntl.F_DUPFD, 10) for s in (udp, tcp)]
udp.close()
tcp.close()
for target, fd in enumerate(parked, start=3):
    os.dup2(fd, target)  # dup2'd descriptors are inheritable
    os.close(fd)
os.environ.update(LISTEN_FDS="2", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES="dns:dns")
os.execvp(command[0], command)
