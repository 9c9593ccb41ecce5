/**
 * PFNC pixel formats as GigE Vision sends them (image leader, PixelFormat register): a 32-bit id whose high byte says
 * mono (0x01) or colour (0x02), whose next byte is the number of bits each pixel occupies, and whose low 16 bits
 * number the format. This is the one table of pixel formats in @cam: gvsp, sc-gvmp, the simulated device and the CLI
 * import it. The table lists the formats cameras commonly send.
 */

/** PFNC ids by PFNC name, e.g. `PixelFormat.Mono8 === 0x01080001` (typed: no `!` needed). */
export const PixelFormat = {
  Mono1p: 0x01010037,
  Mono2p: 0x01020038,
  Mono4p: 0x01040039,
  Mono8: 0x01080001,
  Mono8s: 0x01080002,
  Mono10: 0x01100003,
  Mono10Packed: 0x010c0004,
  Mono10p: 0x010a0046,
  Mono12: 0x01100005,
  Mono12Packed: 0x010c0006,
  Mono12p: 0x010c0047,
  Mono14: 0x01100025,
  Mono16: 0x01100007,
  BayerGR8: 0x01080008,
  BayerRG8: 0x01080009,
  BayerGB8: 0x0108000a,
  BayerBG8: 0x0108000b,
  BayerGR10: 0x0110000c,
  BayerRG10: 0x0110000d,
  BayerGB10: 0x0110000e,
  BayerBG10: 0x0110000f,
  BayerGR12: 0x01100010,
  BayerRG12: 0x01100011,
  BayerGB12: 0x01100012,
  BayerBG12: 0x01100013,
  BayerGR10Packed: 0x010c0026,
  BayerRG10Packed: 0x010c0027,
  BayerGB10Packed: 0x010c0028,
  BayerBG10Packed: 0x010c0029,
  BayerGR12Packed: 0x010c002a,
  BayerRG12Packed: 0x010c002b,
  BayerGB12Packed: 0x010c002c,
  BayerBG12Packed: 0x010c002d,
  BayerGR16: 0x0110002e,
  BayerRG16: 0x0110002f,
  BayerGB16: 0x01100030,
  BayerBG16: 0x01100031,
  BayerBG10p: 0x010a0052,
  BayerGB10p: 0x010a0054,
  BayerGR10p: 0x010a0056,
  BayerRG10p: 0x010a0058,
  BayerBG12p: 0x010c0053,
  BayerGB12p: 0x010c0055,
  BayerGR12p: 0x010c0057,
  BayerRG12p: 0x010c0059,
  RGB8: 0x02180014,
  BGR8: 0x02180015,
  RGBa8: 0x02200016,
  BGRa8: 0x02200017,
  RGB10: 0x02300018,
  BGR10: 0x02300019,
  RGB12: 0x0230001a,
  BGR12: 0x0230001b,
  RGB16: 0x02300033,
  RGB10V1Packed: 0x0220001c,
  RGB10p32: 0x0220001d,
  RGB12V1Packed: 0x02240034,
  RGB565p: 0x02100035,
  BGR565p: 0x02100036,
  RGB8_Planar: 0x02180021,
  RGB10_Planar: 0x02300022,
  RGB12_Planar: 0x02300023,
  RGB16_Planar: 0x02300024,
  YUV411_8_UYYVYY: 0x020c001e,
  YUV422_8_UYVY: 0x0210001f,
  YUV422_8: 0x02100032,
  YUV8_UYV: 0x02180020,
  YCbCr8_CbYCr: 0x0218003a,
  YCbCr422_8: 0x0210003b,
  YCbCr422_8_CbYCrY: 0x02100043,
  YCbCr411_8_CbYYCrYY: 0x020c003c,
} as const;
/** A PFNC name of {@link PixelFormat}. */
export type PixelFormatName = keyof typeof PixelFormat;

/** Colour family of a pixel format. */
export type PixelFamily = 'mono' | 'bayer' | 'rgb' | 'yuv';

export interface PixelFormatInfo {
  /** PFNC name, e.g. `Mono8`, `BayerRG12p`, `RGB8`. */
  readonly name: PixelFormatName;
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

function familyOf(name: string): PixelFamily {
  if (name.startsWith('Mono')) return 'mono';
  if (name.startsWith('Bayer')) return 'bayer';
  if (name.startsWith('YUV') || name.startsWith('YCbCr')) return 'yuv';
  return 'rgb';
}

function makeInfo(name: PixelFormatName, id: number): PixelFormatInfo {
  const family = familyOf(name);
  const channels = family === 'mono' || family === 'bayer' ? 1 : /^(RGBa|BGRa)/.test(name) ? 4 : 3;
  const bitsPerPixel = pixelFormatBits(id);
  const packed = /p$|Packed|p32$|V1Packed/.test(name) && !/_Planar$/.test(name);
  const bitsPerChannel = bitsPerPixel / channels;
  const wordPixels = !packed && family !== 'yuv' && bitsPerChannel > 8 && bitsPerChannel <= 16;
  return { name, id, bitsPerPixel, family, channels, packed, wordPixels };
}

/** Every known pixel format, in table order. */
export const PIXEL_FORMATS: readonly PixelFormatInfo[] = (Object.keys(PixelFormat) as PixelFormatName[]).map((n) =>
  makeInfo(n, PixelFormat[n]),
);

const byId = new Map<number, PixelFormatInfo>(PIXEL_FORMATS.map((f) => [f.id, f]));
const byName = new Map<string, PixelFormatInfo>(PIXEL_FORMATS.map((f) => [f.name.toLowerCase(), f]));

/** Information on a known pixel format id, or undefined (use {@link pixelFormatBits} for any id). */
export function pixelFormatInfo(id: number): PixelFormatInfo | undefined {
  return byId.get(id >>> 0);
}

/** The pixel format with this PFNC name (case-insensitive), or undefined. */
export function pixelFormatByName(name: string): PixelFormatInfo | undefined {
  return byName.get(name.toLowerCase());
}

/** Bits per pixel from a GigE Vision pixel format id (the "occupied bits" byte, bits 16..23), known or not. */
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

/** SFNC `TestPattern` enumeration values (the simulated device's feature; gvsp's sender draws them). */
export const TestPattern = {
  Off: 0,
  Black: 1,
  White: 2,
  GreyHorizontalRamp: 3,
  GreyVerticalRamp: 4,
  GreyDiagonalRamp: 5,
} as const;
export type TestPatternName = keyof typeof TestPattern;
