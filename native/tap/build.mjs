// `npm install` / `npm ci` runs this (package.json "install") to build build/Release/weft_tap.node.
// node-gyp downloads Node's headers unless told where they are; a distribution Node (here
// /usr/bin/node with /usr/include/node) ships them next to the binary, so point node-gyp at
// that prefix and the build needs no network. An explicit npm_config_nodedir still wins.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const args = ['rebuild'];
if (!process.env.npm_config_nodedir) {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  if (existsSync(path.join(prefix, 'include/node/node_api.h')) && existsSync(path.join(prefix, 'include/node/common.gypi'))) {
    args.push(`--nodedir=${prefix}`);
  }
}
// Inside npm scripts `node-gyp` is npm's bundled copy on PATH; run by hand, use the copy next to npm.
const bundled = path.resolve(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
const inNpm = Boolean(process.env.npm_lifecycle_event);
const r = inNpm || !existsSync(bundled)
  ? spawnSync('node-gyp', args, { stdio: 'inherit' })
  : spawnSync(process.execPath, [bundled, ...args], { stdio: 'inherit' });
if (r.error) throw r.error;
process.exit(r.status ?? 1);
