import { discover } from '@cam/gvcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ARV_TOOL, arvTool, FAKE_CAMERA, FakeCamera } from '../../../test-support/aravis.js';
import { runCam } from '../../../test-support/cli.js';
import { describeInterop, hasCommand } from '../../../test-support/interop.js';
import { LOCKED_HOOK_TIMEOUT_MS } from '../../../test-support/port-lock.js';

async function answers(): Promise<boolean> {
  return (await discover({ address: '127.0.0.1', timeoutMs: 300 })).length > 0;
}

describeInterop(
  `cam gige against ${FAKE_CAMERA}: exec, --set, --trigger software`,
  { [FAKE_CAMERA]: hasCommand(FAKE_CAMERA), [ARV_TOOL]: hasCommand(ARV_TOOL) },
  () => {
    const camera = new FakeCamera(answers);
    beforeAll(() => camera.start(), LOCKED_HOOK_TIMEOUT_MS);
    afterAll(async () => {
      await runCam(['gige', 'write', '127.0.0.1', 'TriggerMode=Off']).catch(() => {});
      await camera.stop();
    });

    it('in software trigger mode frames come only from TriggerSoftware: none without, one per trigger with', async () => {
      const small = ['--set', 'Width=64', '--set', 'Height=48', '--set', 'PixelFormat=Mono8'];
      // trigger mode on, nobody triggers: no frame within the timeout, a runtime failure
      const silent = await runCam(
        [
          'gige',
          'grab',
          '127.0.0.1',
          ...small,
          '--set',
          'TriggerSelector=FrameStart',
          '--set',
          'TriggerMode=On',
          '--set',
          'TriggerSource=Software',
          '--timeout',
          '1500',
          '--out',
          '/tmp',
          '--format',
          'raw',
          '--prefix',
          'cam-trigger-test',
          '--json',
        ],
        { timeoutMs: 40_000 },
      );
      expect(silent.code, silent.stdout + silent.stderr).toBe(1);
      expect(JSON.parse(silent.stdout.slice(silent.stdout.lastIndexOf('{\n  "ok": false')))).toMatchObject({
        ok: false,
        error: { name: 'TimeoutError' },
      });
      await runCam(['gige', 'write', '127.0.0.1', 'TriggerMode=Off']);
      // --trigger software: one TriggerSoftware per frame, and trigger mode back Off after
      const r = await runCam(
        ['gige', 'grab', '127.0.0.1', ...small, '--trigger', 'software', '--frames', '3', '-o', '/dev/null', '--json'],
        { timeoutMs: 40_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as { frames: { status: string; width: number }[] };
      expect(doc.frames.map((f) => [f.status, f.width])).toEqual([
        ['complete', 64],
        ['complete', 64],
        ['complete', 64],
      ]);
      expect(await arvTool('control', 'TriggerMode')).toMatch(/TriggerMode = Off/);
    }, 120_000);

    it('exec runs TriggerSoftware like arv-tool control; a misspelt command gets a suggestion', async () => {
      const r = await runCam(['gige', 'exec', '127.0.0.1', 'TriggerSoftware']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('TriggerSoftware executed\n');
      const typo = await runCam(['gige', 'exec', '127.0.0.1', 'TrigerSoftware']);
      expect(typo.code).toBe(1);
      expect(typo.stderr).toMatch(/did you mean TriggerSoftware/);
    }, 60_000);
  },
);
