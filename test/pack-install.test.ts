import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect } from 'vitest';
import { startProcess } from '../test-support/cli.js';
import { describeInterop, itInterop } from '../test-support/interop.js';

/**
 * The README's recipe for using the packages before they are on the registry: build, `pnpm pack` each package, and
 * `npm install` the tarballs into an empty project. `@cam/gvsp` with only its own `@cam/*` dependencies must install
 * and receive a frame from `cam gige simulate`, itself run from the packed CLI installed the same way.
 */
const run = promisify(execFile);
const repo = new URL('..', import.meta.url).pathname;
const packages = readdirSync(join(repo, 'packages'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(repo, 'packages', d.name, 'package.json')))
  .map((d) => d.name);
// gvsp with its @cam dependencies, and its optional native receive engine (the tarball carries a prebuilt binary).
const gvspWithDependencies = ['net-utils', 'gvcp', 'genicam', 'gvsp', 'gvsp-native'];
// npm fetches third-party dependencies from the registry; allow for a slow one.
const INSTALL_TIMEOUT_MS = 240_000;

const receiveOneFrame = `
import { connectCamera } from '@cam/gvcp';
import { openStream } from '@cam/gvsp';
const port = Number(process.argv[2]);
const camera = await connectCamera('127.0.0.1', { port });
try {
  const stream = await openStream(camera.client, {
    deviceAddress: '127.0.0.1', gvcpPort: port, hostAddress: '127.0.0.1', nodeMap: camera.nodeMap,
  });
  try {
    const frame = await stream.nextFrame({ timeoutMs: 10000 });
    if (!frame) throw new Error('no frame');
    console.log(JSON.stringify({ status: frame.status, width: frame.width, height: frame.height,
      pixelFormat: frame.pixelFormatName, bytes: frame.image.byteLength, engine: stream.engine.name }));
    frame.release();
  } finally {
    await stream.close();
  }
} finally {
  await camera.close();
}
`;

describeInterop('packed tarballs install into an empty npm project', ['npm'], () => {
  const dir = mkdtempSync(join(tmpdir(), 'cam-pack-'));
  const tarballs = new Map<string, string>();

  function emptyProject(name: string): string {
    const project = join(dir, name);
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: `cam-pack-${name}`, private: true, type: 'module' }, null, 2),
    );
    return project;
  }

  async function npmInstall(project: string, names: string[]): Promise<void> {
    const files = names.map((n) => {
      const t = tarballs.get(n);
      if (!t) throw new Error(`no tarball for ${n}`);
      return t;
    });
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...files], {
      cwd: project,
      timeout: INSTALL_TIMEOUT_MS,
    });
  }

  beforeAll(async () => {
    const missing = packages.filter((p) => !existsSync(join(repo, 'packages', p, 'dist')));
    if (missing.length > 0) throw new Error(`build first (pnpm build): no dist/ in ${missing.join(', ')}`);
    const out = join(dir, 'tarballs');
    // The README's recipe: tools/pack-all.mjs packs every package with `pnpm pack`.
    await run(process.execPath, [join(repo, 'tools', 'pack-all.mjs'), out], { timeout: 180_000 });
    const made = readdirSync(out);
    for (const p of packages) {
      const file = made.find((f) => new RegExp(`^cam-${p}-\\d+\\.\\d+\\.\\d+.*\\.tgz$`).test(f));
      if (!file) throw new Error(`tools/pack-all.mjs made no tarball for packages/${p} (made: ${made.join(', ')})`);
      tarballs.set(p, join(out, file));
    }
  }, INSTALL_TIMEOUT_MS);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  itInterop(
    '@cam/gvsp alone (with its @cam dependencies) receives a frame from the packed `cam gige simulate`, on the native engine',
    ['npm'],
    async () => {
      const camProject = emptyProject('cli');
      const gvspProject = emptyProject('gvsp');
      await Promise.all([npmInstall(camProject, packages), npmInstall(gvspProject, gvspWithDependencies)]);

      // Only what gvsp depends on came along.
      expect(readdirSync(join(gvspProject, 'node_modules', '@cam')).sort()).toEqual([...gvspWithDependencies].sort());
      for (const p of gvspWithDependencies)
        expect(existsSync(join(gvspProject, 'node_modules', '@cam', p, 'LICENSE'))).toBe(true);
      // Issue #15: no XML or zip library comes with gvsp. The only third-party package is the native engine's
      // loader; fflate is an optional peer of @cam/gvcp (zipped GenICam files only), not installed here.
      const thirdParty = readdirSync(join(gvspProject, 'node_modules')).filter(
        (n) => !n.startsWith('.') && n !== '@cam',
      );
      expect(thirdParty.sort()).toEqual(['node-gyp-build']);

      const cam = join(camProject, 'node_modules', '.bin', 'cam');
      const version = await run(cam, ['--version'], { timeout: 20_000 });
      expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);

      // The simulated EHome device's clips and pictures ship in @cam/ehome's tarball and are found from its dist/.
      const clip = await run(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          "import { loadClip, scenePicture } from '@cam/ehome'; const c = loadClip('playback');" +
            ' console.log(JSON.stringify({ frames: c.frames.length, width: c.width, jpeg: scenePicture()[0] }))',
        ],
        { cwd: camProject, timeout: 30_000 },
      );
      expect(JSON.parse(clip.stdout)).toEqual({ frames: 1500, width: 640, jpeg: 0xff });

      const sim = await startProcess(
        cam,
        ['gige', 'simulate', '--address', '127.0.0.1', '--port', '0', '--width', '64', '--height', '48', '--json'],
        { timeoutMs: 60_000 },
      );
      try {
        const { port } = JSON.parse(sim.firstLine) as { port: number };
        writeFileSync(join(gvspProject, 'receive.mjs'), receiveOneFrame);
        const r = await run(process.execPath, ['receive.mjs', String(port)], { cwd: gvspProject, timeout: 30_000 });
        expect(JSON.parse(r.stdout)).toEqual({
          status: 'complete',
          width: 64,
          height: 48,
          pixelFormat: 'Mono8',
          bytes: 64 * 48,
          // openStream's engine 'auto' picks the native engine from the installed tarball on Linux x64
          engine: process.platform === 'linux' && process.arch === 'x64' ? 'native' : 'js',
        });
      } finally {
        sim.child.kill('SIGTERM');
        await sim.exit;
      }
    },
    INSTALL_TIMEOUT_MS,
  );
});
