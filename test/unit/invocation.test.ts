// Hints repeat the global flags in force (cli/invocation.ts).
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { parseGlobal } from '../../src/cli/global.js';
import { engineWords, portholeOnEngine, portholeWithFlags, rememberContainer, rememberGlobalFlags, withGlobalFlags } from '../../src/cli/invocation.js';
import { removeLeftover } from '../../src/enter/remove.js';
import { EngineUnavailable, NoSuchPath, UnusablePath } from '../../src/errors.js';

const names = ['ps', 'shell', 'ls', 'which'];
afterEach(() => {
  rememberGlobalFlags(parseGlobal([]));
  rememberContainer(undefined);
});

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

test('a hint for a command on a swarm node names that node\'s engine, and the manager\'s flags stay out of it', () => {
  rememberGlobalFlags(parseGlobal(['-H', 'unix:///run/manager.sock', 'shell']));
  const node = { host: 'unix:///run/node2.sock', via: 'PORTHOLE_SWARM_NODES entry "n2"', skipped: [], node: 'n2' };
  assert.equal(portholeOnEngine(node), 'porthole -H unix:///run/node2.sock');
  assert.equal(portholeOnEngine({ ...node, host: 'ssh://n2', context: "n2 \x1b[1m" }), "porthole --context 'n2 ?[1m'");
  assert.equal(engineWords(node), "node n2's engine");
  // one engine: the global flags complete the hint as for any other
  assert.equal(portholeOnEngine({ host: 'unix:///run/manager.sock', via: '--host flag', skipped: [] }), 'porthole');
  assert.equal(engineWords(undefined), 'this engine');
  assert.equal(withGlobalFlags(`Run \`${portholeOnEngine(node)} gc\`.`, ['gc']), 'Run `porthole -H unix:///run/node2.sock gc`.');
  assert.equal(withGlobalFlags(`Run \`${portholeOnEngine(undefined)} gc\`.`, ['gc']), 'Run `porthole -H unix:///run/manager.sock gc`.');
});

test('what is left on a node whose engine went away is named with the way gc reaches that node', async () => {
  const gone = async () => {
    throw new EngineUnavailable('No engine socket.');
  };
  const node = { host: 'unix:///run/node2.sock', via: 'mapping', skipped: [], node: 'n2' };
  // both at once: each gives up after about 5 s of retries
  await Promise.all([
    assert.rejects(removeLeftover('0123456789abcdef', gone, node), {
      message: "0123456789ab is left on node n2's engine, which went away; `porthole -H unix:///run/node2.sock gc` removes it once the engine is back.",
    }),
    assert.rejects(removeLeftover('sha256:fedcba9876543210', gone), {
      message: 'fedcba987654 is left on the engine, which went away; `porthole gc` removes it once the engine is back.',
    }),
  ]);
});

test('a path a command cannot use gets a hint that lists its folder in the container as typed, quoted and clean', () => {
  rememberContainer('service/web.2');
  assert.equal(new NoSuchPath('No such file.', '/var/log').hint, 'Check the path with `porthole ls service/web.2 /var/log`.');
  // the container the command itself named wins (cp's side with CONTAINER:PATH)
  assert.equal(new UnusablePath('Is a folder.', '/etc', 'List it with', 'db').hint, 'List it with `porthole ls db /etc`.');
  // a folder name with spaces and a terminal escape: quoted for the shell, the control byte made harmless
  assert.equal(new NoSuchPath('No such file.', '/my dir/\x1b[2J').hint, "Check the path with `porthole ls service/web.2 '/my dir/?[2J'`.");
  rememberContainer(undefined);
  assert.equal(new NoSuchPath('No such file.', '/').hint, 'Check the path with `porthole ls CONTAINER /`.');
  // and the global flags go in, as into every hint
  rememberGlobalFlags(parseGlobal(['-H', 'tcp://box:2376', 'cat']));
  rememberContainer('web');
  assert.equal(withGlobalFlags(new NoSuchPath('No such file.', '/app').hint!, names), 'Check the path with `porthole -H tcp://box:2376 ls web /app`.');
});
