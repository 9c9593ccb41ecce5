"""Streams from a GigE Vision camera with Aravis 0.8 for a number of seconds; prints one JSON line:
completed and failed buffers, missed frames (underruns: no free buffer; block ids never seen), payload bytes, this
process's CPU seconds (Aravis's stream thread included) over the acquisition, and whether Aravis used a packet
socket (it does when it may: root or CAP_NET_RAW)."""
import json
import os
import resource
import sys
import time

import gi

gi.require_version("Aravis", "0.8")
from gi.repository import Aravis  # noqa: E402

address, seconds = sys.argv[1], float(sys.argv[2])
cam = Aravis.Camera.new(address)
# the same stream as ours: 1500-byte packets (Aravis would otherwise be free to negotiate a larger size on loopback)
try:
    cam.gv_set_packet_size_adjustment(Aravis.GvPacketSizeAdjustment.NEVER)
except (AttributeError, TypeError):
    pass
cam.gv_set_packet_size(1500)
stream = cam.create_stream(None, None)
cam.gv_set_packet_size(1500)
payload = cam.get_payload()
for _ in range(16):
    stream.push_buffer(Aravis.Buffer.new_allocate(payload))
ru0 = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.monotonic()
cam.start_acquisition()
ok = failed = 0
nbytes = 0
end = t0 + seconds
while time.monotonic() < end:
    buf = stream.timeout_pop_buffer(200_000)
    if buf is None:
        continue
    if buf.get_status() == Aravis.BufferStatus.SUCCESS:
        ok += 1
        nbytes += len(buf.get_data())
    else:
        failed += 1
    stream.push_buffer(buf)
packet_socket = False
try:
    for fd in os.listdir("/proc/self/fd"):
        target = os.readlink(f"/proc/self/fd/{fd}")
        if target.startswith("socket:"):
            inode = target[8:-1]
            with open("/proc/net/packet") as f:
                packet_socket = packet_socket or any(inode in line.split() for line in f)
except OSError:
    pass
cam.stop_acquisition()
ru = resource.getrusage(resource.RUSAGE_SELF)
elapsed = time.monotonic() - t0
cpu = (ru.ru_utime - ru0.ru_utime) + (ru.ru_stime - ru0.ru_stime)
# frames Aravis dropped for want of a free buffer; frames never seen at all show as too few completed (n_missing_frames
# is not used: it counts the jump from block id 0 to the device's first id as missing)
missed = stream.get_info_uint64_by_name("n_underruns")
print(
    json.dumps(
        {
            "completed": ok,
            "failed": failed,
            "missed": missed,
            "bytes": nbytes,
            "cpuSeconds": cpu,
            "seconds": elapsed,
            "packetSocket": packet_socket,
            "packetSize": cam.gv_get_packet_size(),
        }
    )
)
