import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ehome from '../packages/ehome/src/index.js';
import * as genicam from '../packages/genicam/src/index.js';
import * as gvcp from '../packages/gvcp/src/index.js';
import * as gvsp from '../packages/gvsp/src/index.js';
import * as netUtils from '../packages/net-utils/src/index.js';
import * as scGvmp from '../packages/sc-gvmp/src/index.js';
import * as sdkTcp from '../packages/sdk-tcp/src/index.js';

/**
 * Issue #15: errors are recognised by `X.isInstance(value)`, which compares the `errorName`s tagged on an instance
 * (so that two installed copies of a package still agree). That is only sound when no two error classes anywhere
 * in @cam share an `errorName`; before, `gvcp.UnknownCommandError.isInstance(anEhomeError)` was true and gvcp's
 * `statusOf` returned ehome's (undefined) `.status`.
 */
const repo = new URL('..', import.meta.url).pathname;

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

describe('error identity across packages', () => {
  it('every error class in every package has its own errorName, equal to its class name', () => {
    const owners = new Map<string, string[]>();
    const misnamed: string[] = [];
    for (const pkg of readdirSync(join(repo, 'packages'))) {
      let files: string[];
      try {
        files = [...sources(join(repo, 'packages', pkg, 'src'))];
      } catch {
        continue;
      }
      for (const file of files) {
        const text = readFileSync(file, 'utf8');
        const re =
          /class (\w+) extends \w+ \{\s*(?:\/\*\*[\s\S]*?\*\/\s*)?static (?:override )?readonly errorName: string = '(\w+)'/g;
        for (const m of text.matchAll(re)) {
          const [, cls, name] = m as unknown as [string, string, string];
          owners.set(name, [...(owners.get(name) ?? []), `${relative(repo, file)} (${cls})`]);
          if (cls !== name) misnamed.push(`${relative(repo, file)}: class ${cls} has errorName '${name}'`);
        }
      }
    }
    const shared = [...owners]
      .filter(([, where]) => where.length > 1)
      .map(([name, where]) => `${name}: ${where.join(', ')}`);
    expect(shared).toEqual([]);
    expect(misnamed).toEqual([]);
    expect(owners.size).toBeGreaterThan(40);
  });

  it('the exported error classes of all packages recognise only their own instances (and subclasses)', () => {
    type ErrorClass = (abstract new (
      ...args: never[]
    ) => Error) & {
      errorName: string;
      isInstance(v: unknown): boolean;
    };
    const classes = new Map<string, ErrorClass>();
    for (const mod of [netUtils, gvcp, gvsp, scGvmp, ehome, sdkTcp, genicam] as Record<string, unknown>[]) {
      for (const value of Object.values(mod)) {
        const c = value as Partial<ErrorClass>;
        if (typeof value === 'function' && typeof c.errorName === 'string' && typeof c.isInstance === 'function') {
          const seen = classes.get(c.errorName);
          expect(seen === undefined || seen === value, `two exported classes named ${c.errorName}`).toBe(true);
          classes.set(c.errorName, value as ErrorClass);
        }
      }
    }
    expect(classes.size).toBeGreaterThan(30);
  });

  it('gvcp and ehome errors are not confused', () => {
    const ehomeUnknown = new ehome.UnknownCommandError('FOO', 'REQUEST', 1, '4.0');
    const gvcpUnknown = new gvcp.GvcpUnknownCommandError(0x1234, 7);
    expect(gvcp.GvcpUnknownCommandError.isInstance(ehomeUnknown)).toBe(false);
    expect(ehome.UnknownCommandError.isInstance(gvcpUnknown)).toBe(false);
    expect(gvcp.GvcpUnknownCommandError.isInstance(gvcpUnknown)).toBe(true);
    expect(ehome.UnknownCommandError.isInstance(ehomeUnknown)).toBe(true);
    // Both still are what their base classes say.
    expect(netUtils.ProtocolError.isInstance(gvcpUnknown)).toBe(true);
    expect(netUtils.MalformedError.isInstance(ehomeUnknown)).toBe(true);

    const ehomeStatus = new ehome.DeviceStatusError('dev1', 'GETDEVICECONFIG', 404, 'not found');
    expect(gvcp.GvcpDeviceStatusError.isInstance(ehomeStatus)).toBe(false);
    expect(gvcp.statusOf(ehomeStatus)).toBe(gvcp.GvcpStatus.ERROR);
    expect(gvcp.statusOf(new gvcp.GvcpDeviceStatusError(gvcp.GvcpStatus.WRITE_PROTECT))).toBe(
      gvcp.GvcpStatus.WRITE_PROTECT,
    );
  });
});
