import type { Command } from 'commander';
import { ehomePart } from '../demo/ehome.js';
import { gigePart } from '../demo/gige.js';
import { formatSummary, runDemo } from '../demo/runner.js';
import { scGvmpPart } from '../demo/scgvmp.js';
import { sdkPart } from '../demo/sdk.js';
import { printJson } from '../output.js';

/** The demo parts, in the order they run. */
export const demoParts = [gigePart, scGvmpPart, ehomePart, sdkPart];

/** `cam demo`: every protocol against embedded simulated devices, on loopback. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run every protocol against embedded simulated devices on loopback')
    .option('--out <dir>', 'output directory', './cam-demo-out')
    .option('--only <parts>', `comma-separated parts to run (${demoParts.map((p) => p.name).join(', ')})`)
    .option('--json', 'print the summary as one JSON document')
    .action(async (options: { out: string; only?: string; json?: boolean }) => {
      const wanted = options.only?.split(',').map((s) => s.trim());
      const parts = wanted ? demoParts.filter((p) => wanted.includes(p.name)) : demoParts;
      if (parts.length === 0) throw new Error(`no demo part named ${options.only}`);
      const json = options.json === true;
      if (!json) process.stderr.write(`cam demo: ${parts.length} parts on loopback, output in ${options.out}\n`);
      const summary = await runDemo(parts, {
        out: options.out,
        quiet: json,
        write: (line) => process.stderr.write(`${line}\n`),
      });
      if (json) printJson(summary);
      else process.stdout.write(`\n${formatSummary(summary)}\n`);
      process.exitCode = summary.ok ? 0 : 1;
    });
}
