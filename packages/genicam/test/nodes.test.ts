import { describe, expect, it } from 'vitest';
import {
  FeatureTypeError,
  GenicamXmlError,
  InvalidValueError,
  NotAvailableError,
  NotReadableError,
  NotWritableError,
  OutOfRangeError,
  UnknownFeatureError,
} from '../src/index.js';
import { intReg, mapOf } from './helpers.js';

const BE = '<Endianess>BigEndian</Endianess>';

describe('Integer', () => {
  it('holds a literal Value, read-write, with the int64 range by default', async () => {
    const { map } = await mapOf('<Integer Name="N"><Value>7</Value></Integer>');
    expect(await map.get('N')).toBe(7);
    await map.set('N', 9n);
    expect(await map.get('N')).toBe(9);
    const d = await map.describe('N');
    expect(d).toMatchObject({
      type: 'Integer',
      interface: 'IInteger',
      access: 'RW',
      min: -(2n ** 63n),
      max: 2n ** 63n - 1n,
      inc: 1,
    });
  });

  it('reads through pValue and checks Min, Max and Inc, naming the range in the error', async () => {
    const { map, port } = await mapOf(`
      <Integer Name="Width"><pValue>WidthReg</pValue><Min>16</Min><pMax>MaxW</pMax><Inc>8</Inc><Unit>px</Unit>
        <Representation>Linear</Representation></Integer>
      <Integer Name="MaxW"><Value>1024</Value></Integer>
      ${intReg('WidthReg', 0x100, BE)}`);
    port.setUint32(0x100, 640);
    expect(await map.get('Width')).toBe(640);
    await map.set('Width', 800);
    expect(port.getUint32(0x100)).toBe(800);
    const err = await map.set('Width', 2000).catch((e: unknown) => e);
    expect(OutOfRangeError.isInstance(err)).toBe(true);
    expect(err).toMatchObject({ feature: 'Width', min: 16, max: 1024, value: 2000 });
    await expect(map.set('Width', 17)).rejects.toMatchObject({ name: 'OutOfRangeError', inc: 8 });
    await map.set('MaxW', 4096);
    await map.set('Width', 2000);
    expect(port.getUint32(0x100)).toBe(2000);
    expect(await map.describe('Width')).toMatchObject({
      min: 16,
      max: 4096,
      inc: 8,
      unit: 'px',
      representation: 'Linear',
    });
  });

  it('takes min and max from pValue when it has none', async () => {
    const { map } = await mapOf(
      `<Integer Name="I"><pValue>R</pValue></Integer>${intReg('R', 0, '<Sign>Signed</Sign>', 2)}`,
    );
    expect(await map.describe('I')).toMatchObject({ min: -32768, max: 32767 });
  });

  it('selects ValueIndexed / pValueIndexed by pIndex, else the default', async () => {
    const { map } = await mapOf(`
      <Integer Name="Sel"><Value>0</Value></Integer>
      <Integer Name="Other"><Value>42</Value></Integer>
      <Integer Name="X"><pIndex>Sel</pIndex><ValueIndexed Index="1">10</ValueIndexed>
        <pValueIndexed Index="2">Other</pValueIndexed><ValueDefault>5</ValueDefault></Integer>`);
    expect(await map.get('X')).toBe(5);
    await map.set('Sel', 1);
    expect(await map.get('X')).toBe(10);
    await map.set('Sel', 2);
    expect(await map.get('X')).toBe(42);
    await map.set('X', 43);
    expect(await map.get('Other')).toBe(43);
  });

  it('returns integers beyond 2^53 as bigint', async () => {
    const { map, port } = await mapOf(`<Integer Name="Big"><pValue>R</pValue></Integer>${intReg('R', 0, BE, 8)}`);
    port.memory.set([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0);
    expect(await map.get('Big')).toBe(2n ** 63n - 1n);
    expect(await map.getInteger('Big')).toBe(2n ** 63n - 1n);
  });

  it('rejects values of the wrong kind', async () => {
    const { map } = await mapOf('<Integer Name="N"><Value>7</Value></Integer>');
    await expect(map.set('N', 1.5)).rejects.toBeInstanceOf(InvalidValueError);
    await expect(map.set('N', 'abc')).rejects.toMatchObject({ name: 'InvalidValueError', feature: 'N' });
    await map.set('N', '0x10');
    expect(await map.get('N')).toBe(16);
  });
});

describe('availability, lock and access', () => {
  const body = `
    <Integer Name="Avail"><Value>1</Value></Integer>
    <Integer Name="Impl"><Value>1</Value></Integer>
    <Integer Name="Lock"><Value>0</Value></Integer>
    <Integer Name="F"><pIsAvailable>Avail</pIsAvailable><pIsImplemented>Impl</pIsImplemented><pIsLocked>Lock</pIsLocked>
      <Value>3</Value></Integer>
    <Integer Name="Imposed"><ImposedAccessMode>RO</ImposedAccessMode><Value>1</Value></Integer>
    <Integer Name="WoInt"><pValue>Wo</pValue></Integer>
    <IntReg Name="Wo"><Address>0</Address><Length>4</Length><AccessMode>WO</AccessMode><pPort>Device</pPort></IntReg>`;

  it('follows pIsAvailable, pIsImplemented, pIsLocked and ImposedAccessMode', async () => {
    const { map } = await mapOf(body);
    expect(await map.accessMode('F')).toBe('RW');
    await map.set('Lock', 1);
    expect(await map.accessMode('F')).toBe('RO');
    await expect(map.set('F', 4)).rejects.toSatisfy((e) => NotWritableError.isInstance(e) && e.feature === 'F');
    await map.set('Avail', 0);
    const na = await map.get('F').catch((e: unknown) => e);
    expect(NotAvailableError.isInstance(na) && na.access === 'NA').toBe(true);
    await map.set('Impl', 0);
    expect(await map.accessMode('F')).toBe('NI');
    await expect(map.set('Imposed', 2)).rejects.toBeInstanceOf(NotWritableError);
    await expect(map.get('WoInt')).rejects.toBeInstanceOf(NotReadableError);
    await map.set('WoInt', 5);
  });

  it('names unknown features', async () => {
    const { map } = await mapOf(body);
    const e = await map.get('Nope').catch((x: unknown) => x);
    expect(UnknownFeatureError.isInstance(e) && e.feature === 'Nope' && e.message.includes("'Nope'")).toBe(true);
    expect(() => map.typeOf('Nope')).toThrow(UnknownFeatureError);
  });
});

describe('Float', () => {
  it('reads a FloatReg through pValue, checks its range', async () => {
    const { map, port } = await mapOf(`
      <Float Name="Gain"><pValue>GainReg</pValue><Min>0</Min><Max>24</Max><Unit>dB</Unit></Float>
      <FloatReg Name="GainReg"><Address>0x10</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort>
        ${BE}</FloatReg>
      <FloatReg Name="D"><Address>0x20</Address><Length>8</Length><AccessMode>RW</AccessMode><pPort>Device</pPort></FloatReg>`);
    await map.set('Gain', 6.5);
    expect(new DataView(port.memory.buffer).getFloat32(0x10, false)).toBe(6.5);
    expect(await map.get('Gain')).toBe(6.5);
    await expect(map.set('Gain', 30)).rejects.toMatchObject({ name: 'OutOfRangeError', min: 0, max: 24 });
    await map.set('D', Math.PI);
    expect(new DataView(port.memory.buffer).getFloat64(0x20, true)).toBe(Math.PI);
    expect(await map.get('D')).toBe(Math.PI);
    expect(await map.describe('Gain')).toMatchObject({
      type: 'Float',
      interface: 'IFloat',
      unit: 'dB',
      min: 0,
      max: 24,
    });
  });
});

describe('Boolean', () => {
  it('maps OnValue / OffValue', async () => {
    const { map, port } = await mapOf(`
      <Boolean Name="B"><pValue>R</pValue><OnValue>321</OnValue><OffValue>123</OffValue></Boolean>${intReg('R', 0, BE)}`);
    expect(await map.get('B')).toBe(false);
    await map.set('B', true);
    expect(port.getUint32(0)).toBe(321);
    expect(await map.get('B')).toBe(true);
    await map.set('B', 'false');
    expect(port.getUint32(0)).toBe(123);
    await expect(map.set('B', 'maybe')).rejects.toBeInstanceOf(InvalidValueError);
  });
});

describe('Command', () => {
  it('writes CommandValue on execute and reports isDone', async () => {
    const { map, port } = await mapOf(`
      <Command Name="Go"><pValue>R</pValue><CommandValue>5</CommandValue></Command>
      <Command Name="Stop"><pValue>W</pValue><pCommandValue>Cv</pCommandValue></Command>
      <Integer Name="Cv"><Value>9</Value></Integer>
      ${intReg('R', 0, BE)}
      <IntReg Name="W"><Address>4</Address><AccessMode>WO</AccessMode><pPort>Device</pPort>${BE}</IntReg>`);
    await map.execute('Go');
    expect(port.getUint32(0)).toBe(5);
    expect(await map.isDone('Go')).toBe(false);
    port.setUint32(0, 0);
    map.invalidateCache();
    expect(await map.isDone('Go')).toBe(true);
    await map.execute('Stop');
    expect(port.getUint32(4)).toBe(9);
    expect(await map.accessMode('Stop')).toBe('WO');
    await expect(map.get('Stop')).rejects.toBeInstanceOf(NotReadableError);
    await expect(map.set('Go', 1)).rejects.toBeInstanceOf(FeatureTypeError);
    await expect(map.execute('Cv')).rejects.toBeInstanceOf(FeatureTypeError);
  });
});

describe('String and StringReg', () => {
  it('reads NUL-terminated text and rejects text longer than the register', async () => {
    const { map, port } = await mapOf(`
      <String Name="S"><pValue>SR</pValue></String>
      <String Name="L"><Value>hello</Value></String>
      <StringReg Name="SR"><Address>0x40</Address><Length>8</Length><AccessMode>RW</AccessMode><pPort>Device</pPort></StringReg>`);
    port.memory.set(new TextEncoder().encode('abc\0zzz'), 0x40);
    expect(await map.get('S')).toBe('abc');
    await map.set('S', 'Camera');
    expect(await map.get('SR')).toBe('Camera');
    expect(Array.from(port.memory.subarray(0x40, 0x48))).toEqual([67, 97, 109, 101, 114, 97, 0, 0]);
    await expect(map.set('S', 'far too long')).rejects.toBeInstanceOf(InvalidValueError);
    await expect(map.set('S', 5)).rejects.toBeInstanceOf(InvalidValueError);
    expect(await map.get('L')).toBe('hello');
  });
});

describe('Enumeration', () => {
  const body = `
    <Enumeration Name="Mode"><pValue>R</pValue>
      <EnumEntry Name="Off"><Value>0</Value><DisplayName>Switched off</DisplayName></EnumEntry>
      <EnumEntry Name="On"><Value>1</Value></EnumEntry>
      <EnumEntry Name="Auto"><Value>2</Value><pIsAvailable>AutoOk</pIsAvailable></EnumEntry>
      <EnumEntry Name="Hidden"><Value>3</Value><pIsImplemented>Zero</pIsImplemented></EnumEntry>
    </Enumeration>
    <Integer Name="AutoOk"><Value>0</Value></Integer>
    <Integer Name="Zero"><Value>0</Value></Integer>
    ${intReg('R', 0, BE)}`;

  it('reads and writes entry names or values; lists what may be set', async () => {
    const { map, port } = await mapOf(body);
    expect(await map.get('Mode')).toBe('Off');
    await map.set('Mode', 'On');
    expect(port.getUint32(0)).toBe(1);
    await map.set('Mode', 0);
    expect(await map.get('Mode')).toBe('Off');
    const e = await map.set('Mode', 'Turbo').catch((x: unknown) => x);
    expect(InvalidValueError.isInstance(e) && e.allowed).toEqual(['Off', 'On']);
    await expect(map.set('Mode', 'Auto')).rejects.toBeInstanceOf(InvalidValueError);
    await map.set('AutoOk', 1);
    await map.set('Mode', 'Auto');
    expect(await map.get('Mode')).toBe('Auto');
    port.setUint32(0, 77);
    map.invalidateCache();
    await expect(map.get('Mode')).rejects.toBeInstanceOf(InvalidValueError);
    const d = await map.describe('Mode');
    expect(d.entries).toEqual([
      { name: 'Off', value: 0, displayName: 'Switched off', available: true },
      { name: 'On', value: 1, displayName: 'On', available: true },
      { name: 'Auto', value: 2, displayName: 'Auto', available: true },
    ]);
    expect(map.has('EnumEntry_Mode_Auto')).toBe(true);
  });
});

describe('Register', () => {
  it('reads and writes raw bytes of the exact length', async () => {
    const { map, port } = await mapOf(
      '<Register Name="Raw"><Address>0x8</Address><Length>6</Length><AccessMode>RW</AccessMode><pPort>Device</pPort></Register>',
    );
    await map.set('Raw', new Uint8Array([1, 2, 3, 4, 5, 6]));
    expect(Array.from(port.memory.subarray(8, 14))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from((await map.get('Raw')) as Uint8Array)).toEqual([1, 2, 3, 4, 5, 6]);
    await expect(map.set('Raw', new Uint8Array(2))).rejects.toBeInstanceOf(InvalidValueError);
    await expect(map.set('Raw', 5)).rejects.toBeInstanceOf(InvalidValueError);
    expect(await map.describe('Raw')).toMatchObject({ interface: 'IRegister', address: 8n, length: 6 });
  });
});

describe('IntReg', () => {
  it('decodes sign, endianness and lengths 1..8, and checks the representable range', async () => {
    const { map, port } = await mapOf(`
      ${intReg('U8', 0, '', 1)}
      ${intReg('S16le', 2, '<Sign>Signed</Sign>', 2)}
      ${intReg('S16be', 4, `<Sign>Signed</Sign>${BE}`, 2)}
      ${intReg('U64', 8, BE, 8)}`);
    port.memory.set([0xff, 0, 0xfe, 0xff, 0xff, 0xfe], 0);
    expect(await map.get('U8')).toBe(255);
    expect(await map.get('S16le')).toBe(-2);
    expect(await map.get('S16be')).toBe(-2);
    await map.set('S16le', -300);
    expect(Array.from(port.memory.subarray(2, 4))).toEqual([0xd4, 0xfe]);
    await expect(map.set('U8', 256)).rejects.toMatchObject({ name: 'OutOfRangeError', min: 0, max: 255 });
    await expect(map.set('S16be', 40000)).rejects.toMatchObject({ name: 'OutOfRangeError', min: -32768, max: 32767 });
    await map.set('U64', 2n ** 64n - 1n);
    expect(await map.get('U64')).toBe(2n ** 64n - 1n);
  });
});

describe('MaskedIntReg and StructReg', () => {
  it('reads and writes bit fields, numbering bits by the register endianness', async () => {
    const { map, port } = await mapOf(`
      <MaskedIntReg Name="LeField"><Address>0</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort>
        <LSB>4</LSB><MSB>7</MSB></MaskedIntReg>
      <MaskedIntReg Name="BeField"><Address>4</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort>
        ${BE}<LSB>31</LSB><MSB>24</MSB><Sign>Signed</Sign></MaskedIntReg>
      <MaskedIntReg Name="Bit"><Address>4</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort>
        ${BE}<Bit>0</Bit></MaskedIntReg>`);
    port.memory.set([0xab, 0xcd, 0, 0], 0);
    expect(await map.get('LeField')).toBe(0xa);
    await map.set('LeField', 3);
    expect(Array.from(port.memory.subarray(0, 4))).toEqual([0x3b, 0xcd, 0, 0]);
    port.setUint32(4, 0x800000ff);
    expect(await map.get('BeField')).toBe(-1);
    expect(await map.get('Bit')).toBe(1);
    await map.set('BeField', 5);
    expect(port.getUint32(4)).toBe(0x80000005);
    await expect(map.set('LeField', 16)).rejects.toMatchObject({ name: 'OutOfRangeError', max: 15 });
    expect(await map.describe('BeField')).toMatchObject({
      min: -128,
      max: 127,
      type: 'MaskedIntReg',
      lsb: 31,
      msb: 24,
      sign: 'Signed',
      endianness: 'BigEndian',
      cachable: 'WriteThrough',
      address: 4n,
      length: 4,
    });
  });

  it('expands StructReg entries into bit-field nodes sharing the register', async () => {
    const { map, port } = await mapOf(`
      <StructReg Comment="S"><Address>0x10</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort>${BE}
        <StructEntry Name="Hi"><LSB>15</LSB><MSB>0</MSB></StructEntry>
        <StructEntry Name="Lo"><LSB>31</LSB><MSB>16</MSB><Sign>Signed</Sign></StructEntry>
        <StructEntry Name="RoBit"><Bit>0</Bit><AccessMode>RO</AccessMode></StructEntry>
      </StructReg>`);
    port.setUint32(0x10, 0x1234fffe);
    expect(await map.get('Hi')).toBe(0x1234);
    expect(await map.get('Lo')).toBe(-2);
    expect(map.typeOf('Lo')).toBe('StructEntry');
    await map.set('Lo', 7);
    expect(port.getUint32(0x10)).toBe(0x12340007);
    await expect(map.set('RoBit', 1)).rejects.toBeInstanceOf(NotWritableError);
  });
});

describe('Converter and IntConverter', () => {
  const body = `
    <Float Name="FrameRate"><pValue>Conv</pValue></Float>
    <Converter Name="Conv"><pVariable Name="K">K</pVariable><FormulaTo>K / FROM</FormulaTo><FormulaFrom>K / TO</FormulaFrom>
      <pValue>Period</pValue><Slope>Decreasing</Slope></Converter>
    <Integer Name="K"><Value>1000000</Value></Integer>
    <Integer Name="Period"><pValue>PeriodReg</pValue><Min>1000</Min><Max>10000000</Max></Integer>
    ${intReg('PeriodReg', 0, BE)}
    <IntConverter Name="Half"><FormulaTo>FROM * 2</FormulaTo><FormulaFrom>TO / 2</FormulaFrom><pValue>HalfReg</pValue></IntConverter>
    ${intReg('HalfReg', 4, BE)}`;

  it('converts both ways, maps and orders the range', async () => {
    const { map, port } = await mapOf(body);
    port.setUint32(0, 40000);
    expect(await map.get('FrameRate')).toBe(25);
    await map.set('FrameRate', 50);
    expect(port.getUint32(0)).toBe(20000);
    expect(await map.describe('FrameRate')).toMatchObject({ min: 0.1, max: 1000 });
    await expect(map.set('FrameRate', 0.01)).rejects.toBeInstanceOf(OutOfRangeError);
    port.setUint32(4, 11);
    // IntConverter formulas compute in doubles; 5.5 rounds to the nearest integer, halves away from zero.
    expect(await map.get('Half')).toBe(6);
    port.setUint32(4, 10);
    map.invalidateCache();
    expect(await map.get('Half')).toBe(5);
    await map.set('Half', 21);
    expect(port.getUint32(4)).toBe(42);
    expect(map.typeOf('Half')).toBe('IntConverter');
  });
});

describe('SwissKnife and IntSwissKnife', () => {
  it('evaluates with pVariable, Constant and Expression, and is read-only', async () => {
    const { map, port } = await mapOf(`
      <SwissKnife Name="Sk"><pVariable Name="R">Reg</pVariable><Constant Name="SCALE">0.5</Constant>
        <Expression Name="DOUBLE">R * 2</Expression><Formula>DOUBLE * SCALE + 0.25</Formula><Unit>us</Unit></SwissKnife>
      <IntSwissKnife Name="Isk"><pVariable Name="R">Reg</pVariable><Formula>R / 3</Formula></IntSwissKnife>
      ${intReg('Reg', 0, BE)}`);
    port.setUint32(0, 10);
    expect(await map.get('Sk')).toBe(10.25);
    expect(await map.get('Isk')).toBe(3);
    await expect(map.set('Sk', 1)).rejects.toBeInstanceOf(NotWritableError);
    expect(await map.describe('Isk')).toMatchObject({ type: 'IntSwissKnife', access: 'RO', formula: 'R / 3' });
  });

  it('reports a bad formula as GenicamXmlError naming the node', async () => {
    await expect(mapOf('<SwissKnife Name="Bad"><Formula>1 +</Formula></SwissKnife>')).rejects.toMatchObject({
      name: 'GenicamXmlError',
      node: 'Bad',
    });
    // an undeclared variable is not a syntax error: the file loads with a warning, reading the node fails
    const { map } = await mapOf('<IntSwissKnife Name="Unbound"><Formula>X + 1</Formula></IntSwissKnife>');
    expect(map.warnings.join('\n')).toMatch(/Unbound: .*unknown variable 'X'/);
    await expect(map.get('Unbound')).rejects.toMatchObject({ name: 'FormulaEvaluationError' });
  });

  it('reports division by zero at evaluation as FormulaEvaluationError', async () => {
    const { map } =
      await mapOf(`<IntSwissKnife Name="Z"><pVariable Name="R">Reg</pVariable><Formula>1 / R</Formula></IntSwissKnife>
      ${intReg('Reg', 0, BE)}`);
    await expect(map.get('Z')).rejects.toMatchObject({ name: 'FormulaEvaluationError' });
  });
});

describe('addresses', () => {
  it('adds Address, pAddress, inline IntSwissKnife and pIndex * Offset', async () => {
    const { map, port } = await mapOf(`
      <Integer Name="Base"><Value>0x100</Value></Integer>
      <Integer Name="Sel"><Value>2</Value></Integer>
      <IntReg Name="R"><Address>0x10</Address><pAddress>Base</pAddress>
        <IntSwissKnife><pVariable Name="S">Sel</pVariable><Formula>S * 0</Formula></IntSwissKnife>
        <pIndex Offset="0x20">Sel</pIndex><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort>${BE}</IntReg>
      <IntReg Name="D"><Address>0</Address><pIndex>Sel</pIndex><Length>4</Length><AccessMode>RW</AccessMode>
        <pPort>Device</pPort>${BE}</IntReg>`);
    port.setUint32(0x150, 99);
    expect(await map.get('R')).toBe(99);
    port.setUint32(8, 7);
    expect(await map.get('D')).toBe(7);
    await map.set('Sel', 1);
    port.setUint32(0x130, 5);
    expect(await map.get('R')).toBe(5);
  });
});

describe('Port', () => {
  it('routes registers to the port named in options.ports, and refuses chunk ports without one', async () => {
    const { MemoryPort } = await import('../src/index.js');
    const other = new MemoryPort(16);
    other.setUint32(0, 1234);
    const { map } = await mapOf(
      `<Port Name="Aux"/><Port Name="Chunk"><ChunkID>1234</ChunkID></Port>
      <IntReg Name="A"><Address>0</Address><Length>4</Length><AccessMode>RO</AccessMode><pPort>Aux</pPort>${BE}</IntReg>
      <IntReg Name="C"><Address>0</Address><Length>4</Length><AccessMode>RO</AccessMode><pPort>Chunk</pPort></IntReg>`,
      { ports: { Aux: other } },
    );
    expect(await map.get('A')).toBe(1234);
    await expect(map.get('C')).rejects.toBeInstanceOf(NotAvailableError);
    expect(map.typeOf('Aux')).toBe('Port');
  });
});

describe('Category', () => {
  it('walks categories depth first and survives cycles and dangling names', async () => {
    const { map } = await mapOf(`
      <Category Name="Root"><pFeature>A</pFeature><pFeature>Missing</pFeature><pFeature>X</pFeature></Category>
      <Category Name="A"><pFeature>Y</pFeature><pFeature>Root</pFeature></Category>
      <Integer Name="X"><Value>1</Value></Integer>
      <Integer Name="Y"><Value>2</Value></Integer>`);
    expect(map.features().map((f) => [f.name, f.depth, f.category])).toEqual([
      ['Root', 0, undefined],
      ['A', 1, 'Root'],
      ['Y', 2, 'A'],
      ['X', 1, 'Root'],
    ]);
    expect(await map.describe('A')).toMatchObject({ type: 'Category', features: ['Y', 'Root'] });
    await expect(map.get('A')).rejects.toBeInstanceOf(FeatureTypeError);
  });
});

describe('graph errors', () => {
  it('reports reference cycles and dangling references as GenicamXmlError', async () => {
    const { map } = await mapOf(`
      <Integer Name="P"><pValue>Q</pValue></Integer>
      <Integer Name="Q"><pValue>P</pValue></Integer>
      <Integer Name="D"><pValue>Nowhere</pValue></Integer>`);
    await expect(map.get('P')).rejects.toBeInstanceOf(GenicamXmlError);
    await expect(map.get('D')).rejects.toMatchObject({ name: 'GenicamXmlError', node: 'D' });
  });

  it('rejects duplicate names and nodes missing required parts', async () => {
    await expect(
      mapOf('<Integer Name="A"><Value>1</Value></Integer><Integer Name="A"><Value>1</Value></Integer>'),
    ).rejects.toBeInstanceOf(GenicamXmlError);
    await expect(mapOf('<Integer Name="A"></Integer>')).rejects.toBeInstanceOf(GenicamXmlError);
    const { map } = await mapOf('<IntReg Name="A"><Address>0</Address></IntReg>');
    await expect(map.get('A')).rejects.toMatchObject({ name: 'GenicamXmlError', node: 'A' });
    await expect(mapOf('<Integer Name="A"><Value>x1</Value></Integer>')).rejects.toBeInstanceOf(GenicamXmlError);
    await expect(mapOf('<Integer><Value>1</Value></Integer>')).rejects.toBeInstanceOf(GenicamXmlError);
  });

  it('keeps unsupported node types visible and typed', async () => {
    const { map } = await mapOf('<ConfRom Name="Rom"><Address>0</Address></ConfRom>');
    expect(map.unsupported.get('Rom')).toBe('ConfRom');
    await expect(map.get('Rom')).rejects.toBeInstanceOf(FeatureTypeError);
  });
});
