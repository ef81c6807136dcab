#!/usr/bin/env node
// read.js -- an independent S3 reader (the minio client, path-style) for
// heimdall-rec's tests: lists a bucket under a prefix and prints one JSON
// object {key: {size, sha256, metadata}} of what it downloaded.
//
//   node read.js --port P --bucket B [--prefix sessions/ID/]
'use strict';
const crypto = require('crypto');
const Minio = require('minio');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : def;
}

async function main() {
  const c = new Minio.Client({ endPoint: '127.0.0.1',
    port: parseInt(arg('port'), 10), useSSL: false, pathStyle: true,
    accessKey: 'S3RVER', secretKey: 'S3RVER', region: 'us-east-1' });
  const bucket = arg('bucket', 'heimdall-raw-iq');
  const keys = [];
  await new Promise((resolve, reject) => {
    const s = c.listObjectsV2(bucket, arg('prefix', ''), true);
    s.on('data', (o) => keys.push(o.name));
    s.on('end', resolve);
    s.on('error', reject);
  });
  const out = {};
  for (const k of keys) {
    const st = await c.statObject(bucket, k);
    const stream = await c.getObject(bucket, k);
    const parts = [];
    for await (const d of stream) parts.push(d);
    const body = Buffer.concat(parts);
    out[k] = { size: body.length,
      sha256: crypto.createHash('sha256').update(body).digest('hex'),
      etag: st.etag, metadata: st.metaData };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(String(e)); process.exit(1); });
