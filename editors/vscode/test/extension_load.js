'use strict';
// The extension's wiring, under node with a stand-in `vscode` module (VS
// Code itself cannot run here): src/extension.js and vscode-languageclient
// load; `procdsl.path` resolves as docs/EDITORS.md says; activation starts
// `<procdsl.path> lsp` and completes the LSP handshake over stdio with a
// stand-in server (test/fake_server.js), deactivation asks it to shut down; and a
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

/**
 * With PROCDSL_BIN (tests/editor_grammar.rs sets it to the binary cargo
 * built), the same handshake with the real `procdsl lsp`, once the binary
 * has that command.
 */
async function realServer() {
  const binary = process.env.PROCDSL_BIN;
  if (!binary) return;
  const help = require('child_process').spawnSync(binary, ['lsp', '--help'], { stdio: 'ignore', timeout: 30000 });
  if (help.status !== 0) {
    console.log(`extension check: ${binary} has no \`lsp\` command yet: the handshake with the real server was not tried`);
    return;
  }
  settings.path = binary;
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`\`${binary} lsp\` did not finish the handshake within 60 s`)), 60000);
  });
  try {
    await Promise.race([extension.activate({ subscriptions: [] }), timeout]);
    assert.deepStrictEqual(errors, [], `no error message when \`${binary} lsp\` starts`);
    await Promise.race([extension.deactivate(), timeout]);
  } finally {
    clearTimeout(timer);
  }
  console.log(`extension check: the real \`${binary} lsp\` started and shut down through the extension`);
}

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
    const handshake = seen.filter((line) => line.startsWith('args') || ['initialize', 'initialized', 'shutdown'].includes(line));
    // `exit` follows `shutdown`, but the client closes the pipe right after
    // writing it, so the stand-in does not always read it.
    assert.deepStrictEqual(handshake, ['args lsp', 'initialize', 'initialized', 'shutdown'], `the server's log:\n${seen.join('\n')}`);

    settings.path = path.join(dir, 'missing', 'procdsl');
    await extension.activate({ subscriptions: [] });
    const named = errors.filter((message) => message.includes(`\`${settings.path} lsp\``));
    assert.strictEqual(named.length, 1, `one message names the binary; shown:\n${errors.join('\n')}`);
    await extension.deactivate();
    errors.length = 0;

    await realServer();
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
