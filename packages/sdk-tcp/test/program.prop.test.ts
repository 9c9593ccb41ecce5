import { WireError } from '@cam/net-utils';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  type Area,
  type AreaItem,
  area,
  clockItem,
  imageItem,
  type Program,
  parseProgramXml,
  program,
  programMedia,
  programToXml,
  type Screen,
  screen,
  textItem,
  videoItem,
} from '../src/codec/program.js';

const str = (max: number) => fc.string({ maxLength: max, unit: 'binary' });
const hex = fc.integer({ min: 0, max: 0xffffff }).map((n) => `#${n.toString(16).padStart(6, '0')}`);
const md5 = fc.oneof(fc.constant(''), fc.stringMatching(/^[0-9a-f]{32}$/));
const effect = fc.record({
  in: fc.integer({ min: 0, max: 29 }),
  out: fc.integer({ min: 0, max: 29 }),
  inSpeed: fc.integer({ min: 0, max: 10 }),
  outSpeed: fc.integer({ min: 0, max: 10 }),
  duration: fc.integer({ min: 0, max: 86_400 }),
});
const part = (maxFormat: number) =>
  fc.record({ display: fc.boolean(), color: hex, format: fc.integer({ min: 1, max: maxFormat }) });

const item: fc.Arbitrary<AreaItem> = fc.oneof(
  fc.record({
    kind: fc.constant('text' as const),
    guid: str(20),
    name: str(10),
    text: str(60),
    font: fc.record({
      name: str(20),
      size: fc.integer({ min: 1, max: 1024 }),
      color: hex,
      bold: fc.boolean(),
      italic: fc.boolean(),
      underline: fc.boolean(),
    }),
    align: fc.constantFrom('left' as const, 'center' as const, 'right' as const),
    valign: fc.constantFrom('top' as const, 'middle' as const, 'bottom' as const),
    singleLine: fc.boolean(),
    background: fc.oneof(fc.constant(''), hex),
    effect,
  }),
  fc.record({
    kind: fc.constant('image' as const),
    guid: str(20),
    name: str(10),
    file: fc.record({ name: str(20), md5 }),
    fit: fc.constantFrom('fill' as const, 'center' as const, 'stretch' as const, 'tile' as const),
    effect,
  }),
  fc.record({
    kind: fc.constant('video' as const),
    guid: str(20),
    name: str(10),
    file: fc.record({ name: str(20), md5 }),
    aspectRatio: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('clock' as const),
    guid: str(20),
    name: str(10),
    type: fc.constantFrom('digital' as const, 'dial' as const),
    timezone: str(8),
    adjust: fc.constantFrom('00:00:00', '+00:05:00', '-01:00:00'),
    title: fc.record({ display: fc.boolean(), color: hex, format: fc.constant(0), value: str(10) }),
    date: part(7),
    week: part(3),
    time: part(4),
  }),
);

const arbArea: fc.Arbitrary<Area> = fc.record({
  guid: str(20),
  name: str(10),
  alpha: fc.integer({ min: 0, max: 255 }),
  x: fc.integer({ min: -16384, max: 16384 }),
  y: fc.integer({ min: -16384, max: 16384 }),
  width: fc.integer({ min: 1, max: 16384 }),
  height: fc.integer({ min: 1, max: 16384 }),
  items: fc.array(item, { maxLength: 4 }),
});

const arbProgram: fc.Arbitrary<Program> = fc.record({
  guid: str(20),
  name: str(10),
  type: fc.constant('normal' as const),
  id: fc.integer({ min: 0, max: 1000 }),
  playCount: fc.integer({ min: 1, max: 999 }),
  disabled: fc.boolean(),
  areas: fc.array(arbArea, { maxLength: 4 }),
});

const arbScreen: fc.Arbitrary<Screen> = fc.record({
  timeStamps: fc.integer({ min: 0, max: 2 ** 40 }),
  programs: fc.array(arbProgram, { maxLength: 3 }),
});

describe('program XML', () => {
  test.prop([arbScreen])('program -> XML -> program is the identity', (s) => {
    expect(parseProgramXml(programToXml(s))).toEqual(s);
  });

  test.prop([arbScreen, fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 0, max: 255 })])(
    'a mutated document reads as a screen or fails with a typed error',
    (s, at, byte) => {
      const xml = programToXml(s);
      const i = xml.length === 0 ? 0 : at % xml.length;
      const mutated = xml.slice(0, i) + String.fromCharCode(byte) + xml.slice(i + 1);
      try {
        parseProgramXml(mutated);
      } catch (error) {
        expect(WireError.isInstance(error)).toBe(true);
      }
    },
  );

  it('the builder fills in the vendor defaults; media are listed once', () => {
    const s = screen([
      program([
        area({ x: 0, y: 0, width: 64, height: 16 }, [
          textItem('Hello', { effect: 'leftScrollLoop', color: '#00FF00' }),
        ]),
        area({ x: 64, y: 0, width: 64, height: 64 }, [
          imageItem('logo.png'),
          imageItem('logo.png'),
          videoItem('a.mp4'),
        ]),
        area({ x: 0, y: 16, width: 64, height: 48 }, [clockItem({ date: true })]),
      ]),
    ]);
    const t = s.programs[0]!.areas[0]!.items[0]!;
    expect(t).toMatchObject({ kind: 'text', singleLine: true, font: { color: '#00ff00', size: 12 } });
    expect(programMedia(s).map((m) => m.name)).toEqual(['logo.png', 'a.mp4']);
    expect(parseProgramXml(programToXml(s))).toEqual(s);
    const xml = programToXml(s);
    expect(xml).toContain('<rectangle x="64" y="0" width="64" height="64"/>');
    expect(xml).toContain('<effect in="26" out="0" inSpeed="4" outSpeed="0" duration="10"/>');
  });

  it('reads the layout KryQ/node-huidu-sdk writes (fast-xml-parser builder output)', () => {
    const kryq =
      '<screen timeStamps="1700000000"><program guid="p1" type="normal"><playControl count="1" disabled="false"></playControl>' +
      '<area alpha="255" guid="a1"><rectangle x="0" height="16" width="64" y="0"></rectangle><resources>' +
      '<text guid="t1" singleLine="false"><style valign="middle" align="left"></style><string>Hi &amp; bye</string>' +
      '<font name="5x8.bdf" italic="false" bold="false" underline="false" size="16" color="#FFFFFF"></font>' +
      '<effect in="26" out="0" inSpeed="8" outSpeed="0" duration="10"></effect></text></resources></area>' +
      '<area alpha="255" guid="a2"><rectangle x="64" height="16" width="16" y="0"></rectangle><resources>' +
      '<image guid="a2Image" fit="fill"><file name="logo.png"></file></image></resources></area></program></screen>';
    const s = parseProgramXml(kryq);
    expect(s.programs[0]!.areas.map((a) => [a.x, a.y, a.width, a.height])).toEqual([
      [0, 0, 64, 16],
      [64, 0, 16, 16],
    ]);
    expect(s.programs[0]!.areas[0]!.items[0]).toMatchObject({
      text: 'Hi & bye',
      font: { name: '5x8.bdf', color: '#ffffff' },
    });
  });

  it.each([
    ['<screen><program><area><resources/></area></program></screen>', /rectangle/],
    ['<screen><program><area><rectangle x="0" y="0" width="0" height="1"/></area></program></screen>', /width/],
    ['<screen><program type="html5"/></screen>', /not supported/],
    ['<nothing/>', /no <screen>/],
  ])('rejects %s', (xml, message) => {
    expect(() => parseProgramXml(xml)).toThrow(message);
  });
});
