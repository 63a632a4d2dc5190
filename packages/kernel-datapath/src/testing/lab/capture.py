#!/usr/bin/env python3
# h1 lab probe: unaligned echoes in NLMSG_ERROR, RTM_DELLINK promiscuity of tunnel devices,
# ethtool LINKMODES_GET per device kind. Prints every reply in hex.
import socket, struct, sys, time, json, subprocess
SOL_NETLINK, NETLINK_EXT_ACK, NETLINK_CAP_ACK = 270, 11, 10
out = []
def nla(ty, p):
    ln = 4 + len(p); return struct.pack("<HH", ln, ty) + p + b"\0" * ((4 - ln % 4) % 4)
def nla_raw(ty, p):  # no trailing pad
    return struct.pack("<HH", 4 + len(p), ty) + p
def u32(ty, v): return nla(ty, struct.pack("<I", v))
def u16(ty, v): return nla(ty, struct.pack("<H", v))
def s_(ty, s): return nla(ty, s.encode() + b"\0")
class S:
    def __init__(s, proto, ext=True, groups=0, cap=False):
        s.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto); s.s.bind((0, groups))
        s.pid = s.s.getsockname()[0]
        if ext: s.s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        if cap: s.s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        s.s.settimeout(1.5); s.seq = 100
    def req(s, label, ty, flags, body, raw_len=None):
        s.seq += 1
        ln = 16 + len(body) if raw_len is None else raw_len
        m = struct.pack("<IHHII", ln, ty, flags, s.seq, s.pid) + body
        s.s.send(m)
        got = []
        while True:
            try: d = s.s.recv(65536)
            except socket.timeout: break
            got.append(d.hex())
            t = struct.unpack_from("<H", d, 4)[0]
            fl = struct.unpack_from("<H", d, 6)[0]
            if t in (2, 3) or not (fl & 2): 
                if t == 2 or t == 3 or not (flags & 0x300): break
        print(json.dumps({"label": label, "request": m.hex(), "replies": got}), flush=True)
        return [bytes.fromhex(x) for x in got]
    def drain(s, label):
        got = []
        s.s.settimeout(0.3)
        while True:
            try: got.append(s.s.recv(65536).hex())
            except socket.timeout: break
        print(json.dumps({"label": label, "notifications": got}), flush=True)
def genl(cmd, ver, body): return struct.pack("<BBH", cmd, ver, 0) + body
def attrs(b, off):
    r = {}
    while off + 4 <= len(b):
        ln, ty = struct.unpack_from("<HH", b, off)
        if ln < 4: break
        r[ty & 0x3fff] = b[off+4:off+ln]; off += (ln + 3) & ~3
    return r
g = S(16)
def fam(name):
    r = g.req("getfamily " + name, 16, 1, genl(3, 1, s_(2, name)))
    a = attrs(r[0], 20); return struct.unpack("<H", a[1][:2])[0]
DPF, VPF, ETF = fam("ovs_datapath"), fam("ovs_vport"), fam("ethtool")
mode = sys.argv[1]
if mode == "echo":
    # 1. unaligned requests that fail: with ext ack, without, capped
    for ext in (True, False):
        s = S(16, ext=ext)
        tag = "ext" if ext else "noext"
        body = genl(3, 2, struct.pack("<i", 0) + nla_raw(1, b"ab\0"))       # OVS_DP_CMD_GET name "ab" -> ENODEV, nlmsg_len 31
        s.req(f"{tag} DP_GET name ab (len 31)", DPF, 1, body)
        body = genl(3, 2, struct.pack("<i", 0) + nla_raw(1, b"abcd\0"))     # len 33
        s.req(f"{tag} DP_GET name abcd (len 33)", DPF, 1 | 4, body)
        body = genl(3, 2, struct.pack("<i", 0) + nla_raw(2, b"\1\2\3"))     # UPCALL_PID 3 bytes: policy error, len 31
        s.req(f"{tag} DP_GET upcall_pid 3 bytes (len 31)", DPF, 1, body)
        body = genl(3, 1, nla_raw(2, b"no_such\0\0"[:9]))                    # CTRL GETFAMILY unknown, len 16+4+4+9=33
        s.req(f"{tag} CTRL_GETFAMILY unknown (len 33)", 16, 1, body)
        r = S(0, ext=ext)
        body = struct.pack("<BBHiII", 0, 0, 0, 0, 0, 0) + nla_raw(3, b"nosuch\0")  # RTM_GETLINK ifname nosuch, len 16+16+11=43
        r.req(f"{tag} RTM_GETLINK nosuch (len 43)", 18, 1, body)
        body = struct.pack("<BBHiII", 0, 0, 0, 0, 0, 0) + nla_raw(3, b"lo\0")      # success + ACK unaligned
        r.req(f"{tag} RTM_GETLINK lo ACK (len 39)", 18, 1 | 4, body)
    s = S(16, ext=True, cap=True)
    s.req("cap DP_GET name ab (len 31)", DPF, 1, genl(3, 2, struct.pack("<i", 0) + nla_raw(1, b"ab\0")))
