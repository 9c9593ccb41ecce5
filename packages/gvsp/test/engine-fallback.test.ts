import { describe, expect, it, vi } from 'vitest';
import { GvspReceiver } from '../src/index.js';

// A machine where the addon cannot load (no compiler at install, no prebuilt binary for the platform)
vi.mock('@cam/gvsp-native', () => {
  throw new Error('No native build was found for platform=linux arch=x64 runtime=node abi=115');
});

describe('without @cam/gvsp-native', () => {
  it("engine 'auto' falls back to the JavaScript engine and says why", async () => {
    const rx = await GvspReceiver.open({ address: '127.0.0.1', payloadSize: 1000 });
    try {
      expect(rx.engine.name).toBe('js');
      expect(rx.engine.capture).toBe('dgram');
      expect(rx.engine.reason).toMatch(/@cam\/gvsp-native is unavailable \(.+\)/);
    } finally {
      await rx.close();
    }
  });

  it("engine 'native' fails with the reason instead of running something else", async () => {
    await expect(GvspReceiver.open({ address: '127.0.0.1', payloadSize: 1000, engine: 'native' })).rejects.toThrow(
      /engine 'native' is unavailable: ./,
    );
  });
});

describe('engine options', () => {
  it("refuses engine 'native' with worker: true, and an unknown engine", async () => {
    await expect(
      GvspReceiver.open({ address: '127.0.0.1', payloadSize: 1000, engine: 'native', worker: true }),
    ).rejects.toThrow(/worker/);
    await expect(
      GvspReceiver.open({ address: '127.0.0.1', payloadSize: 1000, engine: 'fast' as 'js' }),
    ).rejects.toThrow(/not 'auto', 'js' or 'native'/);
  });
});
