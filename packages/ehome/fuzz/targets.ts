/**
 * Fuzz targets of @cam/ehome (contract: test-support/hostile-types.ts): every exported decoder and streaming
 * decoder, seeded from the package's own encoders and its fixtures. Accepted input returns; bad input must throw a
 * `WireError` (the package's typed errors all are), never anything else.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { WireError } from '@cam/net-utils';
import type { FuzzTarget } from '../../../test-support/hostile-types.js';
import {
  decodeMessage,
  decodeMessageGeneral,
  decodeMessageText,
  decodeRtp,
  encodeMessage,
  encodeRtp,
  H264TestPatternGenerator,
  implausibleSignal,
  isKeyframe,
  keepaliveScan,
  MediaStreamDecoder,
  MediaStreamEncoder,
  muxPs,
  nalUnits,
  PsDemuxer,
  request,
  response,
  scanKeepalive,
  sniffEncoding,
} from '../src/index.js';

const isTyped = (e: unknown): boolean => WireError.isInstance(e);

function fixtureSignals(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const dir of ['signals', 'peers']) {
    const url = new URL(`../test/fixtures/${dir}/`, import.meta.url);
    for (const name of readdirSync(url)) if (name.endsWith('.xml')) out.push(readFileSync(new URL(name, url)));
  }
  return out;
}

function encodedSignals(): Uint8Array[] {
  const register = request(
    'REGISTER',
    1,
    {
      netUnitType: 'PU',
      deviceId: 'fuzz01',
      firmwareVersion: 'V5.5.0 build 190101',
      localIp: '10.0.0.2',
      localPort: 7660,
      devType: 1,
      manufacture: 0,
      password: 'pw',
      detectPackage: 1,
      reliableTransmission: 0,
    },
    { version: '4.0' },
  );
  const keepalive = request('KEEPALIVE', 7, { deviceId: 'fuzz01' }, { encoding: 'GB2312' });
  const alarm = request('ALARM', 9, {
    deviceId: 'fuzz01',
    channel: 1,
    alarmType: 'MOTION',
    alarmTime: '2026-01-01 08:00:00',
    picIds: ['P1', 'P2'],
    needsResponse: 1,
  });
  const config = request('SETDEVICECONFIG', 3, {
    configCmd: 'RecordCfg',
    configXml: { RecordPlan: { Enable: 'true', Day: ['1', '2'] } },
  });
  return [
    encodeMessage(register),
    encodeMessage(response(register, 200, 'OK', { keepAliveSeconds: 15, alarmServerIp: '10.0.0.1' })),
    encodeMessage(keepalive),
    encodeMessage(response(keepalive, 403, 'register again')),
    encodeMessage(alarm),
    encodeMessage(config),
  ];
}

const signalSeeds = (): Uint8Array[] => [...fixtureSignals(), ...encodedSignals()];

/** Access units of the package's own H.264 generator, muxed to PS as the simulated device does. */
function psSeeds(): Uint8Array[] {
  const gen = new H264TestPatternGenerator({ width: 32, height: 32, gop: 3 });
  const out: Uint8Array[] = [];
  for (let i = 0; i < 4; i++) {
    const au = gen.next();
    out.push(muxPs({ data: au.data, pts: au.pts, keyframe: au.keyframe }));
  }
  return [Buffer.concat(out), out[0]!, out[1]!];
}

function streamSeeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const [framing, strayByte] of [
    ['rtp-interleaved', false],
    ['private-header', false],
    ['rtp-interleaved', true],
  ] as const) {
    const gen = new H264TestPatternGenerator({ width: 32, height: 32, gop: 2 });
    const enc = new MediaStreamEncoder({ framing, strayByte, maxPayload: 512, ssrc: 1, initialSequence: 65530 });
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) parts.push(enc.encode(gen.next()));
    out.push(Buffer.concat(parts));
  }
  return out;
}

