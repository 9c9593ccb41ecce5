/**
 * Offset of the first byte after the next Annex B start code (00 00 01, or 00 00 00 01) at or after `from`, or -1.
 * Uses the native `indexOf` to find candidate 01 bytes, so long slice payloads are skipped at memchr speed.
 */
export function nextStartCode(data: Uint8Array, from = 0): number {
  let i = from + 2;
  while (i < data.length) {
    const one = data.indexOf(1, i);
    if (one < 0) return -1;
    if (data[one - 1] === 0 && data[one - 2] === 0) return one + 1;
    i = one + 1;
  }
  return -1;
}

/** The NAL units in Annex B bytes (start codes 00 00 01 or 00 00 00 01), as views. */
export function* nalUnits(data: Uint8Array): Generator<Uint8Array> {
  let start = nextStartCode(data, 0);
  while (start >= 0 && start < data.length) {
    const next = nextStartCode(data, start);
    if (next < 0) {
      yield data.subarray(start);
      return;
    }
    let end = next - 3;
    if (end > start && data[end - 1] === 0) end--; // 4-byte start code of the next NAL
    yield data.subarray(start, end);
    start = next;
  }
}

/** H.264 nal_unit_type of a NAL (first byte after the start code). */
export function h264NalType(nal: Uint8Array): number {
  return (nal[0] ?? 0) & 0x1f;
}

/** H.265 nal_unit_type of a NAL. */
export function h265NalType(nal: Uint8Array): number {
  return ((nal[0] ?? 0) >>> 1) & 0x3f;
}

/**
 * True when an access unit holds an H.264 IDR slice (type 5) or an H.265 IRAP picture (types 16..21). Only the NAL
 * headers up to the first slice are read: the first VCL NAL unit decides, so a large picture is not scanned.
 */
export function isKeyframe(accessUnit: Uint8Array, codec: 'h264' | 'h265'): boolean {
  for (let p = nextStartCode(accessUnit, 0); p >= 0 && p < accessUnit.length; p = nextStartCode(accessUnit, p)) {
    const header = accessUnit[p]!;
    if (codec === 'h264') {
      const t = header & 0x1f;
      if (t >= 1 && t <= 5) return t === 5;
    } else {
      const t = (header >>> 1) & 0x3f;
      if (t <= 31) return t >= 16 && t <= 21;
    }
  }
  return false;
}

/** Inserts emulation-prevention bytes (00 00 0x -> 00 00 03 0x for x <= 3), RBSP -> EBSP. */
export function escapeRbsp(rbsp: Uint8Array): Uint8Array {
  let extra = 0;
  for (let i = 0, zeros = 0; i < rbsp.length; i++) {
    const b = rbsp[i]!;
    if (zeros >= 2 && b <= 3) {
      extra++;
      zeros = 0;
    }
    zeros = b === 0 ? zeros + 1 : 0;
  }
  if (extra === 0) return rbsp;
  const out = new Uint8Array(rbsp.length + extra);
  let o = 0;
  for (let i = 0, zeros = 0; i < rbsp.length; i++) {
    const b = rbsp[i]!;
    if (zeros >= 2 && b <= 3) {
      out[o++] = 3;
      zeros = 0;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out;
}

/** Removes emulation-prevention bytes (EBSP -> RBSP). */
export function unescapeRbsp(ebsp: Uint8Array): Uint8Array {
  const out = new Uint8Array(ebsp.length);
  let o = 0;
  for (let i = 0, zeros = 0; i < ebsp.length; i++) {
    const b = ebsp[i]!;
    if (zeros >= 2 && b === 3) {
      zeros = 0;
      continue;
    }
    out[o++] = b;
    zeros = b === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, o);
}
