import { describe, expect, it } from 'vitest';
import { runCam } from '../../../test-support/cli.js';

describe('cam', () => {
  it('prints help with every subcommand', async () => {
    const r = await runCam(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['gige', 'gvsp', 'scgvmp', 'ehome', 'sdk', 'demo']) expect(r.stdout).toContain(c);
  });

  it('prints its version', async () => {
    const r = await runCam(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('rejects an unknown command with a non-zero exit', async () => {
    const r = await runCam(['no-such-command']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown command/i);
  });
});
