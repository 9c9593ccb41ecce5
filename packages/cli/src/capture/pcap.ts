/**
 * A bounded reader of pcap and pcapng capture files (untrusted input): yields the UDP datagrams they hold over
 * IPv4 (Ethernet, Linux cooked v1/v2, raw IP and BSD loopback link types). Pure: no `node:` import.
 * Every length comes from the file and is checked against the bytes that are there and against fixed caps before
 * it is used; a damaged file ends in a {@link CaptureFormatError} naming the offset.
 */

/** One UDP datagram found in a capture. */
export interface CapturedDatagram {
  /** Index of the packet record in the file (0-based, every packet counted, UDP or not; Wireshark's frame number - 1). */
  readonly index: number;
  /** Capture time in microseconds since 1970 (as the file stores it; pcapng resolution converted). */
  readonly timeUs: number;
  readonly source: string;
  readonly sourcePort: number;
  readonly destination: string;
  readonly destinationPort: number;
  readonly payload: Uint8Array;
}

/** The capture is not pcap/pcapng, or a record's lengths do not fit the file. */
export class CaptureFormatError extends Error {
  override readonly name = 'CaptureFormatError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`);
  }
}

/** Caps on what a capture may make us do. */
export interface CaptureLimits {
  /** Largest record (pcap snaplen / pcapng block) accepted: 256 KiB by default. */
  maxRecordBytes?: number;
  /** Most records read: 10 million by default. */
  maxRecords?: number;
}

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_LINUX_SLL2 = 276;

/** Which format a file starts as, from its first four bytes. */
export function captureKind(bytes: Uint8Array): 'pcap' | 'pcapng' | undefined {
  if (bytes.byteLength < 4) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
  if (v === 0x0a0d0d0a) return 'pcapng';
  if ([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(v)) return 'pcap';
  return undefined;
}

/** Every UDP-over-IPv4 datagram of a pcap or pcapng file, in file order. */
export function* readCaptureDatagrams(bytes: Uint8Array, limits: CaptureLimits = {}): Generator<CapturedDatagram> {
  const kind = captureKind(bytes);
  if (kind === 'pcap') yield* readPcap(bytes, limits);
  else if (kind === 'pcapng') yield* readPcapng(bytes, limits);
  else throw new CaptureFormatError('not a pcap or pcapng file (unknown magic number)', 0);
}

function* readPcap(bytes: Uint8Array, limits: CaptureLimits): Generator<CapturedDatagram> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 24) throw new CaptureFormatError('pcap header truncated', 0);
  const magic = view.getUint32(0, false);
  const le = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
  const nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const linkType = view.getUint32(20, le) & 0x0fffffff;
  const maxRecord = limits.maxRecordBytes ?? 256 * 1024;
  const maxRecords = limits.maxRecords ?? 10_000_000;
  let offset = 24;
  let index = 0;
  while (offset < bytes.byteLength) {
    if (index >= maxRecords) throw new CaptureFormatError(`more than ${maxRecords} records`, offset);
    if (offset + 16 > bytes.byteLength) throw new CaptureFormatError('record header truncated', offset);
    const seconds = view.getUint32(offset, le);
    const fraction = view.getUint32(offset + 4, le);
    const captured = view.getUint32(offset + 8, le);
    if (captured > maxRecord) throw new CaptureFormatError(`record of ${captured} bytes exceeds ${maxRecord}`, offset);
    if (offset + 16 + captured > bytes.byteLength)
      throw new CaptureFormatError(`record of ${captured} bytes runs past the end of the file`, offset);
    const frame = bytes.subarray(offset + 16, offset + 16 + captured);
    const timeUs = seconds * 1e6 + (nanos ? Math.floor(fraction / 1000) : fraction);
    const d = udpOf(linkType, frame, index, timeUs);
    if (d) yield d;
    offset += 16 + captured;
    index++;
  }
}

