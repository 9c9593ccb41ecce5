/**
 * PFNC pixel formats as GigE Vision sends them in the image leader: a 32-bit id whose high byte says mono (0x01)
 * or colour (0x02), whose next byte is the number of bits each pixel occupies, and whose low 16 bits number the
 * format. The table lists the formats cameras commonly send.
 */

export type PixelFamily = 'mono' | 'bayer' | 'rgb' | 'yuv';

export interface PixelFormatInfo {
  /** PFNC name, e.g. `Mono8`, `BayerRG12p`, `RGB8`. */
  readonly name: string;
  readonly id: number;
  /** Bits each pixel occupies in the buffer (from the id). */
  readonly bitsPerPixel: number;
  readonly family: PixelFamily;
  /** Colour channels stored per pixel (1 for mono and Bayer). */
  readonly channels: number;
  /** Bits packed without per-pixel byte alignment (`...p` / `...Packed`). */
  readonly packed: boolean;
  /** Pixels stored as 16-bit little-endian words (10..16-bit unpacked formats); subject to byte swapping. */
  readonly wordPixels: boolean;
}

const defs: ReadonlyArray<readonly [string, number, PixelFamily, number]> = [
  ['Mono1p', 0x01010037, 'mono', 1],
  ['Mono2p', 0x01020038, 'mono', 1],
  ['Mono4p', 0x01040039, 'mono', 1],
  ['Mono8', 0x01080001, 'mono', 1],
  ['Mono8s', 0x01080002, 'mono', 1],
  ['Mono10', 0x01100003, 'mono', 1],
  ['Mono10Packed', 0x010c0004, 'mono', 1],
  ['Mono10p', 0x010a0046, 'mono', 1],
  ['Mono12', 0x01100005, 'mono', 1],
  ['Mono12Packed', 0x010c0006, 'mono', 1],
  ['Mono12p', 0x010c0047, 'mono', 1],
  ['Mono14', 0x01100025, 'mono', 1],
  ['Mono16', 0x01100007, 'mono', 1],
  ['BayerGR8', 0x01080008, 'bayer', 1],
  ['BayerRG8', 0x01080009, 'bayer', 1],
  ['BayerGB8', 0x0108000a, 'bayer', 1],
  ['BayerBG8', 0x0108000b, 'bayer', 1],
  ['BayerGR10', 0x0110000c, 'bayer', 1],
  ['BayerRG10', 0x0110000d, 'bayer', 1],
  ['BayerGB10', 0x0110000e, 'bayer', 1],
  ['BayerBG10', 0x0110000f, 'bayer', 1],
  ['BayerGR12', 0x01100010, 'bayer', 1],
  ['BayerRG12', 0x01100011, 'bayer', 1],
  ['BayerGB12', 0x01100012, 'bayer', 1],
  ['BayerBG12', 0x01100013, 'bayer', 1],
  ['BayerGR10Packed', 0x010c0026, 'bayer', 1],
  ['BayerRG10Packed', 0x010c0027, 'bayer', 1],
  ['BayerGB10Packed', 0x010c0028, 'bayer', 1],
  ['BayerBG10Packed', 0x010c0029, 'bayer', 1],
  ['BayerGR12Packed', 0x010c002a, 'bayer', 1],
  ['BayerRG12Packed', 0x010c002b, 'bayer', 1],
  ['BayerGB12Packed', 0x010c002c, 'bayer', 1],
  ['BayerBG12Packed', 0x010c002d, 'bayer', 1],
  ['BayerGR16', 0x0110002e, 'bayer', 1],
  ['BayerRG16', 0x0110002f, 'bayer', 1],
  ['BayerGB16', 0x01100030, 'bayer', 1],
  ['BayerBG16', 0x01100031, 'bayer', 1],
  ['BayerBG10p', 0x010a0052, 'bayer', 1],
  ['BayerGB10p', 0x010a0054, 'bayer', 1],
  ['BayerGR10p', 0x010a0056, 'bayer', 1],
  ['BayerRG10p', 0x010a0058, 'bayer', 1],
  ['BayerBG12p', 0x010c0053, 'bayer', 1],
  ['BayerGB12p', 0x010c0055, 'bayer', 1],
  ['BayerGR12p', 0x010c0057, 'bayer', 1],
  ['BayerRG12p', 0x010c0059, 'bayer', 1],
  ['RGB8', 0x02180014, 'rgb', 3],
  ['BGR8', 0x02180015, 'rgb', 3],
  ['RGBa8', 0x02200016, 'rgb', 4],
  ['BGRa8', 0x02200017, 'rgb', 4],
  ['RGB10', 0x02300018, 'rgb', 3],
  ['BGR10', 0x02300019, 'rgb', 3],
  ['RGB12', 0x0230001a, 'rgb', 3],
  ['BGR12', 0x0230001b, 'rgb', 3],
  ['RGB16', 0x02300033, 'rgb', 3],
  ['RGB10V1Packed', 0x0220001c, 'rgb', 3],
  ['RGB10p32', 0x0220001d, 'rgb', 3],
  ['RGB12V1Packed', 0x02240034, 'rgb', 3],
  ['RGB565p', 0x02100035, 'rgb', 3],
  ['BGR565p', 0x02100036, 'rgb', 3],
  ['RGB8_Planar', 0x02180021, 'rgb', 3],
  ['RGB10_Planar', 0x02300022, 'rgb', 3],
  ['RGB12_Planar', 0x02300023, 'rgb', 3],
  ['RGB16_Planar', 0x02300024, 'rgb', 3],
  ['YUV411_8_UYYVYY', 0x020c001e, 'yuv', 3],
  ['YUV422_8_UYVY', 0x0210001f, 'yuv', 3],
  ['YUV422_8', 0x02100032, 'yuv', 3],
  ['YUV8_UYV', 0x02180020, 'yuv', 3],
  ['YCbCr8_CbYCr', 0x0218003a, 'yuv', 3],
  ['YCbCr422_8', 0x0210003b, 'yuv', 3],
  ['YCbCr422_8_CbYCrY', 0x02100043, 'yuv', 3],
  ['YCbCr411_8_CbYYCrYY', 0x020c003c, 'yuv', 3],
];

