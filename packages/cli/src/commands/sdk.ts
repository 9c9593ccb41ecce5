import type { Command } from 'commander';

/** `cam sdk ...`: Huidu SDK TCP protocol. */
export function registerSdk(program: Command): void {
  program.command('sdk').description('Huidu LED controllers (SDK TCP): call, upload, search, simulate');
}
