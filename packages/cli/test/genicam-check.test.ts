import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discover, fetchGenicamXml, GvcpClient } from '@cam/gvcp';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARV_TOOL, FAKE_CAMERA } from '../../../test-support/aravis.js';
import { runCam } from '../../../test-support/cli.js';
import { describeInterop, hasCommand } from '../../../test-support/interop.js';
import {
  acquireExclusive,
  GVCP_PORT_LOCK,
  LOCKED_HOOK_TIMEOUT_MS,
  type Release,
} from '../../../test-support/port-lock.js';
import { controlValues, printfG } from '../src/commands/genicam.js';

const VENDOR_STYLE = new URL('./fixtures/genicam-vendor-style.xml', import.meta.url).pathname;

interface CheckJson {
  ok: boolean;
  files: {
    file: string;
    ok: boolean;
    error?: string;
    nodes: number;
    byType: Record<string, number>;
    unsupported: { node: string; type: string }[];
    dangling: { node: string; element: string; target: string }[];
    warnings: string[];
    aravis?: {
      agree: number;
      mismatch: { feature: string; aravis: string; ours: string }[];
      onlyAravis: { feature: string; aravis: string; error: string }[];
      onlyOurs: { feature: string; ours: string }[];
      neither: number;
      error?: string;
    };
  }[];
}

const doc = (body: string): string => `<?xml version="1.0"?>
<RegisterDescription ModelName="T" VendorName="cam" SchemaMajorVersion="1" SchemaMinorVersion="1"
  SchemaSubMinorVersion="0">${body}<Port Name="Device"/></RegisterDescription>`;

describe('cam genicam check (offline)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cam-genicam-check-test-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('our vendor-style file: exit 0, zero unsupported and dangling, a summary by type (text and --json)', async () => {
    const text = await runCam(['genicam', 'check', VENDOR_STYLE]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/genicam-vendor-style\.xml: ok \(cam VendorStyle, schema 1\.1\.0, \d+ nodes\)/);
    expect(text.stdout).toMatch(/unsupported: 0\n\s+dangling references: 0/);
    const json = await runCam(['genicam', 'check', VENDOR_STYLE, '--json']);
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout) as CheckJson;
    expect(r.ok).toBe(true);
    expect(r.files[0]).toMatchObject({ ok: true, unsupported: [], dangling: [], warnings: [] });
    expect(r.files[0]?.byType).toMatchObject({ Enumeration: 5, StructEntry: 3, Converter: 2, SwissKnife: 1 });
  });

  it('exit 1 on an unsupported node type and on a dangling reference, naming each', async () => {
    const file = join(dir, 'bad.xml');
    await writeFile(
      file,
      doc(`<Category Name="Root"><pFeature>Fancy</pFeature><pFeature>Gone</pFeature></Category>
        <FancyNewNode Name="Fancy"/>
        <Integer Name="W"><pValue>AlsoGone</pValue></Integer>`),
    );
    const run = await runCam(['genicam', 'check', file, VENDOR_STYLE, '--json']);
    expect(run.code).toBe(1);
    const r = JSON.parse(run.stdout) as CheckJson;
    expect(r.ok).toBe(false);
    expect(r.files.map((f) => f.ok)).toEqual([false, true]);
    expect(r.files[0]?.unsupported).toEqual([{ node: 'Fancy', type: 'FancyNewNode' }]);
    expect(r.files[0]?.dangling).toEqual([
      { node: 'Root', element: 'pFeature', target: 'Gone' },
      { node: 'W', element: 'pValue', target: 'AlsoGone' },
    ]);
    const text = await runCam(['genicam', 'check', file]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('Fancy <FancyNewNode>');
    expect(text.stdout).toContain('W: <pValue>AlsoGone');
  });

  it('reads a .zip; a file that is not GenICam XML or does not exist fails with exit 1 and a message', async () => {
    const zip = join(dir, 'camera.zip');
    await writeFile(zip, zipSync({ 'camera.xml': new Uint8Array(await readFile(VENDOR_STYLE)) }));
    const zipped = await runCam(['genicam', 'check', zip, '--json']);
    expect(zipped.code, zipped.stdout).toBe(0);
    const notXml = join(dir, 'not.xml');
    await writeFile(notXml, 'Camera listing\n<?xml version="1.0"?><RegisterDescription/>');
    const bad = await runCam(['genicam', 'check', notXml, join(dir, 'missing.xml'), '--json']);
    expect(bad.code).toBe(1);
    const r = JSON.parse(bad.stdout) as CheckJson;
    expect(r.files[0]?.error).toMatch(/GenicamXmlError/);
    expect(r.files[1]?.error).toMatch(/ENOENT/);
  });

  it('parses arv-tool control lines: range dropped, unit kept, C %g for doubles', () => {
    const v = controlValues('Width = 512 min:1 max:2048 inc:1\nGain = 1.5 dB min:0 max:10\nName = a b c\nnoise\n');
    expect([...v]).toEqual([
      ['Width', '512'],
      ['Gain', '1.5 dB'],
      ['Name', 'a b c'],
    ]);
    expect([printfG(0.1), printfG(1_633_906_508), printfG(1e-5), printfG(25)]).toEqual([
      '0.1',
      '1.63391e+09',
      '1e-05',
      '25',
    ]);
  });

  it('needs at least one file (usage error, exit 2)', async () => {
    expect((await runCam(['genicam', 'check'])).code).toBe(2);
  });
});

