// Fuzz targets of @cam/genicam: the XML loader (a device's description file), the formula parser and compiler.
import { readFileSync } from 'node:fs';
import { WireError } from '@cam/net-utils';
import type { FuzzTarget } from '../../../test-support/hostile-types.js';
import { compileFormula, MemoryPort, NodeMap, parseFormula, parseXml } from '../src/index.js';

const isWireError = (e: unknown): boolean => WireError.isInstance(e);
const text = new TextEncoder();
const fixture = (name: string): Uint8Array =>
  new Uint8Array(readFileSync(new URL(`../test/fixtures/${name}`, import.meta.url)));

const formulas = [
  '(A + B) * 2 - C / 4',
  'A > 0 ? A << 2 : (B & 0xFF) | 0x100',
  'SQRT(A * A + B * B) + ATAN(1) * 4 - PI',
  '(A = 1) && (B != 2) || !(C >= 3)',
  'TRUNC(A / 3.5) + ROUND(B, 2) + 1e-3 + 0x7FFFFFFFFFFFFFFF % 7',
  'ABS(-A) ** 2 + NEG(B) + SGN(C) + CEIL(1.2) + FLOOR(2.8) + EXP(0) + LN(1) + LG(10)',
];

const targets: FuzzTarget[] = [
  {
    name: 'genicam parseXml',
    seeds: () => [fixture('camera-schema11-indexed.xml'), fixture('tl-system-schema11.xml')],
    run: (input) => void parseXml(input),
    isExpectedError: isWireError,
    maxInputBytes: 64 * 1024,
    maxAllocationBytes: 64 * 1024 * 1024,
  },
  {
    name: 'genicam NodeMap.load',
    seeds: () => [fixture('camera-schema10.xml'), fixture('genapi-semantics-schema10.xml')],
    run: async (input) => {
      const map = await NodeMap.load(input, new MemoryPort(0x10000));
      // walk the loaded map: every feature's value through the (zeroed) port
      for (const f of map.features().slice(0, 64)) {
        if (f.interface === 'ICategory' || f.interface === 'ICommand') continue;
        await map.get(f.name).catch((e: unknown) => {
          if (!isWireError(e)) throw e;
        });
      }
    },
    isExpectedError: isWireError,
    maxInputBytes: 64 * 1024,
    maxAllocationBytes: 64 * 1024 * 1024,
  },
  {
    name: 'genicam parseFormula',
    seeds: () => formulas.map((f) => text.encode(f)),
    run: (input) => void parseFormula(new TextDecoder().decode(input)),
    isExpectedError: isWireError,
    maxInputBytes: 4096,
  },
  {
    name: 'genicam compileFormula',
    seeds: () => formulas.map((f) => text.encode(f)),
    run: (input) => {
      const source = new TextDecoder().decode(input);
      compileFormula(source, ['A', 'B', 'C'], 'int').evaluate([3n, -7n, 0n]);
      compileFormula(source, ['A', 'B', 'C'], 'float').evaluate([2.5, -1, 0]);
    },
    isExpectedError: isWireError,
    maxInputBytes: 4096,
  },
];

export default targets;
