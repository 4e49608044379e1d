#!/usr/bin/env node
// Deploys TestToken, SignedVault and CloneTokenFactory to a development chain from the node's first unlocked
// account, then writes and prints where they are:
//
//   node scripts/deploy-contracts.js --rpc http://127.0.0.1:8545 --quote-signer 0x... \
//     [--owner 0x...] [--out <file>]
//
// The owner defaults to the deployer; --out defaults to target/chain/deployment.json in the
// repository (a relative --out is relative to the current directory). The bytecode comes from
// the committed artifacts in contracts/out (node scripts/compile-contracts.js). The chain must
// automine and unlock its accounts, as `scripts/chain start` (hardhat) does; every run deploys
// new contracts.
// Output: {"chainId", "vault", "token", "factory", "deployer", "quoteSigner", "owner",
// "blockNumber"}. `factory` is the clone deployment factory (DEPLOYMENT_FACTORY_ADDRESS); `token`
// also serves as the training pools' payment token (DEPLOYMENT_PAYMENT_TOKEN).
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
// `quoteSigner()`: keccak256("quoteSigner()")[0..4], checked by the clones-vault unit tests.
const QUOTE_SIGNER_SELECTOR = '0xf413bdb3';
const usage =
  'usage: node scripts/deploy-contracts.js --rpc <url> --quote-signer <address> ' +
  '[--owner <address>] [--out <file>]';

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = { out: path.join(root, 'target', 'chain', 'deployment.json') };
  const names = { '--rpc': 'rpc', '--quote-signer': 'quoteSigner', '--owner': 'owner', '--out': 'out' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(usage);
      process.exit(0);
    }
    const [flag, inline] = arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
    const name = names[flag];
    if (!name) fail(`unknown argument ${arg}\n${usage}`);
    const value = inline !== undefined ? inline : argv[++i];
    if (value === undefined || value === '') fail(`${flag} needs a value\n${usage}`);
    options[name] = value;
  }
  if (!options.rpc) fail(`--rpc is required\n${usage}`);
  if (!options.quoteSigner) fail(`--quote-signer is required\n${usage}`);
  return options;
}

function checkAddress(flag, value) {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) fail(`${flag} must be 0x followed by 40 hex digits, got ${value}`);
  if (/^0x0{40}$/.test(value)) fail(`${flag} must not be the zero address`);
  return value.toLowerCase();
}

let requestId = 0;
async function rpc(url, method, params = []) {
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: ++requestId, method, params }),
    });
  } catch (error) {
    const cause = error.cause ? `: ${error.cause.message || error.cause}` : '';
    fail(`cannot reach the chain at ${url} (${error.message}${cause}); is \`scripts/chain start\` running?`);
  }
  if (!response.ok) fail(`${method} failed: HTTP ${response.status} from ${url}`);
  const body = await response.json();
  if (body.error) {
    fail(`${method} failed: ${body.error.message || JSON.stringify(body.error)}`);
  }
  return body.result;
}

function artifact(name) {
  const file = path.join(root, 'contracts', 'out', `${name}.json`);
  let parsed;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`cannot read ${path.relative(root, file)} (${error.message}); run node scripts/compile-contracts.js`);
  }
  if (typeof parsed.bytecode !== 'string' || !/^0x[0-9a-f]+$/i.test(parsed.bytecode) || parsed.bytecode.length < 4) {
    fail(`${path.relative(root, file)} has no creation bytecode; run node scripts/compile-contracts.js`);
  }
  return parsed;
}

// ABI-encodes addresses as constructor arguments (each a left-padded 32-byte word).
function encodeAddresses(...addresses) {
  return addresses.map((address) => address.slice(2).toLowerCase().padStart(64, '0')).join('');
}

async function waitForReceipt(url, hash, what) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const receipt = await rpc(url, 'eth_getTransactionReceipt', [hash]);
    if (receipt) return receipt;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  fail(`${what}: transaction ${hash} was not mined within 30 s; does the chain automine?`);
}

async function deploy(url, from, name, args = '') {
  const { bytecode } = artifact(name);
  const hash = await rpc(url, 'eth_sendTransaction', [{ from, data: bytecode + args }]);
  const receipt = await waitForReceipt(url, hash, `deploying ${name}`);
  if (receipt.status !== '0x1') fail(`deploying ${name} reverted (transaction ${hash})`);
  if (!receipt.contractAddress) fail(`deploying ${name} created no contract (transaction ${hash})`);
  const code = await rpc(url, 'eth_getCode', [receipt.contractAddress, 'latest']);
  if (!code || code === '0x') fail(`${name} has no code at ${receipt.contractAddress}`);
  return { address: receipt.contractAddress.toLowerCase(), blockNumber: Number(BigInt(receipt.blockNumber)) };
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  let url;
  try {
    url = new URL(options.rpc).toString();
  } catch {
    fail(`--rpc is not a URL: ${options.rpc}`);
  }
  const quoteSigner = checkAddress('--quote-signer', options.quoteSigner);

  const chainId = Number(BigInt(await rpc(url, 'eth_chainId')));
  const accounts = await rpc(url, 'eth_accounts');
  if (!Array.isArray(accounts) || accounts.length === 0) {
    fail(`the node at ${url} has no unlocked accounts to deploy from`);
  }
  const deployer = accounts[0].toLowerCase();
  const owner = options.owner ? checkAddress('--owner', options.owner) : deployer;

  const token = await deploy(url, deployer, 'TestToken');
  const vault = await deploy(url, deployer, 'SignedVault', encodeAddresses(quoteSigner, owner));
  const factory = await deploy(url, deployer, 'CloneTokenFactory');

  // Read the vault back: the constructor arguments must have landed where expected.
  const signerWord = await rpc(url, 'eth_call', [{ to: vault.address, data: QUOTE_SIGNER_SELECTOR }, 'latest']);
  if (typeof signerWord !== 'string' || `0x${signerWord.slice(-40)}`.toLowerCase() !== quoteSigner) {
    fail(`the deployed vault reports quote signer ${signerWord}, expected ${quoteSigner}`);
  }

  const deployment = {
    chainId,
    vault: vault.address,
    token: token.address,
    factory: factory.address,
    deployer,
    quoteSigner,
    owner,
    blockNumber: vault.blockNumber,
  };
  const text = JSON.stringify(deployment, null, 2) + '\n';
  const out = path.resolve(options.out);
  try {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, text);
  } catch (error) {
    fail(`cannot write ${out}: ${error.message}`);
  }
  process.stdout.write(text);
  const shown = path.relative(process.cwd(), out);
  console.error(`wrote ${shown.startsWith('..') ? out : shown}`);
}

main().catch((error) => fail(error.stack || String(error)));
