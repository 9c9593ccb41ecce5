import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CaptureFormatError, captureKind, readCaptureDatagrams } from '../src/capture/pcap.js';
import { startProgress } from '../src/progress.js';

const pcapng = readFileSync(new URL('./fixtures/gvsp-loopback.pcapng', import.meta.url));
const pcap = readFileSync(new URL('./fixtures/gvsp-loopback.pcap', import.meta.url));

/** Reads everything, returning the datagram count or the typed error; anything else fails the test. */
function readAll(bytes: Uint8Array): number | CaptureFormatError {
  try {
    let n = 0;
    for (const _ of readCaptureDatagrams(bytes)) n++;
    return n;
  } catch (e) {
    if (e instanceof CaptureFormatError) return e;
    throw e;
  }
}

describe('pcap / pcapng reader (untrusted files)', () => {
  it('reads both fixtures: 16 UDP datagrams to the receiver port', () => {
    expect(captureKind(pcapng)).toBe('pcapng');
    expect(captureKind(pcap)).toBe('pcap');
    for (const file of [pcap, pcapng]) {
      const all = [...readCaptureDatagrams(file)];
      expect(all).toHaveLength(16);
      expect(new Set(all.map((d) => d.destinationPort))).toEqual(new Set([47711]));
      expect(all.map((d) => d.index)).toEqual([...Array(16).keys()]);
    }
  });

  it('every truncation of either file is datagrams or a CaptureFormatError, never anything else', () => {
    for (const file of [pcap, pcapng]) {
      for (let cut = 0; cut < file.byteLength; cut += 7) {
        const r = readAll(file.subarray(0, cut));
        if (typeof r === 'number') expect(r).toBeLessThanOrEqual(16);
        else expect(r.message).toMatch(/at byte \d+/);
      }
    }
  });

  it('random damage and lying lengths end in a typed error, within the caps', () => {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let round = 0; round < 2000; round++) {
      const file = Uint8Array.from(round % 2 ? pcap : pcapng);
      for (let k = 0; k < 1 + (rnd() % 4); k++) file[rnd() % file.byteLength] = rnd() & 0xff;
      const r = readAll(file);
      if (typeof r === 'number') expect(r).toBeLessThanOrEqual(16);
    }
    // a record claiming 1 GiB is refused before anything is read for it
    const huge = Uint8Array.from(pcap);
    new DataView(huge.buffer).setUint32(24 + 8, 0x40000000, true);
    expect(readAll(huge)).toBeInstanceOf(CaptureFormatError);
    expect(() => [...readCaptureDatagrams(Uint8Array.of(1, 2, 3, 4, 5))]).toThrow(/not a pcap or pcapng/);
  });
});

function sink(isTTY: boolean): { stream: PassThrough & { isTTY?: boolean; columns?: number }; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  stream.isTTY = isTTY;
  stream.columns = 100;
  let text = '';
  stream.on('data', (d: Buffer) => {
    text += d.toString();
  });
  return { stream, text: () => text };
}

describe('progress: a bar on a terminal, plain lines otherwise, nothing with --json', () => {
  it('plain lines carry percentage, rate and ETA; the last line says the total', () => {
    const { stream, text } = sink(false);
    const p = startProgress({ label: 'upload logo.bmp', total: 2_000_000, unit: 'bytes', stream, intervalMs: 0 });
    p.update(500_000);
    p.update(1_000_000);
    p.stop();
    const lines = text().trim().split('\n');
    expect(lines[0]).toMatch(/^upload logo\.bmp: 25% 500\.0 kB of 2\.00 MB, [0-9.]+ [kMG]?B\/s, ETA \S+$/);
    expect(lines.at(-1)).toMatch(/^upload logo\.bmp: 50% 1\.00 MB of 2\.00 MB, [0-9.]+ [kMG]?B\/s$/);
  });

  it('plain lines are rate-limited (one per interval)', () => {
    const { stream, text } = sink(false);
    const p = startProgress({ label: 'grab', total: 1000, unit: 'frames', stream, intervalMs: 60_000 });
    for (let i = 1; i <= 1000; i++) p.update(i);
    p.stop();
    expect(text().trim().split('\n')).toHaveLength(2); // the first update and the final line
  });

  it('draws a bar with rate and ETA on a terminal', () => {
    const { stream, text } = sink(true);
    const p = startProgress({ label: 'read', total: 100, unit: 'frames', stream });
    p.update(40);
    p.stop();
    expect(text()).toMatch(/read \[[█░]+\] 40% \| 40 frames of 100 frames \| [0-9.]+ fps \| ETA \S+/);
  });

  it('prints nothing with --json', () => {
    const { stream, text } = sink(true);
    const p = startProgress({ label: 'x', total: 10, unit: 'bytes', stream, json: true });
    p.update(5);
    p.stop();
    expect(text()).toBe('');
  });
});