/** Pieces of `input` at the runner's cut points. */
function pieces(input: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of cuts) {
    if (c <= prev || c >= input.length) continue;
    out.push(input.subarray(prev, c));
    prev = c;
  }
  out.push(input.subarray(prev));
  return out;
}

const targets: FuzzTarget[] = [
  {
    name: 'ehome decodeMessage',
    seeds: signalSeeds,
    run: (input) => {
      decodeMessage(input);
    },
    isExpectedError: isTyped,
    maxInputBytes: 4096,
  },
  {
    name: 'ehome decodeMessageGeneral',
    seeds: signalSeeds,
    run: (input) => {
      decodeMessageGeneral(input);
    },
    isExpectedError: isTyped,
    maxInputBytes: 4096,
  },
  {
    name: 'ehome decodeMessageText',
    seeds: signalSeeds,
    run: (input) => {
      decodeMessageText(new TextDecoder('utf-8').decode(input));
    },
    isExpectedError: isTyped,
    maxInputBytes: 4096,
  },
  {
    name: 'ehome scanKeepalive',
    seeds: signalSeeds,
    // A scanner: true or false for any bytes, never an exception.
    run: (input) => {
      scanKeepalive(input, keepaliveScan());
    },
    isExpectedError: () => false,
    maxInputBytes: 4096,
  },
  {
    name: 'ehome implausibleSignal',
    seeds: signalSeeds,
    // The platform's byte pre-check: never throws, and never refuses a datagram the decoder accepts.
    run: (input) => {
      const why = implausibleSignal(input);
      if (why === undefined) return;
      let decoded = false;
      try {
        decodeMessage(input);
        decoded = true;
      } catch {
        // refused by both: as it should be
      }
      if (decoded) throw new Error(`the pre-check refused (${why}) a signal decodeMessage accepts`);
    },
    isExpectedError: () => false,
    maxInputBytes: 4096,
  },
  {
    name: 'ehome sniffEncoding',
    seeds: signalSeeds,
    run: (input) => {
      sniffEncoding(input);
    },
    isExpectedError: isTyped,
    maxInputBytes: 4096,
  },
  {
    name: 'ehome decodeRtp',
    seeds: () => [
      encodeRtp({ marker: true, payloadType: 96, sequenceNumber: 1, timestamp: 3600, ssrc: 7, payload: psSeeds()[1]! }),
      encodeRtp({
        marker: false,
        payloadType: 96,
        sequenceNumber: 65535,
        timestamp: 0,
        ssrc: 0,
        payload: new Uint8Array(0),
      }),
    ],
    run: (input) => {
      decodeRtp(input);
    },
    isExpectedError: isTyped,
  },
  {
    name: 'ehome PsDemuxer',
    seeds: psSeeds,
    run: (input, cuts) => {
      const d = new PsDemuxer({ maxAccessUnitSize: 1024 * 1024 });
      for (const p of pieces(input, cuts)) d.push(p);
      d.end();
    },
    isExpectedError: isTyped,
    maxInputBytes: 256 * 1024,
  },
  {
    name: 'ehome MediaStreamDecoder',
    seeds: streamSeeds,
    run: (input, cuts) => {
      const d = new MediaStreamDecoder({ maxAccessUnitSize: 1024 * 1024 });
      for (const p of pieces(input, cuts)) d.push(p);
      d.end();
    },
    isExpectedError: isTyped,
    maxInputBytes: 256 * 1024,
  },
  {
    name: 'ehome nalUnits',
    seeds: () => {
      const gen = new H264TestPatternGenerator({ width: 32, height: 32 });
      return [gen.next().data, gen.next().data];
    },
    run: (input) => {
      for (const _ of nalUnits(input)) {
        // walk every NAL unit
      }
      isKeyframe(input, 'h264');
      isKeyframe(input, 'h265');
    },
    isExpectedError: () => false,
  },
];

export default targets;
