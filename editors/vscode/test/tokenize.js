'use strict';
// The TextMate check: the grammar highlights every keyword of the language
// in every example and in every `proc` block of docs/LANGUAGE.md.
//
// The keywords come from grammar/procdsl.pest, not from a list kept here:
// every word-shaped string literal of the pest grammar (`kw_*` rules,
// `true`/`false`/`null`, `and`/`or`/`not`). A keyword token fails the check
// when it carries no scope but the root and `meta.*` ones (those only say
// which region a token is in, and no theme colours them). Also checked:
// every line tokenizes within the time limit, every file ends with every
// region closed, and every keyword appears in the TextMate grammar (drift).
// Run by scripts/textmate_check.sh; exits non-zero on any failure.

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const GRAMMAR = path.resolve(__dirname, '..', 'syntaxes', 'procdsl.tmLanguage.json');
const SCOPE = 'source.procdsl';
// A keyword is a literal that starts with a letter (`"_"` is a name's first
// character, not a word).
const WORD = /^[A-Za-z][A-Za-z0-9_]*$/;
// A line that takes longer than this to tokenize counts as not tokenized
// (vscode-textmate then stops early, as VS Code does).
const LINE_LIMIT_MS = 1000;

/** The word-shaped string literals of a pest grammar, comments skipped. */
function pestKeywords(source) {
  const words = new Set();
  let i = 0;
  while (i < source.length) {
    if (source.startsWith('//', i)) {
      const nl = source.indexOf('\n', i);
      i = nl < 0 ? source.length : nl;
    } else if (source.startsWith('/*', i)) {
      const close = source.indexOf('*/', i + 2);
      i = close < 0 ? source.length : close + 2;
    } else if (source[i] === '"') {
      let text = '';
      i++;
      while (i < source.length && source[i] !== '"') {
        // An escape (`"\n"`) keeps its backslash, so it is never a word.
        if (source[i] === '\\') text += source[i++];
        text += source[i++];
      }
      i++;
      if (WORD.test(text)) words.add(text);
    } else {
      i++;
    }
  }
  return words;
}

/** The ```proc blocks of a Markdown file, each with its first line's number. */
function procBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```proc\s*$/.exec(lines[i]);
    if (!open) continue;
    const indent = open[1].length;
    const body = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]); j++) {
      body.push(lines[j].slice(Math.min(indent, lines[j].length - lines[j].trimStart().length)));
    }
    blocks.push({ line: i + 2, text: body.join('\n') });
    i = j;
  }
  return blocks;
}

/** Every string a grammar matches with (match, begin, end), for the drift check. */
function grammarRegexes(node, out = []) {
  if (Array.isArray(node)) node.forEach((n) => grammarRegexes(n, out));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if ((key === 'match' || key === 'begin' || key === 'end') && typeof value === 'string') out.push(value);
      else grammarRegexes(value, out);
    }
  }
  return out;
}

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== SCOPE) return null;
      return vsctm.parseRawGrammar(fs.readFileSync(GRAMMAR, 'utf8'), GRAMMAR);
    },
  });
  return registry.loadGrammar(SCOPE);
}

/** Whether a token's scopes say nothing a theme would colour. */
function unscoped(scopes) {
  return scopes.every((s) => s === SCOPE || s.startsWith('meta.'));
}

/**
 * Tokenizes one source; returns its failures as "place: message" strings.
 * `where(lineIndex)` names a line for the messages.
 */
function checkSource(grammar, text, keywords, where) {
  const failures = [];
  let state = vsctm.INITIAL;
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    let result;
    try {
      result = grammar.tokenizeLine(line, state, LINE_LIMIT_MS);
    } catch (error) {
      failures.push(`${where(index)}: the line does not tokenize: ${error.message}`);
      return;
    }
    if (result.stoppedEarly) {
      failures.push(`${where(index)}: tokenizing the line stopped early (over ${LINE_LIMIT_MS} ms)`);
    }
    state = result.ruleStack;
    for (const token of result.tokens) {
      const piece = line.slice(token.startIndex, token.endIndex);
      if (!unscoped(token.scopes)) continue;
      for (const word of piece.match(/[A-Za-z_][A-Za-z0-9_]*/g) || []) {
        if (keywords.has(word)) {
          failures.push(
            `${where(index)}:${token.startIndex + piece.indexOf(word) + 1}: keyword \`${word}\` has only the scopes ` +
              `${token.scopes.join(' ')}\n    ${line}`,
          );
        }
      }
    }
  });
  if (state.depth !== 1) {
    failures.push(`${where(lines.length - 1)}: the file ends inside a region of the grammar (state depth ${state.depth}, 1 expected)`);
  }
  return failures;
}

