import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { GvcpDevice } from '@cam/gvcp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInterop, hasPythonAravis } from '../../../test-support/interop.js';
import {
  acquireExclusive,
  GVCP_PORT_LOCK,
  LOCKED_HOOK_TIMEOUT_MS,
  type Release,
} from '../../../test-support/port-lock.js';
import { attachGvspStreaming, type GvspStreaming } from '../src/index.js';

const run = promisify(execFile);
const triggerScript = fileURLToPath(new URL('./fixtures/aravis_trigger.py', import.meta.url));
const chunkScript = fileURLToPath(new URL('./fixtures/aravis_chunks.py', import.meta.url));

async function retry<T>(fn: () => Promise<T>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describeInterop('python Aravis software-triggers our simulated camera', { 'python3 Aravis': hasPythonAravis() }, () => {
  let device: GvcpDevice | undefined;
  let streaming: GvspStreaming | undefined;
  let release: Release | undefined;

  beforeAll(async () => {
    // Aravis only talks to port 3956: suites using it take turns under GVCP_PORT_LOCK.
    release = await acquireExclusive(GVCP_PORT_LOCK);
    device = await retry(() => GvcpDevice.start({ address: '127.0.0.1', port: 3956, serialNumber: 'TRIGARV' }), 20_000);
    streaming = await attachGvspStreaming(device, { bindAddress: '127.0.0.1' });
  }, LOCKED_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    try {
      await streaming?.close();
      await device?.close();
    } finally {
      release?.();
    }
  });

  it('set_trigger("Software") + software_trigger() gives exactly one frame per trigger', async () => {
    const triggers = 5;
    const { stdout } = await run('/usr/bin/python3', [triggerScript, '127.0.0.1', String(triggers)], {
      timeout: 60_000,
      env: { ...process.env, ARV_GRAB_FRAME_RETENTION_US: '1000000' },
    });
    const r = JSON.parse(stdout) as {
      settings: Record<string, string>;
      before: unknown[];
      per_trigger: { status: string; frame_id: number }[][];
    };
    expect(r.settings).toEqual({
      TriggerSelector: 'FrameStart',
      TriggerMode: 'On',
      TriggerSource: 'Software',
      TriggerActivation: 'RisingEdge',
    });
    expect(r.before).toEqual([]);
    expect(r.per_trigger.map((f) => f.length)).toEqual(Array(triggers).fill(1));
    expect(r.per_trigger.map((f) => f[0]!.status)).toEqual(Array(triggers).fill('success'));
    expect(new Set(r.per_trigger.map((f) => f[0]!.frame_id)).size).toBe(triggers);
    expect(streaming!.framesSent).toBe(triggers);
    expect(device!.triggerStats.triggersAccepted).toBe(triggers);
  }, 90_000);

  it('Aravis reads the chunk data (ChunkTimestamp, ChunkFrameID, ChunkExposureTime) our camera appends', async () => {
    const { stdout } = await run('/usr/bin/python3', [chunkScript, '127.0.0.1', '3', '2500'], {
      timeout: 60_000,
      env: { ...process.env, ARV_GRAB_FRAME_RETENTION_US: '1000000' },
    });
    const r = JSON.parse(stdout) as {
      payload: number;
      frames: {
        status: string;
        has_chunks: boolean;
        frame_id: number;
        timestamp: number;
        chunk_timestamp: number;
        chunk_frame_id: number;
        chunk_exposure_time: number;
      }[];
    };
    expect(r.payload).toBe(64 * 48 + 8 + 3 * 16);
    expect(r.frames).toHaveLength(3);
    for (const f of r.frames) {
      expect(f).toMatchObject({ status: 'success', has_chunks: true, chunk_exposure_time: 2500 });
      // the same values our chunk adapter reads: the frame's block id and its timestamp (1 GHz ticks)
      expect(f.chunk_frame_id).toBe(f.frame_id);
      expect(f.chunk_timestamp).toBe(f.timestamp);
    }
  }, 90_000);
});
