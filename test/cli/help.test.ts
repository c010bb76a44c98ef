import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { registerCliCommands } from '../../src/cli/index.js';

/** Every group the client registers and the verbs it must offer. */
const GROUPS: Record<string, string[]> = {
  'service-network': ['create', 'get', 'list', 'update', 'delete'],
  service: ['create', 'get', 'list', 'update', 'delete'],
  listener: ['create', 'get', 'list', 'update', 'delete'],
  rule: ['create', 'get', 'list', 'update', 'delete'],
  'target-group': ['create', 'get', 'list', 'update', 'delete'],
  targets: ['register', 'deregister', 'list'],
  association: ['create', 'get', 'list', 'update', 'delete'],
  'auth-policy': ['put', 'get', 'delete'],
  vpc: ['create', 'get', 'list', 'delete'],
  instance: ['create', 'get', 'list', 'delete'],
  'load-balancer': ['create', 'get', 'list', 'delete'],
  ram: [
    'create-share',
    'list-shares',
    'list-members',
    'add',
    'remove',
    'delete-share',
    'list-invitations',
    'accept-invitation',
    'reject-invitation',
    'list-resources',
  ],
};

/** The full --help text of a command, including text added after it (examples). */
function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

const program = new Command('trellis');
registerCliCommands(program);

describe('trellis --help', () => {
  it('lists every command group', () => {
    const help = helpOf(program);
    for (const g of Object.keys(GROUPS)) assert.match(help, new RegExp(`^  ${g} `, 'm'), help);
  });

  for (const [group, verbs] of Object.entries(GROUPS)) {
    it(`${group} --help lists ${verbs.join(', ')}; each has an example and the client flags`, () => {
      const cmd = program.commands.find((c) => c.name() === group);
      assert.ok(cmd, `no ${group} group`);
      const help = helpOf(cmd);
      for (const v of verbs) assert.match(help, new RegExp(`^  ${v} `, 'm'), help);
      for (const sub of cmd.commands) {
        const text = helpOf(sub);
        assert.match(text, new RegExp(`Examples?:\\n  \\$ trellis ${group} ${sub.name()}`), text);
        for (const flag of [
          '--output <format>',
          '--endpoint <url>',
          '--data-dir <dir>',
          '--region <region>',
        ]) {
          assert.ok(text.includes(flag), `${group} ${sub.name()} lacks ${flag}`);
        }
      }
    });
  }
});
