// Starts a fresh PocketBase-compatible server (PocketBun or the real PocketBase) for a test file.
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const ADMIN_EMAIL = 'admin@example.com';
export const ADMIN_PASSWORD = 'admin-pass-123';

const DEFAULT_POCKETBASE = '/root/.cache/pbref/venv/bin/pocketbase';

/** The binary under test (required). */
export function pocketbunBin() {
  const bin = process.env.POCKETBUN_BIN;
  if (!bin) throw new Error('POCKETBUN_BIN must point to the server binary under test');
  if (!existsSync(bin)) throw new Error(`POCKETBUN_BIN=${bin} does not exist`);
  return bin;
}

/** The real PocketBase binary, or null when unavailable (see pocketbaseMissingReason). */
export function pocketbaseBin() {
  const bin = process.env.POCKETBASE_BIN || (existsSync(DEFAULT_POCKETBASE) ? DEFAULT_POCKETBASE : '');
  return bin && existsSync(bin) ? bin : null;
}

/** Why pocketbaseBin() returned null. */
export function pocketbaseMissingReason() {
  const env = process.env.POCKETBASE_BIN;
  if (env) return `POCKETBASE_BIN=${env} does not exist`;
  return `POCKETBASE_BIN is not set and ${DEFAULT_POCKETBASE} does not exist`;
}

// Safety net when a test process dies without running its `after` hooks.
const running = new Set();
const ownedDirs = new Set();
process.on('exit', () => {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
  for (const dir of ownedDirs) {
    try { rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
});

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion; rejects with its output on a non-zero exit. */
export function runCommand(bin, args, { cwd, env, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${bin} ${args.join(' ')} exited with ${code}:\n${out}`));
    });
  });
}

export async function makeTempDir(prefix = 'pbsdk-') {
  return mkdtemp(join(tmpdir(), prefix));
}

async function waitHealthy(url, child, logs, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`server exited early with code ${child.exitCode}:\n${logs()}`);
    }
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.status === 200) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server at ${url} not healthy after ${timeoutMs} ms:\n${logs()}`);
}

/**
 * Starts a server.
 * options:
 *   bin        binary to run (default POCKETBUN_BIN)
 *   baseDir    existing temp dir to reuse (its pb_data is kept as is); a new one otherwise
 *   superuser  create/update the admin superuser first (default true)
 *   keepDir    do not delete the dir on stop (the caller owns it)
 *   env        extra environment variables for the server process
 *   args       extra arguments for `serve`
 *   hooks      {relativePath: source} written to <baseDir>/pb_hooks (the default --hooksDir)
 *   plugins    {fileName: path of a .wasm component} copied to <baseDir>/pb_plugins (the
 *              default --pluginsDir, relative to the server's cwd)
 *   cpus       CPU list for `taskset -c` (e.g. '0'): the server runs on those CPUs only
 * Returns {url, port, dir (pb_data), baseDir, bin, logs(), stop()}.
 */
export async function startServer(options = {}) {
  const bin = options.bin ?? pocketbunBin();
  const ownsDir = !options.baseDir && !options.keepDir;
  const baseDir = options.baseDir ?? await makeTempDir();
  const dir = join(baseDir, 'pb_data');
  if (ownsDir) ownedDirs.add(baseDir);
  const removeDir = async () => {
    if (!ownsDir) return;
    await rm(baseDir, { recursive: true, force: true });
    ownedDirs.delete(baseDir);
  };
  try {
    if (options.hooks) {
      const hooksDir = join(baseDir, 'pb_hooks');
      await mkdir(hooksDir, { recursive: true });
      for (const [name, source] of Object.entries(options.hooks)) {
        await mkdir(dirname(join(hooksDir, name)), { recursive: true });
        await writeFile(join(hooksDir, name), source);
      }
    }
    if (options.plugins) {
      const pluginsDir = join(baseDir, 'pb_plugins');
      await mkdir(pluginsDir, { recursive: true });
      for (const [name, path] of Object.entries(options.plugins)) await copyFile(path, join(pluginsDir, name));
    }
    if (options.superuser !== false) {
      await runCommand(bin, ['superuser', 'upsert', ADMIN_EMAIL, ADMIN_PASSWORD, '--dir', dir], { cwd: baseDir, env: options.env });
    }
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const serveArgs = ['serve', `--http=127.0.0.1:${port}`, `--dir=${dir}`, ...(options.args ?? [])];
    const [command, commandArgs] = options.cpus ? ['taskset', ['-c', options.cpus, bin, ...serveArgs]] : [bin, serveArgs];
    const child = spawn(command, commandArgs, {
      cwd: baseDir,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let output = '';
    const keep = (d) => { output = (output + d).slice(-20_000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let stopped = false;
    const stop = async () => {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      running.delete(child);
      await removeDir();
    };
    try {
      await waitHealthy(url, child, () => output, options.timeoutMs ?? 20_000);
    } catch (err) {
      await stop();
      throw err;
    }
    return { url, port, dir, baseDir, bin, logs: () => output, stop };
  } catch (err) {
    await removeDir();
    throw err;
  }
}
