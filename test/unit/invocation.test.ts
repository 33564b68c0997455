// Hints repeat the global flags in force (cli/invocation.ts).
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { parseGlobal } from '../../src/cli/global.js';
import { portholeWithFlags, rememberGlobalFlags, withGlobalFlags } from '../../src/cli/invocation.js';

const names = ['ps', 'shell', 'ls', 'which'];
afterEach(() => rememberGlobalFlags(parseGlobal([])));

test('quoted porthole commands get the flags; prose and unknown words do not', () => {
  rememberGlobalFlags(parseGlobal(['-H', 'ssh://ops@box', '--tlsverify', '-n', 'shop', 'ps']));
  assert.equal(portholeWithFlags(), 'porthole -H ssh://ops@box --tlsverify -n shop');
  assert.equal(
    withGlobalFlags('porthole which reads /proc; `porthole ps web` lists them, `porthole shell` enters, `porthole nosuch` is no command.', names),
    'porthole which reads /proc; `porthole -H ssh://ops@box --tlsverify -n shop ps web` lists them, `porthole -H ssh://ops@box --tlsverify -n shop shell` enters, `porthole nosuch` is no command.',
  );
});

test('values are quoted for the shell, control bytes never reach the terminal, and no flags means no change', () => {
  rememberGlobalFlags(parseGlobal(['--context', "it's \x1b[31m", 'ps']));
  assert.equal(portholeWithFlags(), `porthole --context 'it'\\''s ?[31m'`);
  rememberGlobalFlags(parseGlobal(['ps']));
  assert.equal(withGlobalFlags('Run `porthole ps`.', names), 'Run `porthole ps`.');
});
