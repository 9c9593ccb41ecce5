import { deflateSync } from 'node:zlib';
import { type DisplayImage, rgbToYuv444Planar } from './convert.js';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const p of parts) for (let i = 0; i < p.length; i++) c = CRC_TABLE[(c ^ p[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32([head.subarray(4), data]), 0);
  return Buffer.concat([head, data, crc]);
}

/**
 * A PNG of a display image: 8-bit grey, 16-bit grey (with an sBIT chunk recording the sensor's depth, so a viewer
 * that cares can recover the original values by shifting right) or 8-bit RGB.
 */
export function encodePng(image: DisplayImage): Buffer {
  const { width, height } = image;
  const bpp = image.kind === 'gray8' ? 1 : image.kind === 'gray16' ? 2 : 3;
  const stride = width * bpp;
  const raw = Buffer.alloc((stride + 1) * height); // filter byte 0 (None) before each row
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1) + 1;
    if (image.kind === 'gray16') {
      for (let x = 0; x < width; x++) raw.writeUInt16BE(image.pixels[y * width + x]!, o + 2 * x);
    } else raw.set(image.pixels.subarray(y * stride, y * stride + stride), o);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = image.kind === 'gray16' ? 16 : 8;
  ihdr[9] = image.kind === 'rgb8' ? 2 : 0;
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const chunks = [sig, pngChunk('IHDR', ihdr)];
  if (image.kind === 'gray16' && image.significantBits < 16)
    chunks.push(pngChunk('sBIT', Uint8Array.of(image.significantBits)));
  chunks.push(pngChunk('IDAT', deflateSync(raw)), pngChunk('IEND', new Uint8Array(0)));
  return Buffer.concat(chunks);
}

/** Netpbm: PGM (P5) for grey, 16-bit samples big-endian with maxval 65535; PPM (P6) for RGB. */
export function encodeNetpbm(image: DisplayImage): Buffer {
  const { width, height } = image;
  if (image.kind === 'rgb8')
    return Buffer.concat([Buffer.from(`P6\n${width} ${height}\n255\n`, 'latin1'), image.pixels]);
  if (image.kind === 'gray8')
    return Buffer.concat([Buffer.from(`P5\n${width} ${height}\n255\n`, 'latin1'), image.pixels]);
  const body = Buffer.alloc(width * height * 2);
  for (let i = 0; i < width * height; i++) body.writeUInt16BE(image.pixels[i]!, 2 * i);
  return Buffer.concat([Buffer.from(`P5\n${width} ${height}\n65535\n`, 'latin1'), body]);
}

/** The file extension {@link encodeNetpbm} calls for. */
export function netpbmExtension(image: DisplayImage): 'pgm' | 'ppm' {
  return image.kind === 'rgb8' ? 'ppm' : 'pgm';
}

/**
 * A YUV4MPEG2 stream (what `ffplay -`/`ffprobe -` read from a pipe): grey as `Cmono` / `Cmono16`, RGB converted to
 * 4:4:4. The first frame fixes size and layout; `frame()` refuses a frame that differs (the format cannot change
 * mid-stream).
 */
export class Y4mWriter {
  private layout: { width: number; height: number; kind: DisplayImage['kind'] } | undefined;

  constructor(private readonly fps: number) {}

  /** The bytes for one frame, preceded by the stream header for the first. */
  frame(image: DisplayImage): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.layout === undefined) {
      this.layout = { width: image.width, height: image.height, kind: image.kind };
      const colour = image.kind === 'gray8' ? 'Cmono' : image.kind === 'gray16' ? 'Cmono16' : 'C444';
      const [num, den] = rate(this.fps);
      out.push(Buffer.from(`YUV4MPEG2 W${image.width} H${image.height} F${num}:${den} Ip A1:1 ${colour}\n`, 'latin1'));
    } else if (
      this.layout.width !== image.width ||
      this.layout.height !== image.height ||
      this.layout.kind !== image.kind
    ) {
      throw new Y4mFormatChangeError(
        `frame is ${image.width}x${image.height} ${image.kind}, the stream started as ${this.layout.width}x${this.layout.height} ${this.layout.kind}`,
      );
    }
    out.push(Buffer.from('FRAME\n', 'latin1'));
    if (image.kind === 'gray8') out.push(image.pixels);
    else if (image.kind === 'gray16') {
      const le = Buffer.alloc(image.pixels.length * 2);
      for (let i = 0; i < image.pixels.length; i++) le.writeUInt16LE(image.pixels[i]!, 2 * i);
      out.push(le);
    } else out.push(rgbToYuv444Planar(image.pixels, image.width, image.height));
    return out;
  }
}

/** A frame whose size or layout differs from the first one of a Y4M stream. */
export class Y4mFormatChangeError extends Error {
  override readonly name = 'Y4mFormatChangeError';
}

function rate(fps: number): [number, number] {
  if (!(fps > 0) || !Number.isFinite(fps)) return [30, 1];
  if (Number.isInteger(fps)) return [fps, 1];
  return [Math.round(fps * 1000), 1000];
}
