'use strict';
// Loads src/extension.js under node with a stand-in `vscode` module (VS
// Code itself cannot run here): the extension and vscode-languageclient
// must load, export activate/deactivate, and resolve `procdsl.path` as
// docs/EDITORS.md says. Run by scripts/textmate_check.sh.

const assert = require('assert');
const Module = require('module');
const os = require('os');
const path = require('path');

// Any property of the stand-in is another stand-in, callable and
// constructible, so whatever the client reads at load time exists.
function standIn() {
  const target = function () {};
  return new Proxy(target, {
    get: (_, key) => (key === Symbol.toPrimitive ? () => '' : key === 'then' ? undefined : standIn()),
    apply: () => standIn(),
    construct: () => standIn(),
  });
}
const vscode = standIn();
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

console.log('extension check: src/extension.js loads with vscode-languageclient; procdsl.path resolves');
