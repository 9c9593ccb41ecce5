/** Positions of NAL units in Annex B bytes (start codes 00 00 01 or 00 00 00 01). */
export function* nalUnits(data: Uint8Array): Generator<Uint8Array> {
  const n = data.length;
  let i = 0;
  let start = -1;
  while (i + 2 < n) {
    if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
      if (start >= 0) {
        let end = i;
        if (end > start && data[end - 1] === 0) end--; // 4-byte start code of the next NAL
        yield data.subarray(start, end);
      }
      i += 3;
      start = i;
      continue;
    }
    i++;
  }
  if (start >= 0 && start < n) yield data.subarray(start);
}

/** H.264 nal_unit_type of a NAL (first byte after the start code). */
export function h264NalType(nal: Uint8Array): number {
  return (nal[0] ?? 0) & 0x1f;
}

/** H.265 nal_unit_type of a NAL. */
export function h265NalType(nal: Uint8Array): number {
  return ((nal[0] ?? 0) >>> 1) & 0x3f;
}

/** True when an access unit holds an H.264 IDR slice (type 5) or an H.265 IRAP picture (types 16..21). */
export function isKeyframe(accessUnit: Uint8Array, codec: 'h264' | 'h265'): boolean {
  for (const nal of nalUnits(accessUnit)) {
    if (
      codec === 'h264'
        ? h264NalType(nal) === 5
        : (() => {
            const t = h265NalType(nal);
            return t >= 16 && t <= 21;
          })()
    ) {
      return true;
    }
  }
  return false;
}
