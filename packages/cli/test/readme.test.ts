import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url);
const readme = readFileSync(new URL('README.md', root), 'utf8');
const ci = readFileSync(new URL('.ci/run', root), 'utf8');

/** The shell commands of the code blocks under "Quick start". */
function quickStartCommands(): string[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Quick start'));
  if (!section) throw new Error('README has no Quick start section');
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim());
}

describe('README Quick start', () => {
  it('has exactly two commands: one runs the demo, one runs the tests', () => {
    const commands = quickStartCommands();
    expect(commands).toHaveLength(2);
    expect(commands[0]).toMatch(/pnpm start$/);
    expect(commands[1]).toMatch(/pnpm test$/);
    for (const c of commands) expect(c.split('\n')).toHaveLength(1);
  });

  it('.ci/run runs exactly the README test command', () => {
    const testCommand = quickStartCommands()[1]!;
    expect(ci.split('\n').map((l) => l.trim())).toContain(testCommand);
  });

  it('pnpm start is cam demo', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toMatch(/cam\.js demo$/);
  });
});
