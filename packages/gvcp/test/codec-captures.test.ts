import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '@cam/net-utils';
import { describe, expect, it } from 'vitest';
import {
  BootstrapRegister,
  decodeAck,
  decodeCommand,
  encodeAck,
  encodeCommand,
  GvcpStatus,
  isCommandDatagram,
  parseGenicamUrl,
  urlFromRegister,
} from '../src/index.js';

interface CapturePacket {
  proto: string;
  src_port: number;
  dst_port: number;
  payload_hex: string;
}

// Real Aravis traffic, made by tools/capture-fixtures (the stream capture is gvsp's fixture; its GVCP part is ours).
const captures: Record<string, URL> = {
  'aravis-arv-tool-control.json': new URL('./fixtures/captures/aravis-arv-tool-control.json', import.meta.url),
  'aravis-fake-gv-64x48.json': new URL('../../gvsp/test/fixtures/captures/aravis-fake-gv-64x48.json', import.meta.url),
};
const files = Object.keys(captures);

function load(name: string): CapturePacket[] {
  const url = captures[name];
  if (!url) throw new Error(`no capture ${name}`);
  return (JSON.parse(readFileSync(url, 'utf8')) as { packets: CapturePacket[] }).packets;
}

describe.each(files)('capture %s', (file) => {
  const packets = load(file).filter((p) => p.proto === 'gvcp');

  it('holds GVCP traffic', () => {
    expect(packets.length).toBeGreaterThan(20);
  });

  it('decodes every GVCP datagram and re-encodes it byte-identical', () => {
    let commands = 0;
    let acks = 0;
    for (const p of packets) {
      const bytes = fromHex(p.payload_hex);
      if (isCommandDatagram(bytes)) {
        const cmd = decodeCommand(bytes);
        expect(p.dst_port).toBe(3956);
        expect(toHex(encodeCommand(cmd))).toBe(p.payload_hex);
        commands++;
      } else {
        const ack = decodeAck(bytes);
        expect(p.src_port).toBe(3956);
        expect(ack.type).not.toBe('error');
        expect(toHex(encodeAck(ack))).toBe(p.payload_hex);
        acks++;
      }
    }
    expect(commands).toBeGreaterThan(0);
    expect(acks).toBeGreaterThan(0);
  });

  it('pairs every ack with the command of the same id and the matching code', () => {
    const pending = new Map<number, string>();
    for (const p of packets) {
      const bytes = fromHex(p.payload_hex);
      if (isCommandDatagram(bytes)) {
        const cmd = decodeCommand(bytes);
        pending.set(cmd.reqId, cmd.type);
      } else {
        const ack = decodeAck(bytes);
        const type = pending.get(ack.ackId);
        if (type !== undefined) expect(ack.type).toBe(type);
        expect(ack.status).toBe(GvcpStatus.SUCCESS);
      }
    }
  });
});

describe('capture contents', () => {
  const packets = load('aravis-arv-tool-control.json').map((p) => fromHex(p.payload_hex));

  it('has the fake camera identity in its DISCOVERY_ACK', () => {
    const acks = packets.filter((b) => !isCommandDatagram(b)).map(decodeAck);
    const disc = acks.find((a) => a.type === 'discovery');
    expect(disc?.type).toBe('discovery');
    if (disc?.type !== 'discovery') return;
    expect(disc.device.manufacturerName).toBe('Aravis');
    expect(disc.device.modelName).toBe('Fake');
    expect(disc.device.serialNumber).toBe('GV42');
    expect(disc.device.ip).toBe('127.0.0.1');
  });

  it('reads the first URL register and parses it as Local:', () => {
    const cmds = packets.filter(isCommandDatagram).map(decodeCommand);
    const urlRead = cmds.find((c) => c.type === 'readmem' && c.address === BootstrapRegister.FIRST_URL);
    expect(urlRead).toBeDefined();
    const acks = packets.filter((b) => !isCommandDatagram(b)).map(decodeAck);
    const ack = acks.find((a) => a.type === 'readmem' && a.ackId === urlRead?.reqId);
    if (ack?.type !== 'readmem') throw new Error('no READMEM_ACK for the URL');
    const url = parseGenicamUrl(urlFromRegister(ack.data));
    expect(url).toMatchObject({ scheme: 'local', fileName: 'arv-fake-camera.xml', address: 0x10000, size: 0x3e67 });
  });
});
