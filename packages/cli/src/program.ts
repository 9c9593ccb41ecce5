import { Command } from 'commander';
import { registerDemo } from './commands/demo.js';
import { registerEhome } from './commands/ehome.js';
import { registerGige } from './commands/gige.js';
import { registerGvsp } from './commands/gvsp.js';
import { registerScGvmp } from './commands/scgvmp.js';
import { registerSdk } from './commands/sdk.js';
import { version } from './version.js';

/** Builds the `cam` command tree (exported for tests and embedding). */
export function createProgram(): Command {
  const program = new Command('cam')
    .description('Talk to industrial and security cameras and LED controllers; run simulated ones.')
    .version(version, '-V, --version')
    .showHelpAfterError()
    .enablePositionalOptions();
  registerGige(program);
  registerGvsp(program);
  registerScGvmp(program);
  registerEhome(program);
  registerSdk(program);
  registerDemo(program);
  return program;
}
