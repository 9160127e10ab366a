// Measures the server's peak RSS (VmHWM) around a large upload and download, on local storage
// or S3 (moto). Not a test: run by hand, e.g.
//   POCKETBUN_BIN=... node tools/upload-rss.mjs [local|s3] [MiB]
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { adminClient } from '../lib/client.mjs';
import { startServer } from '../lib/server.mjs';
import { s3Settings, startS3Server } from '../lib/s3server.mjs';

const backend = process.argv[2] ?? 'local';
const mib = Number(process.argv[3] ?? 100);

const srv = await startServer();
const pid = execFileSync('pgrep', ['-P', String(process.pid), '-x', 'pocketbun']).toString().trim().split('\n')[0];
const rss = () => Object.fromEntries(readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')
  .filter((l) => /^Vm(HWM|RSS):/.test(l)).map((l) => l.split(/:\s+/)));
let s3;
try {
  const admin = await adminClient(srv.url);
  if (backend === 's3') {
    s3 = await startS3Server();
    await admin.settings.update({ s3: s3Settings(s3, await s3.newBucket()) });
  }
  await admin.collections.create({ name: 'blobs', type: 'base', fields: [{ name: 'f', type: 'file', maxSelect: 1, maxSize: (mib + 1) << 20 }] });
  console.log('before upload', rss());
  const data = Buffer.alloc(mib << 20, 7);
  const rec = await admin.collection('blobs').create({ f: new File([data], 'big.bin') });
  console.log('after upload', rss());
  const res = await fetch(admin.files.getURL(rec, rec.f));
  let n = 0;
  for await (const chunk of res.body) n += chunk.length;
  console.log(`downloaded ${n} bytes`, rss());
} finally {
  await srv.stop();
  await s3?.stop();
}