async function answers(): Promise<boolean> {
  return (await discover({ address: '127.0.0.1', timeoutMs: 300 })).length > 0;
}

describeInterop(
  `cam genicam check --aravis (${FAKE_CAMERA}, ${ARV_TOOL})`,
  { [FAKE_CAMERA]: hasCommand(FAKE_CAMERA), [ARV_TOOL]: hasCommand(ARV_TOOL) },
  () => {
    let release: Release | undefined;
    let dir: string | undefined;
    // Every suite using 127.0.0.1:3956 holds GVCP_PORT_LOCK meanwhile; `--aravis` starts its own fake camera there.
    beforeAll(async () => {
      release = await acquireExclusive(GVCP_PORT_LOCK);
      dir = await mkdtemp(join(tmpdir(), 'cam-genicam-check-aravis-'));
    }, LOCKED_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      release?.();
    });

    const expectAllAgree = (r: CheckJson): void => {
      const f = r.files[0];
      expect(f?.aravis?.error).toBeUndefined();
      expect(f?.unsupported).toEqual([]);
      expect(f?.aravis?.mismatch).toEqual([]);
      expect(f?.aravis?.agree).toBeGreaterThan(20);
      expect(r.ok).toBe(true);
    };

    it('our vendor-style file served by the fake camera: every feature both read agrees', async () => {
      const run = await runCam(['genicam', 'check', VENDOR_STYLE, '--aravis', '--json'], { timeoutMs: 90_000 });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      const r = JSON.parse(run.stdout) as CheckJson;
      expectAllAgree(r);
      // the Command's write-only register is the only thing Aravis "reads" and we refuse
      expect(r.files[0]?.aravis?.onlyAravis.map((o) => o.feature)).toEqual(['AcquisitionCommandReg']);
      expect(r.files[0]?.aravis?.onlyOurs).toEqual([]);
    }, 120_000);

    it("Aravis's built-in XML, read back over GVCP from the fake camera, agrees too", async () => {
      const camera = spawn(FAKE_CAMERA, ['-i', '127.0.0.1'], { stdio: 'ignore' });
      const exited = new Promise((resolve) => camera.once('exit', resolve));
      const file = join(dir as string, 'aravis-builtin.xml');
      try {
        const deadline = Date.now() + 15_000;
        while (!(await answers())) {
          if (Date.now() > deadline || camera.exitCode !== null) throw new Error(`${FAKE_CAMERA} did not answer`);
        }
        const client = await GvcpClient.connect('127.0.0.1');
        try {
          await writeFile(file, (await fetchGenicamXml(client)).xml);
        } finally {
          await client.close();
        }
      } finally {
        camera.kill('SIGTERM');
        await exited;
      }
      const run = await runCam(['genicam', 'check', file, '--aravis', '--json'], { timeoutMs: 90_000 });
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expectAllAgree(JSON.parse(run.stdout) as CheckJson);
    }, 120_000);

    it('refuses to start when 127.0.0.1:3956 is taken, and reports it (exit 1)', async () => {
      const { createSocket } = await import('node:dgram');
      const squatter = createSocket('udp4');
      await new Promise<void>((resolve) => squatter.bind(3956, '127.0.0.1', resolve));
      try {
        const run = await runCam(['genicam', 'check', VENDOR_STYLE, '--aravis', '--json'], { timeoutMs: 30_000 });
        expect(run.code).toBe(1);
        expect((JSON.parse(run.stdout) as CheckJson).files[0]?.aravis?.error).toMatch(/3956 is in use/);
      } finally {
        squatter.close();
      }
    }, 60_000);
  },
);
