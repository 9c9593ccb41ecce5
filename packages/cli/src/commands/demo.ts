import type { Command } from 'commander';

/** `cam demo`: every protocol on embedded simulated devices, on loopback. */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run every protocol against embedded simulated devices on loopback')
    .option('--out <dir>', 'output directory', './cam-demo-out')
    .option('--json', 'print the summary as JSON')
    .action(() => {
      process.stderr.write(
        'cam demo will start a simulated GigE Vision camera, smart camera, EHome device and Huidu controller on\n' +
          'loopback and drive each with the host side of @cam. It is not built yet.\n',
      );
      process.exitCode = 1;
    });
}
