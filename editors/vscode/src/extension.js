'use strict';
// The procdsl extension: the TextMate grammar and the language configuration
// are declared in package.json; this file only starts `procdsl lsp` (stdio)
// for .proc files, and restarts it when `procdsl.path` changes.

const os = require('os');
const path = require('path');
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;

/**
 * The command that runs the server: `procdsl.path` as the user wrote it,
 * with `~/` expanded and a relative path containing a slash taken from the
 * first workspace folder (`target/debug/procdsl` in a procdsl checkout).
 * A bare name is left to the PATH lookup.
 */
function serverCommand(configured, workspaceFolder) {
  let command = (configured || '').trim() || 'procdsl';
  if (command === '~' || command.startsWith('~/')) command = path.join(os.homedir(), command.slice(1));
  const hasSlash = command.includes('/') || (process.platform === 'win32' && command.includes('\\'));
  if (hasSlash && !path.isAbsolute(command) && workspaceFolder) command = path.resolve(workspaceFolder, command);
  return command;
}

function configuredCommand() {
  const configured = vscode.workspace.getConfiguration('procdsl').get('path');
  const folders = vscode.workspace.workspaceFolders;
  return serverCommand(configured, folders && folders.length > 0 ? folders[0].uri.fsPath : undefined);
}

async function startClient() {
  const command = configuredCommand();
  // No transport given: the client speaks JSON-RPC over the child's stdin/stdout.
  const executable = { command, args: ['lsp'] };
  try {
    client = new LanguageClient(
      'procdsl',
      'procdsl',
      { run: executable, debug: executable },
      {
        documentSelector: [
          { scheme: 'file', language: 'procdsl' },
          { scheme: 'untitled', language: 'procdsl' },
        ],
      },
    );
    await client.start();
  } catch (error) {
    client = undefined;
    const message = error && error.message ? error.message : String(error);
    const choice = await vscode.window.showErrorMessage(
      `procdsl: could not start \`${command} lsp\` (${message}). Highlighting still works; ` +
        'set `procdsl.path` to the procdsl binary for diagnostics, navigation and formatting.',
      'Open Settings',
    );
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'procdsl.path');
    }
  }
}

async function stopClient() {
  const running = client;
  client = undefined;
  if (running) await running.stop();
}

async function restartClient() {
  await stopClient();
  await startClient();
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('procdsl.restartServer', restartClient),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('procdsl.path')) restartClient();
    }),
  );
  await startClient();
}

function deactivate() {
  return stopClient();
}

module.exports = { activate, deactivate, serverCommand };
