// `porthole completion bash|zsh|fish`, loaded in the real shells: bash through its completion function with
// COMP_WORDS, fish through `complete -C`, zsh through a real interactive zsh in a pseudo-terminal (zpty) pressing
// Tab. Where zsh or fish is not installed, their scripts are at least checked for syntax by the shell if present.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, hasCommand, porthole, runProcess } from '../support/cli.js';
import { createContainer, ensureBusyboxImage, removeContainers, uniqueName } from '../support/docker.js';

let bin: string;
let env: Record<string, string>;
const made: string[] = [];
before(() => {
  ensureBusyboxImage();
  bin = mkdtempSync(join(tmpdir(), 'porthole-completion-'));
  symlinkSync(BIN, join(bin, 'porthole'));
  env = { PATH: `${bin}:${process.env.PATH}` };
});
after(() => {
  removeContainers(...made);
  rmSync(bin, { recursive: true, force: true });
});

/** What bash completes for a command line typed so far (a trailing space starts a new, empty word). */
async function bashComplete(line: string): Promise<string[]> {
  const script = `source <(porthole completion bash) || exit 9
read -ra COMP_WORDS <<< "$LINE"
[[ "$LINE" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
COMP_LINE="$LINE"; COMP_POINT=\${#LINE}
COMPREPLY=()
_porthole
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = await runProcess('bash', ['-c', script], { env: { ...env, LINE: line } });
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

test('bash: the script registers _porthole and completes commands, flags, actions, files and container names', async () => {
  const registered = await runProcess('bash', ['-c', 'source <(porthole completion bash); complete -p porthole'], { env });
  assert.equal(registered.code, 0, registered.stderr);
  assert.equal(registered.stdout.trim(), 'complete -F _porthole porthole');

  assert.deepEqual(await bashComplete('porthole sh'), ['shell']);
  assert.deepEqual(await bashComplete('porthole e'), ['export', 'edit', 'engine']);
  assert.deepEqual(await bashComplete('porthole ps --j'), ['--json']);
  assert.deepEqual(await bashComplete('porthole shell --no'), ['--no-limits']);
  assert.deepEqual(await bashComplete('porthole --tlsc'), ['--tlscacert', '--tlscert']);
  assert.deepEqual(await bashComplete('porthole --tlsverify --tlscacert /etc/hostnam'), ['/etc/hostname']);
  // the command is found after global flags with values
  assert.deepEqual(await bashComplete('porthole -H unix:///var/run/docker.sock demo '), ['up', 'down']);
  assert.deepEqual(await bashComplete('porthole --context default toolbox '), ['build', 'rm']);
  assert.deepEqual(await bashComplete('porthole completion '), ['bash', 'zsh', 'fish']);
  assert.deepEqual(await bashComplete('porthole export -o /et'), ['/etc']);
  // a flag that takes a word gets no container names as its value
  assert.deepEqual(await bashComplete('porthole logs --tail '), []);

  const name = uniqueName('flags-errors-complete');
  made.push(name);
  createContainer(name, []);
  assert.deepEqual(await bashComplete(`porthole logs ${name.slice(0, -2)}`), [name]);
  assert.deepEqual(await bashComplete(`porthole shell -u root ${name.slice(0, -2)}`), [name]);
});

test('the scripts come from the command definitions: every command and each of its flags is in them', async () => {
  const { commands } = await import('../../src/commands/registry.js');
  const scripts = Object.fromEntries(await Promise.all(['bash', 'zsh', 'fish'].map(async (s) => [s, (await porthole(['completion', s])).stdout] as const)));
  for (const entry of commands) {
    const { spec } = await entry.load();
    for (const [shell, script] of Object.entries(scripts)) {
      assert.ok(script.includes(entry.name), `${shell}: ${entry.name}`);
      for (const flag of Object.keys(spec.options)) assert.ok(shell === 'fish' ? script.includes(`-l ${flag}`) : script.includes(`--${flag}`), `${shell}: ${entry.name} --${flag}`);
    }
  }
  const bad = await porthole(['completion', 'powershell']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'porthole: porthole completes in bash, zsh and fish, not "powershell". Run `porthole completion bash`, `porthole completion zsh` or `porthole completion fish`.\n');
});

test('fish: complete -C lists what fish would offer', { skip: !hasCommand('fish') && 'fish is not installed' }, async () => {
  const complete = async (line: string) => {
    const r = await runProcess('fish', ['-c', `porthole completion fish | source; complete -C ${JSON.stringify(line)}`], { env });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
  };
  assert.deepEqual(await complete('porthole sh'), ['shell']);
  assert.deepEqual((await complete('porthole demo ')).sort(), ['down', 'up']);
  assert.deepEqual(await complete('porthole shell --no'), ['--no-limits']);
  assert.deepEqual(await complete('porthole --tlsv'), ['--tlsverify']);
  const name = uniqueName('flags-errors-fish');
  made.push(name);
  createContainer(name, []);
  assert.ok((await complete(`porthole why ${name.slice(0, -2)}`)).includes(name));
});

test('zsh: Tab in a real interactive zsh (zpty) completes actions and flags', { skip: !hasCommand('zsh') && 'zsh is not installed' }, async () => {
  const syntax = await runProcess('zsh', ['-c', 'zsh -n <(porthole completion zsh)'], { env });
  assert.equal(syntax.code, 0, syntax.stderr);
  const dir = mkdtempSync(join(tmpdir(), 'porthole-zsh-'));
  try {
    const press = async (typed: string) => {
      const script = join(dir, 'press.zsh');
      writeFileSync(
        script,
        `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z 'PS1="> "; autoload -U compinit; compinit -u -D; source <(porthole completion zsh); echo READY'
while zpty -r z line; do [[ $line == *READY* ]] && break; done
zpty -w -n z ${JSON.stringify(typed)}$'\\t'
sleep 2
all=""
while zpty -r -t z chunk 2>/dev/null; do all+=$chunk; done
print -r -- "$all"
zpty -d z
`,
      );
      const r = await runProcess('zsh', ['-f', script], { env, timeoutMs: 30000 });
      assert.equal(r.code, 0, r.stderr);
      // the terminal's bytes, without its escape sequences
      return r.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[\x07\r\b]/g, '');
    };
    assert.match(await press('porthole demo '), /down\s+up/);
    assert.match(await press('porthole --tlsc'), /--tlscacert.*\n?.*--tlscert|porthole --tlsc(acert|ert)/s);
    // a single match is inserted in the line
    assert.match(await press('porthole shell --no-l'), /porthole shell --no-limits/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
