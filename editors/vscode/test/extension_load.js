'use strict';
// The extension's wiring, under node with a stand-in `vscode` module (VS
// Code itself cannot run here): src/extension.js and vscode-languageclient
// load; `procdsl.path` resolves as docs/EDITORS.md says; activation starts
// `<procdsl.path> lsp` and completes the LSP handshake over stdio with a
// stand-in server (test/fake_server.js), deactivation shuts it down; and a
// binary that cannot be started gives one error message naming it.
// Run by scripts/textmate_check.sh.

const assert = require('assert');
const fs = require('fs');
const Module = require('module');
const os = require('os');
const path = require('path');

// Any property of the stand-in is another stand-in, callable and
// constructible, so whatever the client reads or calls exists.
function standIn() {
  return new Proxy(function () {}, {
    get: (_, key) => (key === Symbol.toPrimitive ? () => '' : key === 'then' ? undefined : standIn()),
    apply: () => standIn(),
    construct: () => standIn(),
  });
}
const any = standIn();
const settings = { path: 'procdsl' };
const errors = [];
const vscode = new Proxy(
  {
    version: '1.90.0',
    workspace: new Proxy(
      { getConfiguration: () => ({ get: (name, fallback) => settings[name] ?? fallback }), workspaceFolders: undefined },
      { get: (target, key) => (key in target ? target[key] : any[key]) },
    ),
    window: new Proxy(
      { showErrorMessage: (message) => (errors.push(message), Promise.resolve(undefined)) },
      { get: (target, key) => (key in target ? target[key] : any[key]) },
    ),
  },
  { get: (target, key) => (key in target ? target[key] : any[key]) },
);
const load = Module._load;
Module._load = function (request, ...rest) {
  return request === 'vscode' ? vscode : load.call(this, request, ...rest);
};

const extension = require('../src/extension.js');
assert.strictEqual(typeof extension.activate, 'function', 'extension.activate');
assert.strictEqual(typeof extension.deactivate, 'function', 'extension.deactivate');

const { serverCommand } = extension;
assert.strictEqual(serverCommand(undefined, '/w'), 'procdsl');
assert.strictEqual(serverCommand('  ', '/w'), 'procdsl');
assert.strictEqual(serverCommand('procdsl', '/w'), 'procdsl');
assert.strictEqual(serverCommand('/opt/procdsl/bin/procdsl', '/w'), '/opt/procdsl/bin/procdsl');
assert.strictEqual(serverCommand('target/debug/procdsl', '/w'), '/w/target/debug/procdsl');
assert.strictEqual(serverCommand('./procdsl', undefined), './procdsl');
assert.strictEqual(serverCommand('~/bin/procdsl', '/w'), path.join(os.homedir(), 'bin/procdsl'));

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'procdsl-vscode-'));
  try {
    // A "binary" that runs the stand-in server with whatever arguments it gets.
    const binary = path.join(dir, 'procdsl');
    const logFile = path.join(dir, 'server.log');
    fs.writeFileSync(binary, `#!/bin/sh\nexec "${process.execPath}" "${path.join(__dirname, 'fake_server.js')}" "$@"\n`, { mode: 0o755 });
    process.env.PROCDSL_FAKE_LOG = logFile;

    settings.path = binary;
    await extension.activate({ subscriptions: [] });
    assert.deepStrictEqual(errors, [], 'no error message when the server starts');
    await extension.deactivate();
    const seen = fs.readFileSync(logFile, 'utf8').trim().split('\n');
    assert.deepStrictEqual(
      seen.filter((line) => line.startsWith('args') || ['initialize', 'initialized', 'shutdown', 'exit'].includes(line)),
      ['args lsp', 'initialize', 'initialized', 'shutdown', 'exit'],
      `the server's log:\n${seen.join('\n')}`,
    );

    settings.path = path.join(dir, 'missing', 'procdsl');
    await extension.activate({ subscriptions: [] });
    const named = errors.filter((message) => message.includes(`\`${settings.path} lsp\``));
    assert.strictEqual(named.length, 1, `one message names the binary; shown:\n${errors.join('\n')}`);
    await extension.deactivate();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log('extension check: src/extension.js starts `procdsl lsp` over stdio, completes the handshake, shuts it down');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`extension check: ${error.stack || error}`);
    process.exit(1);
  },
);
