import { execFileSync } from 'node:child_process';
import type { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { completionScript } from '../src/completion.js';
import { main } from '../src/main.js';
import { createProgram } from '../src/program.js';

function leaves(cmd: Command, prefix: string[] = []): string[][] {
  const subs = cmd.commands.filter((c) => c.name() !== 'help');
  if (subs.length === 0) return [prefix];
  return subs.flatMap((c) => leaves(c, [...prefix, c.name()]));
}

async function run(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await main(['node', 'cam', ...args]), stdout };
  } finally {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  }
}

afterEach(() => {
  process.exitCode = undefined;
});

describe('help: one style, Examples everywhere, cam help <command...>', () => {
  const commands = leaves(createProgram());

  it.each(commands.map((c) => [c.join(' '), c]))(
    '%s has an Examples section and one default style',
    async (_, words) => {
      const { code, stdout } = await run([...(words as string[]), '--help']);
      expect(code).toBe(0);
      expect(stdout).toMatch(/\nExamples:\n {2}\$ cam /);
      expect(stdout).not.toMatch(/\(default: "/); // never JSON-quoted
      expect(stdout).not.toMatch(/\(default [^:]/); // never without the colon
      for (const line of stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80); // wrapped (not a terminal)
    },
  );

  it("cam help gige grab shows grab's help; an unknown command is a usage error", async () => {
    const viaHelp = await run(['help', 'gige', 'grab']);
    const viaFlag = await run(['gige', 'grab', '--help']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(viaHelp.stdout).toMatch(/^Usage: cam gige grab \[options\] <ip>/);
    expect((await run(['help', 'gige', 'nope'])).code).toBe(2);
  });
});

describe('shell completion', () => {
  const script = completionScript(createProgram(), 'bash');
  /** What bash completes for the words typed so far (the last one being completed). */
  function complete(words: string[]): string[] {
    const program = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _cam; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync('bash', ['-c', program], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  }

  it('bash completes commands, subcommands and options from the tree', () => {
    expect(complete(['cam', 'g'])).toEqual(['gige', 'genicam', 'gvsp']);
    expect(complete(['cam', 'gige', 'gr'])).toEqual(['grab']);
    expect(complete(['cam', 'gige', 'grab', '127.0.0.1', '--tr'])).toEqual(['--trigger']);
    expect(complete(['cam', 'gvsp', 'decode', '--'])).toContain('--port');
  });

  it('cam completion zsh loads bashcompinit first; other shells are a usage error', async () => {
    const zsh = await run(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout.split('\n')[0]).toBe('autoload -U +X bashcompinit && bashcompinit');
    expect(zsh.stdout).toContain('complete -o default -F _cam cam');
    expect((await run(['completion', 'fish'])).code).toBe(2);
  });
});
