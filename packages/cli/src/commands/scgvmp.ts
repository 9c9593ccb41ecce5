import type { Command } from 'commander';

/** `cam scgvmp ...`: smart-camera TCP image channel. */
export function registerScGvmp(program: Command): void {
  program.command('scgvmp').description('Smart-camera TCP image channel (SC_GVMP): grab, simulate');
}
