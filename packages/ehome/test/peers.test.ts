import { readFileSync } from 'node:fs';
import { TimeoutError } from '@cam/net-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeMessage,
  EhomeDevice,
  type EhomeMessage,
  type EhomeRequest,
  FieldTypeError,
  request,
  sniffEncoding,
} from '../src/index.js';
import { Cleanup, nextEvent, RawPeer, startServer, track } from './helpers.js';

const c = new Cleanup();
afterEach(() => c.run());

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/peers/${name}`, import.meta.url));
/** A fixture with some element texts replaced (the sequence a device expects, the ports of this test). */
const patched = (name: string, values: Record<string, string | number>): Buffer => {
  let text = fixture(name).toString('latin1');
  for (const [tag, v] of Object.entries(values)) {
    const re = new RegExp(`<${tag}>[^<]*</${tag}>`);
    expect(re.test(text), `${name} has <${tag}>`).toBe(true);
    text = text.replace(re, `<${tag}>${v}</${tag}>`);
  }
  return Buffer.from(text, 'latin1');
};

/** The next message from the peer's inbox that matches (others are skipped). */
async function nextWhere(peer: RawPeer, pred: (m: EhomeMessage) => boolean, ms = 5000): Promise<EhomeMessage> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = await peer.next(Math.max(1, deadline - Date.now()));
    if (pred(m)) return m;
  }
}
const isRequest =
  (command: string) =>
  (m: EhomeMessage): m is EhomeRequest =>
    m.kind === 'request' && m.command === command;

describe('a public EHome 4.0 client REGISTER', () => {
  it('decodes: word flags, "UTF - 8" declaration, <Method> in the request, an empty password', () => {
    const bytes = fixture('ehome40-client-register.xml');
    expect(sniffEncoding(bytes)).toBe('UTF-8');
    const m = decodeMessage(bytes);
    expect(m).toMatchObject({
      kind: 'request',
      command: 'REGISTER',
      version: '4.0',
      sequence: 1,
      params: {
        deviceId: 'demo40',
        serialNumber: 'DS-2CD0000-SIM',
        password: '',
        detectPackage: 1,
        reliableTransmission: 1,
        registerServer: '127.0.0.1',
      },
    });
  });

  it('registers with EhomeServer', async () => {
    const server = await startServer(c);
    const peer = await RawPeer.open(c);
    const online = nextEvent(server, 'online');
    peer.send(fixture('ehome40-client-register.xml'), server.addresses().port);
    const answer = await peer.next();
    expect(answer).toMatchObject({ kind: 'response', command: 'REGISTER', status: 200, sequence: 1 });
    expect((await online).deviceId).toBe('demo40');
    expect(server.devices().map((d) => d.deviceId)).toEqual(['demo40']);
  });

  it('reads every flag spelling public clients use, and refuses anything else with a typed error', () => {
    const base = fixture('ehome40-client-register.xml').toString('utf8');
    for (const [word, value] of [
      ['TRUE', 1],
      ['true', 1],
      ['1', 1],
      ['FALSE', 0],
      ['false', 0],
      ['0', 0],
    ] as const) {
      const m = decodeMessage(Buffer.from(base.replace('<DetectPackage>TRUE<', `<DetectPackage>${word}<`)));
      expect(m.kind === 'request' && m.command === 'REGISTER' && m.params.detectPackage).toBe(value);
    }
    for (const word of ['yes', '2', 'True ', 'on']) {
      const bytes = Buffer.from(base.replace('<DetectPackage>TRUE<', `<DetectPackage>${word}<`));
      expect(() => decodeMessage(bytes)).toThrow(FieldTypeError);
    }
  });

  it('reads declared encodings with spaces in the label ("GB 2312" carries Chinese text)', () => {
    const xml = (label: string) =>
      `<?xml version="1.0" encoding="${label}" ?><PPVSPMessage><Version>2.0</Version><Sequence>1</Sequence><CommandType>REQUEST</CommandType><Command>KEEPALIVE</Command><Params><DeviceID>cam01</DeviceID></Params></PPVSPMessage>`;
    expect(sniffEncoding(Buffer.from(xml('UTF - 8')))).toBe('UTF-8');
    expect(sniffEncoding(Buffer.from(xml(' GB 2312 ')))).toBe('GB2312');
    expect(() => sniffEncoding(Buffer.from(xml('ISO 8859 1')))).toThrow(/unsupported XML encoding/);
  });
});

describe('FreeEhome message shapes', () => {
  it('decodes what the Go platform sends: no declaration, indented, Version 2.5 or 4, <Method> in answers', () => {
    expect(decodeMessage(fixture('freeehome-register-response.xml'))).toMatchObject({
      kind: 'response',
      command: 'REGISTER',
      status: 200,
      version: '2.5',
      params: { keepAliveSeconds: 15, alarmServerPort: 7332, pictureServer: '', pictureServerPort: 0, ntpServerIp: '' },
    });
    expect(decodeMessage(fixture('freeehome-keepalive-response.xml'))).toMatchObject({
      command: 'KEEPALIVE',
      status: 200,
    });
    expect(decodeMessage(fixture('freeehome-keepalive-reregister.xml'))).toMatchObject({
      command: 'KEEPALIVE',
      status: 403,
    });
    expect(decodeMessage(fixture('freeehome-getdeviceconfig-request.xml'))).toMatchObject({
      kind: 'request',
      command: 'GETDEVICECONFIG',
      params: { configCmd: 'GetServerInfo', configParam1: 0, configParam4: 0 },
    });
    expect(decodeMessage(fixture('freeehome-getdeviceworkstatus-request.xml'))).toMatchObject({
      kind: 'request',
      command: 'GETDEVICEWORKSTATUS',
      version: '4',
      params: {},
    });
    expect(decodeMessage(fixture('freeehome-invitestream-request.xml'))).toMatchObject({
      command: 'INVITESTREAM',
      params: { channel: 1, channelType: 'SUB', sinkIp: '127.0.0.1', sinkPort: 7661 },
    });
    expect(decodeMessage(fixture('freeehome-byestream-request.xml'))).toMatchObject({
      command: 'BYESTREAM',
      params: { session: '1' },
    });
  });

  /**
   * A platform that speaks FreeEhome's shapes: answers REGISTER and KEEPALIVE from the fixtures, sends its own
   * requests, and never answers ALARM or GPS (FreeEhome handles only REGISTER and KEEPALIVE requests).
   */
  async function freeEhomePlatform(keepAliveSeconds = 1) {
    const peer = await RawPeer.open(c);
    const dev = track(
      c,
      new EhomeDevice({
        server: { host: '127.0.0.1', port: peer.port },
        deviceId: 'fe01',
        localAddress: '127.0.0.1',
        requestAttemptMs: 100,
        maxResends: 1,
        backoff: { initialMs: 50, maxMs: 200 },
      }),
    );
    const registerAnswer = async (): Promise<void> => {
      const reg = await nextWhere(peer, isRequest('REGISTER'));
      peer.send(
        patched('freeehome-register-response.xml', {
          Sequence: reg.sequence,
          KeepAliveSeconds: keepAliveSeconds,
          AlarmServerPort: peer.port,
        }),
        dev.address().port,
      );
    };
    return { peer, dev, registerAnswer };
  }

  it('the simulated device registers with it and answers its GETDEVICECONFIG and GETDEVICEWORKSTATUS', async () => {
    const { peer, dev, registerAnswer } = await freeEhomePlatform(30);
    const started = dev.start({ timeoutMs: 5000 });
    await registerAnswer();
    await started;
    expect(dev.registration).toMatchObject({ keepAliveSeconds: 30, alarmServerPort: peer.port, pictureServer: '' });
    peer.send(fixture('freeehome-getdeviceconfig-request.xml'), dev.address().port);
    const cfg = await nextWhere(peer, (m) => m.kind === 'response' && m.command === 'GETDEVICECONFIG');
    expect(cfg).toMatchObject({ status: 200, sequence: 2 });
    expect(cfg.kind === 'response' && cfg.command === 'GETDEVICECONFIG' && cfg.params?.configXml).toMatchObject({
      SERVERINFO: { ChannelNumber: '1' },
    });
    peer.send(fixture('freeehome-getdeviceworkstatus-request.xml'), dev.address().port);
    expect(await nextWhere(peer, (m) => m.kind === 'response' && m.command === 'GETDEVICEWORKSTATUS')).toMatchObject({
      status: 200,
      sequence: 4,
    });
    peer.send(fixture('freeehome-byestream-request.xml'), dev.address().port);
    // No media handler on this device: a typed 501, not silence.
    expect(await nextWhere(peer, (m) => m.kind === 'response' && m.command === 'BYESTREAM')).toMatchObject({
      status: 501,
      sequence: 8,
    });
  });

  it('an unanswered ALARM or GPS is a rejected call, and the KEEPALIVEs go on; a 403 KEEPALIVE answer re-registers', async () => {
    const { peer, dev, registerAnswer } = await freeEhomePlatform(1);
    const started = dev.start({ timeoutMs: 5000 });
    await registerAnswer();
    await started;
    await expect(dev.raiseAlarm({ pictures: 0 })).rejects.toThrow(TimeoutError);
    await expect(dev.sendGps({ latitude: 22.5, longitude: 114 })).rejects.toThrow(TimeoutError);
    expect(dev.registered).toBe(true);
    // The heartbeat goes on after the unanswered alarm and GPS: two more KEEPALIVEs, answered in FreeEhome's shape.
    for (let i = 0; i < 2; i++) {
      const ka = await nextWhere(peer, isRequest('KEEPALIVE'), 3000);
      peer.send(patched('freeehome-keepalive-response.xml', { Sequence: ka.sequence }), dev.address().port);
    }
    expect(dev.registered).toBe(true);
    await expect.poll(() => dev.stats.keepalivesAnswered).toBeGreaterThanOrEqual(2);
    // FreeEhome's "register again" answer to a KEEPALIVE (403, Method REGISTER) makes the device register again.
    const ka = await nextWhere(peer, isRequest('KEEPALIVE'), 3000);
    peer.send(patched('freeehome-keepalive-reregister.xml', { Sequence: ka.sequence }), dev.address().port);
    await registerAnswer();
    await expect.poll(() => dev.stats.registrations).toBe(2);
  });
});

describe('the device reply cache is scoped to one platform session', () => {
  it('a new platform reusing Sequence 2 after REGISTER gets a fresh answer, never the old session cached one', async () => {
    const peer = await RawPeer.open(c);
    const dev = track(
      c,
      new EhomeDevice({
        server: { host: '127.0.0.1', port: peer.port },
        deviceId: 'fe02',
        localAddress: '127.0.0.1',
        backoff: { initialMs: 50, maxMs: 200 },
      }),
    );
    const answerRegister = async (): Promise<void> => {
      const reg = await nextWhere(peer, isRequest('REGISTER'));
      peer.send(
        patched('freeehome-register-response.xml', { Sequence: reg.sequence, KeepAliveSeconds: 1 }),
        dev.address().port,
      );
    };
    const started = dev.start({ timeoutMs: 5000 });
    await answerRegister();
    await started;
    const ask = (configCmd: string) =>
      peer.send(request('GETDEVICECONFIG', 2, { configCmd }, { version: '2.5' }), dev.address().port);
    ask('GetServerInfo');
    const first = await nextWhere(peer, (m) => m.kind === 'response' && m.command === 'GETDEVICECONFIG');
    expect(first).toMatchObject({ status: 200, sequence: 2 });
    // A resend within the session is answered from the cache, not run twice.
    ask('GetServerInfo');
    await nextWhere(peer, (m) => m.kind === 'response' && m.command === 'GETDEVICECONFIG');
    expect(dev.stats.duplicateRequests).toBe(1);
    // The platform restarts (same address and port) and tells the device to register again.
    const ka = await nextWhere(peer, isRequest('KEEPALIVE'), 3000);
    peer.send(patched('freeehome-keepalive-reregister.xml', { Sequence: ka.sequence }), dev.address().port);
    await answerRegister();
    await expect.poll(() => dev.stats.registrations).toBe(2);
    // Its first request is #2 again, another command: answered for what it asks (404), not with the cached 200.
    ask('NoSuchBlock');
    const second = await nextWhere(peer, (m) => m.kind === 'response' && m.command === 'GETDEVICECONFIG');
    expect(second).toMatchObject({ status: 404, sequence: 2 });
    expect(dev.stats.duplicateRequests).toBe(1);
  });
});
