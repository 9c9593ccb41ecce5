"""Streams from a GigE Vision camera with Aravis 0.8 for a number of seconds; prints one JSON line:
completed and failed buffers, missed frames (underruns: no free buffer; block ids never seen), payload bytes, this
process's CPU seconds (Aravis's stream thread included) over the acquisition, and whether Aravis used a packet
socket (it does when it may: root or CAP_NET_RAW, unless a third argument "socket" disables it:
ARV_GV_STREAM_OPTION_PACKET_SOCKET_DISABLED, so it receives on its UDP socket like our recvmmsg engine)."""
import json
import os
import resource
import sys
import time

import gi

gi.require_version("Aravis", "0.8")
from gi.repository import Aravis  # noqa: E402

address, seconds = sys.argv[1], float(sys.argv[2])
udp_only = len(sys.argv) > 3 and sys.argv[3] == "socket"
cam = Aravis.Camera.new(address)
if udp_only:
    cam.get_device().set_stream_options(Aravis.GvStreamOption.PACKET_SOCKET_DISABLED)
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
first_id = None
end = t0 + seconds
while time.monotonic() < end:
    buf = stream.timeout_pop_buffer(200_000)
    if buf is None:
        continue
    if first_id is None:
        first_id = buf.get_frame_id()
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
# frames never delivered: block ids Aravis saw skipped (n_missing_frames, less the jump from its initial id 0 to
# the device's first block id, which is not a loss) and frames dropped for want of a free buffer (n_underruns,
# printed apart: Aravis also counts them in runs where every frame the device sent completed)
missing = stream.get_info_uint64_by_name("n_missing_frames")
if first_id is not None and first_id > 1:
    missing = max(0, missing - (first_id - 1))
underruns = stream.get_info_uint64_by_name("n_underruns")
print(
    json.dumps(
        {
            "completed": ok,
            "failed": failed,
            "missed": missing,
            "underruns": underruns,
            "bytes": nbytes,
            "cpuSeconds": cpu,
            "seconds": elapsed,
            "packetSocket": packet_socket,
            "packetSize": cam.gv_get_packet_size(),
        }
    )
)
