import sys, time, json
import gi
gi.require_version('Aravis', '0.8')
from gi.repository import Aravis
n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
addr = int(sys.argv[2], 0) if len(sys.argv) > 2 else 0x938
cam = Aravis.Camera.new('127.0.0.1')
dev = cam.get_device()
for _ in range(100):
    dev.read_register(addr)
t0 = time.perf_counter()
v = None
for _ in range(n):
    v = dev.read_register(addr)
dt = time.perf_counter() - t0
print(json.dumps({"n": n, "seconds": dt, "us_per_read": dt / n * 1e6, "value": v}))
