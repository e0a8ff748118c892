'use strict';
// A stand-in for `procdsl lsp` in test/extension_load.js: answers the LSP
// handshake over stdio and writes its arguments and every method it
// receives to the file named by PROCDSL_FAKE_LOG, one per line.

const fs = require('fs');

const log = (line) => fs.appendFileSync(process.env.PROCDSL_FAKE_LOG, `${line}\n`);
log(`args ${process.argv.slice(2).join(' ')}`);

let buffer = Buffer.alloc(0);
function send(message) {
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...message }), 'utf8');
  process.stdout.write(`Content-Length: ${body.length}\r\n\r\n`);
  process.stdout.write(body);
}

process.stdin.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const headerEnd = buffer.indexOf('\r\n\r\n');
    if (headerEnd < 0) return;
    const length = Number(/Content-Length: (\d+)/i.exec(buffer.slice(0, headerEnd).toString())[1]);
    if (buffer.length < headerEnd + 4 + length) return;
    const message = JSON.parse(buffer.slice(headerEnd + 4, headerEnd + 4 + length).toString('utf8'));
    buffer = buffer.slice(headerEnd + 4 + length);
    log(message.method);
    if (message.method === 'initialize') {
      send({ id: message.id, result: { capabilities: { textDocumentSync: 2 }, serverInfo: { name: 'fake' } } });
    } else if (message.method === 'shutdown') {
      send({ id: message.id, result: null });
    } else if (message.method === 'exit') {
      process.exit(0);
    } else if (message.id !== undefined) {
      send({ id: message.id, result: null });
    }
  }
});

// The client closed the pipe: nothing more can come.
process.stdin.on('end', () => process.exit(0));
