import { readdirSync, readFileSync } from 'node:fs';
import { WireError } from '@cam/net-utils';
import iconv from 'iconv-lite';
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  type EhomeMessage,
  encodeMessage,
  FieldTypeError,
  MAX_SIGNAL_BYTES,
  MissingFieldError,
  messageToXml,
  request,
  response,
  SignalEncodingError,
  SignalTooLargeError,
  sniffEncoding,
  UnknownCommandError,
  XmlEntityError,
  XmlSyntaxError,
} from '../src/index.js';

const dir = new URL('./fixtures/signals/', import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** What each public-capture fixture decodes to. */
const expected: Record<string, EhomeMessage> = {
  'register-request-2.0.xml': {
    kind: 'request',
    version: '2.0',
    sequence: 1,
    encoding: 'GB2312',
    command: 'REGISTER',
    params: {
      netUnitType: 'PU',
      deviceId: 'ehome0001',
      firmwareVersion: 'V5.4.5 build 170124',
      localIp: '192.168.1.64',
      localPort: 8000,
      devType: 1,
      manufacture: 0,
    },
  },
  'register-request-4.0.xml': {
    kind: 'request',
    version: '4.0',
    sequence: 3,
    encoding: 'UTF-8',
    command: 'REGISTER',
    params: {
      netUnitType: 'PU',
      deviceId: 'ehome0002',
      firmwareVersion: 'V5.6.3 build 190923',
      localIp: '192.168.1.65',
      localPort: 8000,
      devType: 31,
      manufacture: 0,
      serialNumber: 'DS-2CD2T45FWD-I820190923AACH000000001',
      password: 'secret42',
      detectPackage: 0,
      reliableTransmission: 0,
      registerServer: '192.168.1.10',
    },
  },
  'register-request-chinese.xml': {
    kind: 'request',
    version: '2.0',
    sequence: 5,
    encoding: 'GB2312',
    command: 'REGISTER',
    params: {
      netUnitType: 'PU',
      deviceId: 'ehome0003',
      firmwareVersion: 'V5.4.5 中文版 170124',
      localIp: '192.168.1.66',
      localPort: 8000,
      devType: 1,
      manufacture: 0,
    },
  },
  'register-response.xml': {
    kind: 'response',
    version: '2.5',
    sequence: 1,
    encoding: 'GB2312',
    command: 'REGISTER',
    status: 200,
    description: 'OK',
    params: {
      keepAliveSeconds: 15,
      alarmServerIp: '192.168.1.10',
      alarmServerPort: 7332,
      alarmServerType: 0,
      ntpServerIp: '192.168.1.10',
      ntpServerPort: 123,
      ntpInterval: 60,
      pictureServer: '192.168.1.10',
      pictureServerPort: 6011,
      pictureServerType: 1,
      blackListAddr: '',
      blackListName: '',
      blackListPort: 0,
      blackListUser: '',
      blackListPassword: '',
    },
  },
  'keepalive-request.xml': {
    kind: 'request',
    version: '2.0',
    sequence: 2,
    encoding: 'GB2312',
    command: 'KEEPALIVE',
    params: { deviceId: 'ehome0001' },
  },
  'keepalive-response.xml': {
    kind: 'response',
    version: '2.5',
    sequence: 2,
    encoding: 'GB2312',
    command: 'KEEPALIVE',
    status: 200,
    description: 'OK',
    params: {},
  },
  'keepalive-reregister-response.xml': {
    kind: 'response',
    version: '2.5',
    sequence: 2,
    encoding: 'GB2312',
    command: 'KEEPALIVE',
    status: 403,
    description: 'Forbidden',
  },
  'getdeviceconfig-request.xml': {
    kind: 'request',
    version: '2.5',
    sequence: 4,
    encoding: 'GB2312',
    command: 'GETDEVICECONFIG',
    params: { configCmd: 'GetServerInfo', configParam1: 0, configParam2: 0, configParam3: 0, configParam4: 0 },
  },
  'getdeviceconfig-response.xml': {
    kind: 'response',
    version: '2.0',
    sequence: 4,
    encoding: 'GB2312',
    command: 'GETDEVICECONFIG',
    status: 200,
    description: 'OK',
    params: {
      configXml: {
        SERVERINFO: {
          ChannelNumber: '4',
          ChannelAmount: '4',
          DVRType: '94',
          DiskNumber: '1',
          SerialNumber: 'DS-7804N-K10420170118CCWR000000001WCVU',
          AlarmInPortNum: '0',
          AlarmInAmount: '0',
          AlarmOutPortNum: '0',
          AlarmOutAmount: '0',
          StartChannel: '1',
          AudioChanNum: '1',
          MaxDigitChannelNum: '4',
          AudioEncType: '0',
          SmartType: '0',
          StartChan: '1',
          StartDChan: '33',
        },
      },
    },
  },
  'getdeviceworkstatus-request.xml': {
    kind: 'request',
    version: '2.5',
    sequence: 6,
    encoding: 'GB2312',
    command: 'GETDEVICEWORKSTATUS',
    params: {},
  },
  'getdeviceworkstatus-response.xml': {
    kind: 'response',
    version: '2.0',
    sequence: 6,
    encoding: 'GB2312',
    command: 'GETDEVICEWORKSTATUS',
    status: 200,
    description: 'OK',
    params: {
      status: {
        run: 0,
        cpu: 12,
        mem: 47,
        disks: [{ disk: 1, capacityMb: 953869, freeMb: 22528, state: 0 }],
        channels: [
          { channel: 1, recording: 1, signal: 0, encoding: 0, bitrateKbps: 2034, clients: 0 },
          { channel: 2, recording: 1, signal: 0, encoding: 0, bitrateKbps: 1987, clients: 1 },
        ],
        alarmInStatus: '',
        alarmOutStatus: '',
        localDisplayStatus: 0,
        remark: 'test',
      },
    },
  },
  'queryrecordedfiles-request.xml': {
    kind: 'request',
    version: '2.5',
    sequence: 6194,
    encoding: 'GB2312',
    command: 'QUERYRECORDEDFILES',
    params: {
      channel: 2,
      fileType: 255,
      startTime: '2021-09-15 00:00:00',
      stopTime: '2021-09-15 23:59:59',
      chunkSize: 8,
      startIdx: 0,
    },
  },
  'queryrecordedfiles-response.xml': {
    kind: 'response',
    version: '2.0',
    sequence: 6194,
    encoding: 'GB2312',
    command: 'QUERYRECORDEDFILES',
    status: 200,
    description: 'OK',
    params: {
      files: [
        {
          name: 'ch0002_00000000009000000',
          start: '2021-09-15 11:08:46',
          stop: '2021-09-15 11:45:24',
          size: 1065141708,
          flag: 0,
        },
        {
          name: 'ch0002_00000000010000000',
          start: '2021-09-15 11:45:24',
          stop: '2021-09-15 11:47:56',
          size: 76423324,
          flag: 0,
        },
        {
          name: 'ch0002_00000000010000100',
          start: '2021-09-15 11:49:36',
          stop: '2021-09-15 12:03:34',
          size: 399183424,
          flag: 0,
        },
      ],
    },
  },
  'ptzcontrol-request.xml': {
    kind: 'request',
    version: '2.5',
    sequence: 6256,
    encoding: 'GB2312',
    command: 'PTZCONTROL',
    params: { channel: 2, ptzCmd: 'LEFT', action: 'Start', speed: 4 },
  },
  'ptzcontrol-response-401.xml': {
    kind: 'response',
    version: '2.0',
    sequence: 6256,
    encoding: 'GB2312',
    command: 'PTZCONTROL',
    status: 401,
    description: 'System Oper Faild.',
  },
  'gps-request.xml': {
    kind: 'request',
    version: '2.0',
    sequence: 1137,
    encoding: 'UTF-8',
    command: 'GPS',
    params: {
      deviceId: '123457',
      time: '2021-08-23 16:35:35',
      divisionEW: 'E',
      longitude: 43713595,
      divisionNS: 'N',
      latitude: 11214118,
      direction: 0,
      speed: 0,
      satellites: 7,
      precision: 13,
      height: 2160,
      retransFlag: 1,
      needsResponse: 1,
      timeZone: '+08:00',
      remark: 'test/debug',
    },
  },
  'gps-response.xml': {
    kind: 'response',
    version: '2.5',
    sequence: 1137,
    encoding: 'GB2312',
    command: 'GPS',
    status: 200,
    description: 'OK',
    params: { retransFlag: 1 },
  },
  'invitestream-request.xml': {
    kind: 'request',
    version: '2.5',
    sequence: 8,
    encoding: 'GB2312',
    command: 'INVITESTREAM',
    params: { channel: 1, channelType: 'SUB', sinkIp: '192.168.1.10', sinkPort: 20000 },
  },
  'invitestream-response.xml': {
    kind: 'response',
    version: '2.0',
    sequence: 8,
    encoding: 'GB2312',
    command: 'INVITESTREAM',
    status: 200,
    description: 'OK',
    params: { session: '1' },
  },
  'byestream-request.xml': {
    kind: 'request',
    version: '2.5',
    sequence: 10,
    encoding: 'GB2312',
    command: 'BYESTREAM',
    params: { session: '1' },
  },
};

describe('public capture shapes', () => {
  it('has an expectation for every fixture', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.xml'));
    expect(files.sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [name, want] of Object.entries(expected)) {
    describe(name, () => {
      it('decodes to the typed message', () => {
        expect(decodeMessage(fixture(name))).toEqual(want);
      });
      it('encodes back to an equivalent signal in the same encoding (mirror)', () => {
        const bytes = encodeMessage(want);
        expect(bytes.byteLength).toBeLessThanOrEqual(MAX_SIGNAL_BYTES);
        expect(sniffEncoding(bytes)).toBe(want.encoding);
        expect(decodeMessage(bytes)).toEqual(want);
      });
      it('decodes the same when the bytes arrive in a pooled Buffer at an offset', () => {
        const raw = fixture(name);
        const pool = Buffer.alloc(raw.length + 37);
        pool.set(raw, 37);
        expect(decodeMessage(pool.subarray(37))).toEqual(want);
      });
    });
  }
});

describe('encodings', () => {
  it('writes GB2312 bytes for Chinese text and declares it', () => {
    const m = request(
      'DEVICESTATUS',
      9,
      { deviceId: 'd1', time: '2026-01-01 00:00:00', statusType: 'DISKFULL', description: '硬盘已满' },
      { encoding: 'GB2312' },
    );
    const bytes = encodeMessage(m);
    const text = iconv.decode(Buffer.from(bytes), 'gb2312');
    expect(text.startsWith('<?xml version="1.0" encoding="GB2312"?>')).toBe(true);
    expect(text).toContain('<Description>硬盘已满</Description>');
    expect(Buffer.from(bytes).includes(iconv.encode('硬盘已满', 'gb2312'))).toBe(true);
    expect(decodeMessage(bytes)).toEqual(m);
  });

  it('writes UTF-8 for EHome 4.0 and reads it back', () => {
    const m = request('TRANSDATA', 1, { deviceId: 'd1', data: 'AAEC' }, { version: '4.0', encoding: 'UTF-8' });
    const bytes = encodeMessage(m);
    expect(new TextDecoder().decode(bytes)).toContain('encoding="UTF-8"');
    expect(decodeMessage(bytes)).toEqual(m);
  });

  it('honours the declaration: the same text in GB2312 and UTF-8 decodes to the same message', () => {
    const xml = (enc: string): string =>
      `<?xml version="1.0" encoding="${enc}"?><PPVSPMessage><Version>2.0</Version><Sequence>1</Sequence><CommandType>REQUEST</CommandType><Method>MESSAGE</Method><Command>DEVICESTATUS</Command><Params><DeviceID>d</DeviceID><Time>2026-01-01 00:00:00</Time><StatusType>X</StatusType><Description>报警 ok</Description></Params></PPVSPMessage>`;
    const gb = decodeMessage(iconv.encode(xml('GB2312'), 'gb2312'));
    const u8 = decodeMessage(utf8(xml('UTF-8')));
    expect(gb.kind === 'request' && gb.command === 'DEVICESTATUS' && gb.params.description).toBe('报警 ok');
    expect({ ...gb, encoding: 'UTF-8' }).toEqual(u8);
  });

  it('treats a signal without declaration as UTF-8', () => {
    const m = decodeMessage(
      utf8(
        '<PPVSPMessage><Version>2.0</Version><Sequence>7</Sequence><CommandType>REQUEST</CommandType><Command>KEEPALIVE</Command><Params><DeviceID>é1</DeviceID></Params></PPVSPMessage>'.replace(
          'é1',
          'd1',
        ),
      ),
    );
    expect(m.encoding).toBe('UTF-8');
  });

  it('refuses a character GB2312 cannot carry instead of writing "?"', () => {
    const m = request(
      'DEVICESTATUS',
      1,
      { deviceId: 'd', time: '2026-01-01 00:00:00', statusType: 'X', description: 'emoji 😀' },
      { encoding: 'GB2312' },
    );
    expect(() => encodeMessage(m)).toThrow(SignalEncodingError);
  });

  it('refuses bytes invalid in the declared encoding and unknown encodings', () => {
    const bad = new Uint8Array([...utf8('<?xml version="1.0" encoding="UTF-8"?><PPVSPMessage>'), 0xff, 0xfe]);
    expect(() => decodeMessage(bad)).toThrow(SignalEncodingError);
    const latin = utf8('<?xml version="1.0" encoding="ISO-8859-1"?><PPVSPMessage/>');
    expect(() => decodeMessage(latin)).toThrow(SignalEncodingError);
  });
});

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('refusals', () => {
  const keepalive = (params: string, extra = ''): Uint8Array =>
    utf8(
      `<?xml version="1.0" encoding="UTF-8"?><PPVSPMessage><Version>2.0</Version><Sequence>5</Sequence>${extra}<CommandType>REQUEST</CommandType><Command>KEEPALIVE</Command><Params>${params}</Params></PPVSPMessage>`,
    );

  it('refuses a signal above 1500 bytes on decode, before parsing', () => {
    const big = keepalive(`<DeviceID>d1</DeviceID><Pad>${'x'.repeat(1500)}</Pad>`);
    const e = catchError(() => decodeMessage(big));
    expect(SignalTooLargeError.isInstance(e)).toBe(true);
    expect((e as SignalTooLargeError).size).toBe(big.length);
    expect((e as SignalTooLargeError).limit).toBe(1500);
  });

  it('refuses to encode a signal above 1500 bytes', () => {
    const m = request('SETDEVICECONFIG', 1, {
      configCmd: 'Big',
      configXml: { Block: Array.from({ length: 40 }, (_, i) => `value-${i}-${'y'.repeat(20)}`) },
    });
    expect(() => encodeMessage(m)).toThrow(SignalTooLargeError);
  });

  it('accepts exactly 1500 bytes', () => {
    const base = keepalive('<DeviceID>d1</DeviceID><Pad></Pad>');
    const padded = keepalive(`<DeviceID>d1</DeviceID><Pad>${'x'.repeat(1500 - base.length)}</Pad>`);
    expect(padded.length).toBe(1500);
    expect(decodeMessage(padded).command).toBe('KEEPALIVE');
  });

  it('refuses malformed XML with a typed error', () => {
    for (const bad of [
      '<PPVSPMessage><Version>2.0</Version>',
      '<PPVSPMessage><Version>2.0</Sequence></PPVSPMessage>',
      'hello',
      '',
      '<PPVSPMessage><Version>2.0</Version></PPVSPMessage>trailing',
      '<A/><B/>',
    ]) {
      const e = catchError(() => decodeMessage(utf8(bad)));
      expect(WireError.isInstance(e), bad).toBe(true);
    }
    expect(() => decodeMessage(keepalive('<DeviceID>d1</DeviceID'))).toThrow(XmlSyntaxError);
  });

  it('refuses a DTD with entity declarations without expanding them (billion laughs)', () => {
    const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><PPVSPMessage><Version>2.0</Version><Sequence>1</Sequence><CommandType>REQUEST</CommandType><Command>KEEPALIVE</Command><Params><DeviceID>&lol3;</DeviceID></Params></PPVSPMessage>`;
    const e = catchError(() => decodeMessage(utf8(lol)));
    expect(XmlEntityError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(/DOCTYPE/);
  });

  it('refuses an external entity declaration and an undefined entity reference', () => {
    const xxe = `<?xml version="1.0"?><!ENTITY xxe SYSTEM "file:///etc/passwd"><PPVSPMessage/>`;
    expect(() => decodeMessage(utf8(xxe))).toThrow(XmlEntityError);
    expect(() => decodeMessage(keepalive('<DeviceID>&xxe;</DeviceID>'))).toThrow(XmlEntityError);
  });

  it('resolves only the predefined entities and character references', () => {
    const m = decodeMessage(
      utf8(
        '<PPVSPMessage><Version>2.0</Version><Sequence>1</Sequence><CommandType>REQUEST</CommandType><Method>MESSAGE</Method><Command>DEVICESTATUS</Command><Params><DeviceID>d</DeviceID><Time>2026-01-01 00:00:00</Time><StatusType>X</StatusType><Description>&lt;a&gt; &amp; &quot;b&quot; &#x4E2D;&#25991;</Description></Params></PPVSPMessage>',
      ),
    );
    expect(m.kind === 'request' && m.command === 'DEVICESTATUS' && m.params.description).toBe('<a> & "b" 中文');
  });

  it('names a missing field', () => {
    const e = catchError(() => decodeMessage(keepalive('')));
    expect(MissingFieldError.isInstance(e)).toBe(true);
    expect((e as MissingFieldError).field).toBe('Params.DeviceID');
    const noSeq = utf8(
      '<PPVSPMessage><Version>2.0</Version><CommandType>REQUEST</CommandType><Command>KEEPALIVE</Command></PPVSPMessage>',
    );
    expect((catchError(() => decodeMessage(noSeq)) as MissingFieldError).field).toBe('PPVSPMessage.Sequence');
  });

  it('names a field of the wrong type', () => {
    const reg = decodeMessage(fixture('register-request-2.0.xml'));
    const xml = messageToXml(reg).replace('<LocalPort>8000</LocalPort>', '<LocalPort>eighty</LocalPort>');
    const e = catchError(() => decodeMessage(iconv.encode(xml, 'gb2312')));
    expect(FieldTypeError.isInstance(e)).toBe(true);
    expect((e as FieldTypeError).field).toBe('Params.LocalPort');
    expect(catchError(() => decodeMessage(keepalive('<DeviceID>a b</DeviceID>')))).toBeInstanceOf(FieldTypeError);
    expect(
      (catchError(() => decodeMessage(keepalive('<DeviceID>d</DeviceID><DeviceID>e</DeviceID>'))) as FieldTypeError)
        .field,
    ).toBe('Params.DeviceID');
    const seq = utf8(
      '<PPVSPMessage><Version>2.0</Version><Sequence>-1</Sequence><CommandType>REQUEST</CommandType><Command>KEEPALIVE</Command></PPVSPMessage>',
    );
    expect((catchError(() => decodeMessage(seq)) as FieldTypeError).field).toBe('PPVSPMessage.Sequence');
    const method = keepalive('<DeviceID>d</DeviceID>', '<Method>PARAM</Method>');
    expect((catchError(() => decodeMessage(method)) as FieldTypeError).field).toBe('PPVSPMessage.Method');
  });

  it('reports an unknown command with what a server needs to answer it', () => {
    const e = catchError(() =>
      decodeMessage(
        utf8(
          '<PPVSPMessage><Version>2.0</Version><Sequence>42</Sequence><CommandType>REQUEST</CommandType><Command>FOO</Command></PPVSPMessage>',
        ),
      ),
    );
    expect(UnknownCommandError.isInstance(e)).toBe(true);
    expect(e).toMatchObject({ command: 'FOO', sequence: 42, commandType: 'REQUEST' });
  });

  it('refuses to encode a value that does not fit, naming the field', () => {
    const e = catchError(() =>
      encodeMessage(request('PTZCONTROL', 1, { channel: 1, ptzCmd: 'LEFT', action: 'Start', speed: 9 })),
    );
    expect(e).toMatchObject({ name: 'ValueOutOfRangeError', field: 'Params.Speed' });
    const ctl = catchError(() => encodeMessage(request('KEEPALIVE', 1, { deviceId: 'a\u0001b' })));
    expect(WireError.isInstance(ctl)).toBe(true);
  });

  it('survives random bytes: a message or a typed error, never anything else', () => {
    let seed = 12345;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 16;
    };
    const templates = Object.keys(expected).map(fixture);
    for (let i = 0; i < 20_000; i++) {
      let buf: Uint8Array;
      if (i % 2 === 0) {
        buf = new Uint8Array(rnd() % 1600);
        for (let j = 0; j < buf.length; j++) buf[j] = rnd() & 0xff;
      } else {
        // Mutate a real signal: flip, cut or duplicate bytes.
        const t = templates[i % templates.length]!;
        buf = t.slice(0, Math.max(1, t.length - (rnd() % 40)));
        for (let k = 0; k < 1 + (rnd() % 4); k++) buf[rnd() % buf.length] = rnd() & 0xff;
      }
      try {
        const m = decodeMessage(buf);
        expect(m.kind === 'request' || m.kind === 'response').toBe(true);
      } catch (e) {
        if (!WireError.isInstance(e)) throw e;
      }
    }
  });
});

describe('response helper', () => {
  it('echoes sequence, command and encoding of the request', () => {
    const req = request('KEEPALIVE', 77, { deviceId: 'x' }, { encoding: 'GB2312' });
    expect(response(req, 200, 'OK', {}, { version: '2.5' })).toEqual({
      kind: 'response',
      version: '2.5',
      sequence: 77,
      encoding: 'GB2312',
      command: 'KEEPALIVE',
      status: 200,
      description: 'OK',
      params: {},
    });
  });
});