/** The sources to check: every example and every proc block of the language reference. */
function sources() {
  const out = [];
  const examples = path.join(ROOT, 'examples');
  for (const name of fs.readdirSync(examples).filter((n) => n.endsWith('.proc')).sort()) {
    const file = path.join('examples', name);
    out.push({ text: fs.readFileSync(path.join(ROOT, file), 'utf8'), where: (i) => `${file}:${i + 1}` });
  }
  const doc = path.join('docs', 'LANGUAGE.md');
  for (const block of procBlocks(fs.readFileSync(path.join(ROOT, doc), 'utf8'))) {
    out.push({ text: block.text, where: (i) => `${doc}:${block.line + i}` });
  }
  return out;
}

/** `--dump FILE`: prints each token with its scopes, to see what a change does. */
async function dump(file) {
  const grammar = await loadGrammar();
  let state = vsctm.INITIAL;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const result = grammar.tokenizeLine(line, state, LINE_LIMIT_MS);
    state = result.ruleStack;
    for (const token of result.tokens) {
      const piece = line.slice(token.startIndex, token.endIndex);
      if (piece.trim() !== '') console.log(`${JSON.stringify(piece).padEnd(28)} ${token.scopes.slice(1).join(' ')}`);
    }
  }
}

/**
 * `--corpus DIR`: tokenizes every file under DIR (the fuzz corpus, say) as
 * VS Code would (lines over 20,000 characters are left plain, VS Code's
 * default); fails on a line that throws or stops early, and prints the time.
 */
async function corpus(dir) {
  const grammar = await loadGrammar();
  const files = [];
  const walk = (d) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files.push(full);
    }
  };
  walk(dir);
  const failures = [];
  let bytes = 0;
  let slowest = { ms: 0, file: '' };
  const start = process.hrtime.bigint();
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    bytes += text.length;
    const began = process.hrtime.bigint();
    let state = vsctm.INITIAL;
    text.split('\n').forEach((line, index) => {
      if (line.length > 20000) return;
      try {
        const result = grammar.tokenizeLine(line, state, LINE_LIMIT_MS);
        if (result.stoppedEarly) failures.push(`${file}:${index + 1}: tokenizing the line stopped early`);
        state = result.ruleStack;
      } catch (error) {
        failures.push(`${file}:${index + 1}: the line does not tokenize: ${error.message}`);
      }
    });
    const ms = Number(process.hrtime.bigint() - began) / 1e6;
    if (ms > slowest.ms) slowest = { ms, file };
  }
  const total = Number(process.hrtime.bigint() - start) / 1e6;
  for (const failure of failures) console.error(failure);
  console.log(
    `corpus: ${files.length} files, ${(bytes / 1e6).toFixed(2)} MB in ${(total / 1000).toFixed(1)} s; ` +
      `slowest ${slowest.ms.toFixed(0)} ms (${slowest.file}); ${failures.length} failure(s)`,
  );
  if (failures.length > 0) process.exit(1);
}

async function main() {
  if (process.argv[2] === '--dump') return dump(process.argv[3]);
  if (process.argv[2] === '--corpus') return corpus(process.argv[3]);
  const keywords = pestKeywords(fs.readFileSync(path.join(ROOT, 'grammar', 'procdsl.pest'), 'utf8'));
  const failures = [];
  if (keywords.size < 40) failures.push(`grammar/procdsl.pest: only ${keywords.size} keywords found; the pest parse is broken`);

  // Drift: a keyword added to the pest grammar must reach the TextMate one.
  const rawGrammar = JSON.parse(fs.readFileSync(GRAMMAR, 'utf8'));
  const regexes = grammarRegexes(rawGrammar).join('\n');
  for (const word of [...keywords].sort()) {
    if (!new RegExp(`(?<![A-Za-z0-9_])${word}(?![A-Za-z0-9_])`).test(regexes)) {
      failures.push(`editors/vscode/syntaxes/procdsl.tmLanguage.json: keyword \`${word}\` of grammar/procdsl.pest appears in no pattern`);
    }
  }

  const grammar = await loadGrammar();

  // The check can fail: a plain name stays unscoped. Were every word given a
  // scope, no keyword could ever be reported.
  const control = checkSource(grammar, 'process P {\n    script S { x = y }\n}', new Set(['y']), (i) => `(control):${i + 1}`);
  if (control.length !== 1) {
    failures.push(`(control): a plain name should come out unscoped, and be reported once; got ${control.length} reports`);
  }

  const all = sources();
  let lines = 0;
  for (const source of all) {
    lines += source.text.split('\n').length;
    failures.push(...checkSource(grammar, source.text, keywords, source.where));
  }

  if (failures.length > 0) {
    for (const failure of failures) console.error(failure);
    console.error(`textmate check: ${failures.length} failure(s)`);
    process.exit(1);
  }
  console.log(`textmate check: ${all.length} sources, ${lines} lines, ${keywords.size} keywords from grammar/procdsl.pest: all highlighted`);
}

main().catch((error) => {
  console.error(`textmate check: ${error.stack || error}`);
  process.exit(1);
});
