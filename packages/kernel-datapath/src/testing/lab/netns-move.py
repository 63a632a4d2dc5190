#!/usr/bin/env python3
"""Capture what rtnetlink multicasts while a veth end moves to another
namespace, in both namespaces (RTNLGRP_LINK and RTNLGRP_NSID), on the kernel
lab (Debian 6.1). Run as root in the lab guest:

  python3 netns-move.py > netns-move.json

Steps: ip netns add a; ip link add v0 type veth peer name v1; both up;
listeners in init and in a (a second process under ip netns exec); then
ip link set v1 netns a. Each listener prints the datagrams it got, hex.
"""
import json, socket, subprocess, sys, time

SOL_NETLINK, NETLINK_ADD_MEMBERSHIP = 270, 1
RTNLGRP_LINK, RTNLGRP_NSID = 1, 28

def listen(seconds):
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    s.bind((0, 0))
    for g in (RTNLGRP_LINK, RTNLGRP_NSID):
        s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g)
    s.settimeout(0.2)
    print('ready', flush=True)
    out, end = [], time.time() + seconds
    while time.time() < end:
        try:
            out.append(s.recv(65536).hex())
        except socket.timeout:
            pass
    print(json.dumps(out), flush=True)

if len(sys.argv) > 1 and sys.argv[1] == 'listen':
    listen(float(sys.argv[2]))
    sys.exit(0)

sh = lambda c: subprocess.run(c, shell=True, check=True)
sh('ip netns add a')
sh('ip link add v0 type veth peer name v1')
sh('ip link set v0 up; ip link set v1 up')
links = subprocess.run('ip -o link show', shell=True, capture_output=True, text=True).stdout
me = sys.argv[0]
procs = [subprocess.Popen(pre + ['python3', me, 'listen', '3'], stdout=subprocess.PIPE, text=True) for pre in ([], ['ip', 'netns', 'exec', 'a'])]
for p in procs:
    assert p.stdout.readline().strip() == 'ready'
sh('ip link set v1 netns a')
init, a = (json.loads(p.stdout.readline()) for p in procs)
for p in procs:
    p.wait()
after = {ns: subprocess.run(f'ip {"-n a " if ns == "a" else ""}-o link show', shell=True, capture_output=True, text=True).stdout for ns in ('init', 'a')}
print(json.dumps({'kernel': subprocess.run('uname -r', shell=True, capture_output=True, text=True).stdout.strip(),
                  'before': links, 'after': after, 'init': init, 'a': a}, indent=1))
