import { type GvspBlock, GvspPayloadType, imageBlock, imagePartSpecific, PixelFormat } from '../src/index.js';

/** One block of every payload type the sender supports, shared by the engine-agreement tests. */
export type Kind = 'image' | 'raw' | 'h264' | 'multizone' | 'gendc' | 'multipart' | 'allIn' | 'chunks';

export function pattern(n: number, seed: number): Uint8Array {
  const d = new Uint8Array(n);
  for (let i = 0; i < n; i++) d[i] = (i * 31 + seed * 7) & 0xff;
  return d;
}

export function block(kind: Kind, seed: number): GvspBlock {
  const common = { fieldInfo: 0, genericFlags: 0, chunksAppended: false };
  switch (kind) {
    case 'image':
      return imageBlock({ pixelFormat: PixelFormat.Mono8, width: 60, height: 40, data: pattern(2400, seed) });
    case 'chunks':
      return imageBlock({
        pixelFormat: PixelFormat.Mono8,
        width: 30,
        height: 20,
        data: pattern(600, seed),
        chunkData: pattern(64, seed + 1),
      } as Parameters<typeof imageBlock>[0]);
    case 'allIn':
      return {
        ...imageBlock({ pixelFormat: PixelFormat.Mono8, width: 8, height: 8, data: pattern(64, seed) }),
        allIn: true,
      };
    case 'multipart': {
      const part = (len: number, w: number, h: number) => ({
        dataType: 1,
        partLength: len,
        format: PixelFormat.Mono8,
        sourceId: 0,
        additionalZones: 0,
        zoneDirection: 0,
        dataPurposeId: 0,
        regionId: 0,
        dataTypeSpecific: imagePartSpecific({ sizeX: w, sizeY: h, offsetX: 0, offsetY: 0, paddingX: 0, paddingY: 0 }),
      });
      return {
        leader: {
          ...common,
          payloadType: GvspPayloadType.MULTIPART,
          timestamp: 5n,
          parts: [part(1500, 50, 30), part(600, 30, 20)],
        },
        trailer: { reserved: 0, payloadType: GvspPayloadType.MULTIPART, chunksAppended: false, parts: [] },
        data: pattern(2100, seed),
      };
    }
    case 'h264':
      return {
        leader: {
          ...common,
          payloadType: GvspPayloadType.H264,
          payloadSize: 2000n,
          packetizationMode: 0,
          packetSize: 1000,
          profileIdc: 0,
          constraintSet: 0,
          levelIdc: 0,
          sropInterleavingDepth: 0,
          sropMaxDonDiff: 0,
          sropDeintBufReq: 0,
          sropInitBufTime: 0,
        },
        trailer: { reserved: 0, payloadType: GvspPayloadType.H264, chunksAppended: false },
        data: pattern(2000, seed),
        dataKind: 'h264',
      };
    case 'multizone':
      return {
        leader: {
          ...common,
          payloadType: GvspPayloadType.MULTIZONE_IMAGE,
          timestamp: 1n,
          zoneDirection: 0,
          pixelFormat: PixelFormat.Mono8,
          sizeX: 50,
          sizeY: 40,
          offsetX: 0,
          offsetY: 0,
          paddingX: 0,
          paddingY: 0,
        },
        trailer: { reserved: 0, payloadType: GvspPayloadType.MULTIZONE_IMAGE, chunksAppended: false, sizeY: 40 },
        data: pattern(2000, seed),
        dataKind: 'multizone',
      };
    case 'gendc':
      return {
        leader: {
          ...common,
          payloadType: GvspPayloadType.GENDC_CONTAINER,
          timestamp: 1n,
          payloadSize: 2000n,
          gendcFlags: 0,
          descriptorSize: 0,
        },
        trailer: { reserved: 0, payloadType: GvspPayloadType.GENDC_CONTAINER, chunksAppended: false },
        data: pattern(2000, seed),
        dataKind: 'gendc',
      };
    default:
      return {
        leader: { ...common, payloadType: GvspPayloadType.RAW_DATA, timestamp: 1n, payloadSize: 2000n },
        trailer: { reserved: 0, payloadType: GvspPayloadType.RAW_DATA, chunksAppended: false },
        data: pattern(2000, seed),
      };
  }
}

export const KINDS: readonly Kind[] = ['image', 'raw', 'h264', 'multizone', 'gendc', 'multipart', 'allIn', 'chunks'];
