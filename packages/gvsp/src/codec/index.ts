// Pure GVSP codec: packets, PACKETRESEND, constants. Imports only @cam/net-utils/wire and @cam/gvcp/codec.

// The image leader carries PFNC pixel formats: the one table lives in @cam/gvcp/codec, re-exported here.
export {
  imageByteSize,
  PIXEL_FORMATS,
  type PixelFamily,
  PixelFormat,
  type PixelFormatInfo,
  type PixelFormatName,
  pixelFormatBits,
  pixelFormatByName,
  pixelFormatInfo,
  pixelFormatName,
} from '@cam/gvcp/codec';
export * from './constants.js';
export * from './packet.js';
export * from './packet-resend.js';
