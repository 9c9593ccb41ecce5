import type { Command } from 'commander';

/** `cam ehome ...`: Hikvision EHome platform and device. */
export function registerEhome(program: Command): void {
  program.command('ehome').description('Hikvision EHome: run a platform, simulate devices, preview, playback');
}
