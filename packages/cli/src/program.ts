import { Command, type OutputConfiguration } from 'commander';
import { registerDemo } from './commands/demo.js';
import { registerEhome } from './commands/ehome.js';
import { registerGenicam } from './commands/genicam.js';
import { registerGige } from './commands/gige.js';
import { registerGvsp } from './commands/gvsp.js';
import { registerScGvmp } from './commands/scgvmp.js';
import { registerSdk } from './commands/sdk.js';
import { registerView } from './commands/view.js';
import { registerCompletion } from './completion.js';
import { finishHelp } from './help.js';
import { version } from './version.js';

/**
 * Builds the `cam` command tree (exported for tests and embedding). Parse errors throw a CommanderError
 * (exitOverride, inherited by every subcommand) so the caller decides the exit code; `main` maps them to 2.
 */
export function createProgram(output: OutputConfiguration = {}): Command {
  const program = new Command('cam')
    .description('Talk to industrial and security cameras and LED controllers; run simulated ones.')
    .version(version, '-V, --version')
    .exitOverride()
    .configureOutput(output)
    .showHelpAfterError()
    .enablePositionalOptions();
  registerGige(program);
  registerGenicam(program);
  registerGvsp(program);
  registerScGvmp(program);
  registerEhome(program);
  registerSdk(program);
  registerView(program);
  registerDemo(program);
  registerCompletion(program);
  finishHelp(program); // last: one help style and an Examples section for every command above
  return program;
}
