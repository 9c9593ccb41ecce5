import type { Command } from 'commander';

/** `cam gvsp ...`: GVSP tools (decode captures, send test streams). */
export function registerGvsp(program: Command): void {
  program.command('gvsp').description('GigE Vision streaming tools');
}