function makeInfo([name, id, family, channels]: readonly [string, number, PixelFamily, number]): PixelFormatInfo {
  const bitsPerPixel = (id >>> 16) & 0xff;
  const packed = /p$|Packed|p32$|V1Packed/.test(name) && !/_Planar$/.test(name);
  const bitsPerChannel = bitsPerPixel / channels;
  const wordPixels = !packed && family !== 'yuv' && bitsPerChannel > 8 && bitsPerChannel <= 16;
  return { name, id, bitsPerPixel, family, channels, packed, wordPixels };
}

/** Every known pixel format, in table order. */
export const PIXEL_FORMATS: readonly PixelFormatInfo[] = defs.map(makeInfo);

const byId = new Map<number, PixelFormatInfo>(PIXEL_FORMATS.map((f) => [f.id, f]));
const byName = new Map<string, PixelFormatInfo>(PIXEL_FORMATS.map((f) => [f.name.toLowerCase(), f]));

/** PFNC ids by name, e.g. `PixelFormat.Mono8 === 0x01080001`. */
export const PixelFormat: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(PIXEL_FORMATS.map((f) => [f.name, f.id])),
);

/** Information on a pixel format id; unknown ids still get their bits per pixel from the id. */
export function pixelFormatInfo(id: number): PixelFormatInfo | undefined {
  return byId.get(id >>> 0);
}

/** The pixel format with this PFNC name (case-insensitive), or undefined. */
export function pixelFormatByName(name: string): PixelFormatInfo | undefined {
  return byName.get(name.toLowerCase());
}

/** Bits per pixel from a GigE Vision pixel format id (the "occupied bits" byte), known or not. */
export function pixelFormatBits(id: number): number {
  return (id >>> 16) & 0xff;
}

/** A name for logs: the PFNC name or the hex id. */
export function pixelFormatName(id: number): string {
  return byId.get(id >>> 0)?.name ?? `0x${(id >>> 0).toString(16).padStart(8, '0')}`;
}

/** Bytes of an image of `width` x `height` pixels in this format, plus line/frame padding. */
export function imageByteSize(pixelFormat: number, width: number, height: number, paddingX = 0, paddingY = 0): number {
  const bits = pixelFormatBits(pixelFormat);
  const line = Math.ceil((width * bits) / 8) + paddingX;
  return line * height + paddingY;
}
