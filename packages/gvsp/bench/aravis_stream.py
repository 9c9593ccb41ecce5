"""Streams from a GigE Vision camera with Aravis 0.8 for a number of seconds; prints one JSON line:
completed and failed buffers, payload bytes, and this process's CPU seconds (Aravis's stream thread included)."""
import json
import resource
import sys
import time

import gi

gi.require_version("Aravis", "0.8")
from gi.repository import Aravis  # noqa: E402

address, seconds = sys.argv[1], float(sys.argv[2])
cam = Aravis.Camera.new(address)
stream = cam.create_stream(None, None)
payload = cam.get_payload()
for _ in range(16):
    stream.push_buffer(Aravis.Buffer.new_allocate(payload))
ru0 = resource.getrusage(resource.RUSAGE_SELF)
cam.start_acquisition()
ok = failed = 0
nbytes = 0
end = time.monotonic() + seconds
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
cam.stop_acquisition()
ru = resource.getrusage(resource.RUSAGE_SELF)
cpu = (ru.ru_utime - ru0.ru_utime) + (ru.ru_stime - ru0.ru_stime)
print(json.dumps({"completed": ok, "failed": failed, "bytes": nbytes, "cpuSeconds": cpu, "seconds": seconds}))
