import { describe, expect, it } from 'vitest';
import { intReg, mapOf } from './helpers.js';

// What `cam genicam check` asks of a node map: references that name no node, and files with vendor slips that load.

describe('NodeMap.danglingReferences', () => {
  it('is empty when every p* reference names a node', async () => {
    const { map } = await mapOf(`
      <Category Name="Root"><pFeature>Width</pFeature></Category>
      <Integer Name="Width"><pValue>WidthReg</pValue><pMax>MaxW</pMax></Integer>
      <Integer Name="MaxW"><Value>640</Value></Integer>
      ${intReg('WidthReg', 0)}`);
    expect(map.danglingReferences()).toEqual([]);
  });

  it('lists pFeature, pValue, pIsAvailable, pSelected, a SwissKnife pVariable and a nested pAddress', async () => {
    const { map } = await mapOf(`
      <Category Name="Root"><pFeature>Width</pFeature><pFeature>Missing1</pFeature></Category>
      <Integer Name="Width"><pValue>Missing2</pValue><pIsAvailable>Missing3</pIsAvailable>
        <pSelected>Missing4</pSelected></Integer>
      <IntSwissKnife Name="Sk"><pVariable Name="A">Missing5</pVariable><Formula>A</Formula></IntSwissKnife>
      <IntReg Name="R"><IntSwissKnife><pVariable Name="B">Missing6</pVariable><Formula>B</Formula></IntSwissKnife>
        <Length>4</Length><AccessMode>RO</AccessMode><pPort>NoPort</pPort></IntReg>
      <Enumeration Name="E"><EnumEntry Name="One"><Value>1</Value><pIsAvailable>Missing7</pIsAvailable></EnumEntry>
        <Value>1</Value></Enumeration>`);
    expect(map.danglingReferences()).toEqual([
      { node: 'Root', element: 'pFeature', target: 'Missing1' },
      { node: 'Width', element: 'pValue', target: 'Missing2' },
      { node: 'Width', element: 'pIsAvailable', target: 'Missing3' },
      { node: 'Width', element: 'pSelected', target: 'Missing4' },
      { node: 'Sk', element: 'pVariable', target: 'Missing5' },
      { node: 'R', element: 'pVariable', target: 'Missing6' },
      { node: 'R', element: 'pPort', target: 'NoPort' },
      { node: 'E', element: 'pIsAvailable', target: 'Missing7' },
    ]);
  });

  it('does not count a reference to a node of an unsupported type as dangling', async () => {
    const { map } = await mapOf(`
      <Category Name="Root"><pFeature>Fancy</pFeature></Category>
      <FancyNewNode Name="Fancy"/>`);
    expect(map.unsupported.get('Fancy')).toBe('FancyNewNode');
    expect(map.danglingReferences()).toEqual([]);
  });

  it('a StructEntry reports only its own references, not those of the other entries of its StructReg', async () => {
    const { map } = await mapOf(`
      <StructReg Comment="S"><Address>0</Address><Length>4</Length><AccessMode>RW</AccessMode><pPort>Device</pPort>
        <Endianess>BigEndian</Endianess>
        <StructEntry Name="A"><Bit>0</Bit><pIsAvailable>Gone</pIsAvailable></StructEntry>
        <StructEntry Name="B"><Bit>1</Bit></StructEntry></StructReg>`);
    expect(map.danglingReferences()).toEqual([{ node: 'A', element: 'pIsAvailable', target: 'Gone' }]);
  });
});

describe('a formula naming a variable it does not declare (seen in a vendor USB3 camera file)', () => {
  it('loads with a warning; reading that node fails, the rest of the file works', async () => {
    const { map, port } = await mapOf(`
      <IntSwissKnife Name="Impl"><pVariable Name="A">R</pVariable><pVariable Name="C">R</pVariable>
        <Formula>A &amp;&amp; (B || C)</Formula></IntSwissKnife>
      <Integer Name="Width"><pValue>R</pValue></Integer>
      ${intReg('R', 0, '<Endianess>BigEndian</Endianess>')}`);
    port.setUint32(0, 5);
    expect(map.warnings).toEqual([expect.stringMatching(/^Impl: .*unknown variable 'B'/)]);
    await expect(map.get('Impl')).rejects.toMatchObject({ name: 'FormulaEvaluationError' });
    expect(await map.get('Width')).toBe(5);
  });
});