function* readPcapng(bytes: Uint8Array, limits: CaptureLimits): Generator<CapturedDatagram> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const maxRecord = limits.maxRecordBytes ?? 256 * 1024;
  const maxRecords = limits.maxRecords ?? 10_000_000;
  let le = true;
  // per section: each interface's link type and time resolution (units per second)
  let interfaces: { linkType: number; unitsPerSecond: number }[] = [];
  let offset = 0;
  let blocks = 0;
  let index = 0;
  while (offset < bytes.byteLength) {
    if (blocks >= maxRecords) throw new CaptureFormatError(`more than ${maxRecords} blocks`, offset);
    if (offset + 12 > bytes.byteLength) throw new CaptureFormatError('block header truncated', offset);
    const type = view.getUint32(offset, le);
    if (type === 0x0a0d0d0a) {
      // section header: its byte-order magic decides the order of everything in the section
      const bom = view.getUint32(offset + 8, true);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw new CaptureFormatError('section header has no byte-order magic', offset);
      interfaces = [];
    }
    const length = view.getUint32(offset + 4, le);
    if (length < 12 || length % 4 !== 0)
      throw new CaptureFormatError(`block length ${length} is not a multiple of 4 of at least 12`, offset);
    if (length > maxRecord + 64) throw new CaptureFormatError(`block of ${length} bytes exceeds the cap`, offset);
    if (offset + length > bytes.byteLength)
      throw new CaptureFormatError(`block of ${length} bytes runs past the end of the file`, offset);
    if (view.getUint32(offset + length - 4, le) !== length)
      throw new CaptureFormatError('block length at the end differs from the one at the start', offset);
    const body = offset + 8;
    const bodyEnd = offset + length - 4;
    if (type === 0x00000001) {
      // interface description: link type, snaplen, options (if_tsresol)
      if (bodyEnd - body < 8) throw new CaptureFormatError('interface block truncated', offset);
      if (interfaces.length >= 4096) throw new CaptureFormatError('more than 4096 interfaces', offset);
      const linkType = view.getUint16(body, le);
      let unitsPerSecond = 1e6;
      let o = body + 8;
      while (o + 4 <= bodyEnd) {
        const code = view.getUint16(o, le);
        const len = view.getUint16(o + 2, le);
        if (code === 0) break;
        if (o + 4 + len > bodyEnd) throw new CaptureFormatError('interface option runs past its block', o);
        if (code === 9 && len >= 1) {
          const r = bytes[o + 4]!;
          const exp = r & 0x7f;
          if (exp > 30) throw new CaptureFormatError(`time resolution 2^-${exp}/10^-${exp} is out of range`, o);
          unitsPerSecond = r & 0x80 ? 2 ** exp : 10 ** exp;
        }
        o += 4 + ((len + 3) & ~3);
      }
      interfaces.push({ linkType, unitsPerSecond });
    } else if (type === 0x00000006 || type === 0x00000003) {
      let frame: Uint8Array;
      let ifaceId = 0;
      let timeUs = 0;
      if (type === 0x00000006) {
        if (bodyEnd - body < 20) throw new CaptureFormatError('packet block truncated', offset);
        ifaceId = view.getUint32(body, le);
        const high = view.getUint32(body + 4, le);
        const low = view.getUint32(body + 8, le);
        const captured = view.getUint32(body + 12, le);
        if (body + 20 + captured > bodyEnd)
          throw new CaptureFormatError(`packet of ${captured} bytes runs past its block`, offset);
        frame = bytes.subarray(body + 20, body + 20 + captured);
        const iface = interfaces[ifaceId];
        if (!iface) throw new CaptureFormatError(`packet names interface ${ifaceId}, not described`, offset);
        const ticks = high * 2 ** 32 + low;
        // exact for the usual micro- and nanosecond resolutions; others to the nearest microsecond
        timeUs =
          iface.unitsPerSecond === 1e6
            ? ticks
            : iface.unitsPerSecond === 1e9
              ? Math.floor(ticks / 1000)
              : Math.round((ticks / iface.unitsPerSecond) * 1e6);
      } else {
        // simple packet block: interface 0, no time stamp; its length is the original length
        if (bodyEnd - body < 4) throw new CaptureFormatError('simple packet block truncated', offset);
        const original = view.getUint32(body, le);
        frame = bytes.subarray(body + 4, Math.min(body + 4 + original, bodyEnd));
      }
      const iface = interfaces[ifaceId];
      if (!iface) throw new CaptureFormatError(`packet names interface ${ifaceId}, not described`, offset);
      const d = udpOf(iface.linkType, frame, index, timeUs);
      if (d) yield d;
      index++;
    }
    offset += length;
    blocks++;
  }
}

/** The UDP datagram in a link-layer frame, or undefined when it is something else (or cut short). */
function udpOf(linkType: number, frame: Uint8Array, index: number, timeUs: number): CapturedDatagram | undefined {
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let ip: number;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (frame.byteLength < 14) return undefined;
      let o = 12;
      let etherType = v.getUint16(o);
      while ((etherType === 0x8100 || etherType === 0x88a8) && o + 6 <= frame.byteLength) {
        o += 4; // VLAN tag
        etherType = v.getUint16(o);
      }
      if (etherType !== 0x0800) return undefined;
      ip = o + 2;
      break;
    }
    case LINKTYPE_LINUX_SLL:
      if (frame.byteLength < 16 || v.getUint16(14) !== 0x0800) return undefined;
      ip = 16;
      break;
    case LINKTYPE_LINUX_SLL2:
      if (frame.byteLength < 20 || v.getUint16(0) !== 0x0800) return undefined;
      ip = 20;
      break;
    case LINKTYPE_NULL:
      if (frame.byteLength < 4) return undefined;
      if (v.getUint32(0, true) !== 2 && v.getUint32(0, false) !== 2) return undefined; // AF_INET
      ip = 4;
      break;
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
      ip = 0;
      break;
    default:
      return undefined;
  }
  if (frame.byteLength < ip + 20 || frame[ip]! >> 4 !== 4) return undefined;
  const ihl = (frame[ip]! & 0x0f) * 4;
  if (ihl < 20 || frame[ip + 9] !== 17) return undefined;
  if ((v.getUint16(ip + 6) & 0x3fff) !== 0) return undefined; // a fragment: not a whole datagram
  const total = v.getUint16(ip + 2);
  const udp = ip + ihl;
  if (frame.byteLength < udp + 8 || total < ihl + 8) return undefined;
  const udpLength = v.getUint16(udp + 4);
  const end = Math.min(udp + udpLength, ip + total, frame.byteLength);
  if (udpLength < 8 || end < udp + 8) return undefined;
  const addr = (o: number): string => `${frame[o]}.${frame[o + 1]}.${frame[o + 2]}.${frame[o + 3]}`;
  return {
    index,
    timeUs,
    source: addr(ip + 12),
    sourcePort: v.getUint16(udp),
    destination: addr(ip + 16),
    destinationPort: v.getUint16(udp + 2),
    payload: frame.subarray(udp + 8, end),
  };
}