elif mode == "tunnel":
    mon = S(0, ext=False, groups=1)  # RTMGRP_LINK
    r = g.req("DP_NEW dp0", DPF, 1 | 8, genl(1, 2, struct.pack("<i", 0) + s_(1, "dp0") + u32(2, 0) + u32(5, 0)))
    dpi = struct.unpack_from("<i", r[0], 20)[0]
    mon.drain("after DP_NEW")
    def vnew(name, t, opts=b""):
        b = struct.pack("<i", dpi) + u32(2, t) + s_(3, name) + u32(5, 0) + (nla(4, opts) if opts else b"")
        g.req(f"VP_NEW {name}", VPF, 1 | 8, genl(1, 1, b)); mon.drain(f"after VP_NEW {name}")
    def vdel(name):
        g.req(f"VP_DEL {name}", VPF, 1 | 8, genl(2, 1, struct.pack("<i", dpi) + s_(3, name))); mon.drain(f"after VP_DEL {name}")
    vnew("vx0", 4, u16(1, 4789)); vdel("vx0")
    vnew("gnv0", 5, u16(1, 6081)); vdel("gnv0")
    vnew("gt0", 3); vdel("gt0")
    subprocess.run("ip link add va type veth peer name vb", shell=True); mon.drain("after veth add")
    vnew("va", 1); vdel("va")
    # the device deleted under its vport (dp_device_event)
    vnew("vx1", 4, u16(1, 4790))
    subprocess.run("ip link del vx1", shell=True); mon.drain("after ip link del vx1")
    # promiscuous set by ip before: count 2 while attached
    vnew("vx2", 4, u16(1, 4791))
    subprocess.run("ip link set vx2 promisc on", shell=True); mon.drain("after promisc on vx2")
    vdel("vx2")
    g.req("DP_DEL dp0", DPF, 1 | 8, genl(2, 2, struct.pack("<i", dpi))); mon.drain("after DP_DEL")
elif mode == "ethtool":
    r = g.req("DP_NEW dp0", DPF, 1 | 8, genl(1, 2, struct.pack("<i", 0) + s_(1, "dp0") + u32(2, 0) + u32(5, 0)))
    dpi = struct.unpack_from("<i", r[0], 20)[0]
    def vnew(name, t, opts=b""):
        b = struct.pack("<i", dpi) + u32(2, t) + s_(3, name) + u32(5, 0) + (nla(4, opts) if opts else b"")
        g.req(f"VP_NEW {name}", VPF, 1 | 8, genl(1, 1, b))
    vnew("vx0", 4, u16(1, 4789)); vnew("gnv0", 5, u16(1, 6081)); vnew("gt0", 3); vnew("int0", 2)
    subprocess.run("ip link add va type veth peer name vb; ip link add d0 type dummy; ip link add vxl type vxlan id 5 dstport 4800; ip link add gnl type geneve id 5 remote 1.2.3.4; ip link add gtl type gretap remote 1.2.3.4; ip link add grl type gre remote 1.2.3.4", shell=True)
    for dev in ["va", "d0", "dp0", "int0", "vx0", "gnv0", "gt0", "vxl", "gnl", "gtl", "grl", "lo"]:
        for flags in (0, 1):
            hdr = nla(0x8000 | 1, s_(2, dev) + (u32(3, flags) if flags else b""))
            g.req(f"LINKMODES_GET {dev} flags {flags}", ETF, 1, genl(4, 1, hdr))
    subprocess.run("ip link set va up; ip link set vb up", shell=True)
    g.req("LINKMODES_GET va up flags 0", ETF, 1, genl(4, 1, nla(0x8000 | 1, s_(2, "va"))))
    g.req("LINKMODES_GET nosuch", ETF, 1, genl(4, 1, nla(0x8000 | 1, s_(2, "nosuch"))))
    g.req("LINKINFO_GET va", ETF, 1, genl(2, 1, nla(0x8000 | 1, s_(2, "va"))))
    subprocess.run("for d in va d0 dp0 vx0 gt0 grl; do echo == $d; ethtool $d; done", shell=True)
