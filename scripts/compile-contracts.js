#!/usr/bin/env node
// Compiles the project's Solidity (contracts/src and contracts/test) with the pinned solc from
// npm and writes one artifact per contract to contracts/out/<Name>.json: ABI, creation bytecode
// and the compiler version. The artifacts are committed; `--check` recompiles and fails when
// they differ from the sources, so what tests deploy is always reproducible from the source.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const root = path.resolve(__dirname, '..');
const outDir = path.join(root, 'contracts', 'out');
const check = process.argv.includes('--check');

const sources = {};
for (const dir of ['contracts/src', 'contracts/test']) {
  const abs = path.join(root, dir);
  if (!fs.existsSync(abs)) continue;
  for (const file of fs.readdirSync(abs).sort()) {
    if (file.endsWith('.sol')) {
      sources[`${dir}/${file}`] = { content: fs.readFileSync(path.join(abs, file), 'utf8') };
    }
  }
}

const input = {
  language: 'Solidity',
  sources,
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: 'cancun',
    metadata: { bytecodeHash: 'none' },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
for (const message of output.errors || []) console.error(message.formattedMessage);
if (errors.length > 0) process.exit(1);

const artifacts = {};
for (const [file, contracts] of Object.entries(output.contracts)) {
  for (const [name, contract] of Object.entries(contracts)) {
    artifacts[`${name}.json`] = JSON.stringify({
      contractName: name,
      sourceName: file,
      compiler: `solc ${solc.version()}`,
      abi: contract.abi,
      bytecode: `0x${contract.evm.bytecode.object}`,
    }, null, 2) + '\n';
  }
}

let stale = false;
fs.mkdirSync(outDir, { recursive: true });
for (const [file, text] of Object.entries(artifacts)) {
  const target = path.join(outDir, file);
  const current = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
  if (current === text) continue;
  if (check) {
    console.error(`contracts/out/${file} is out of date: run node scripts/compile-contracts.js`);
    stale = true;
  } else {
    fs.writeFileSync(target, text);
    console.log(`wrote contracts/out/${file}`);
  }
}
for (const file of fs.readdirSync(outDir)) {
  if (file.endsWith('.json') && !(file in artifacts)) {
    if (check) {
      console.error(`contracts/out/${file} has no source`);
      stale = true;
    } else {
      fs.unlinkSync(path.join(outDir, file));
    }
  }
}
process.exit(stale ? 1 : 0);
