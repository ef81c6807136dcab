#!/usr/bin/env node
// server.js -- a real S3-compatible server for heimdall-rec's tests: s3rver
// (whose own V4 check is partial) behind a front that verifies every
// request's AWS SigV4 signature independently with the aws4 package, and
// the body against x-amz-content-sha256 and Content-MD5, as S3 and MinIO
// do. The front hands a verified request to s3rver's Koa handler in the
// same process (no second HTTP hop), and a verified PUT's object is
// written from the buffer already hashed (see s3app). s3rver also listens
// on a port of its own, for readers (read.js). Both on 127.0.0.1 (port 0
// = free port, or the ports given, to restart on the same address).
// Prints "ready FRONT_PORT S3RVER_PORT".
//
//   node server.js --dir DIR [--port P] [--backend-port P] [--secret S]
//                  [--workers N]
//
// --workers N (default 1): N processes (node cluster) share the front's
// port, each verifying and storing with an s3rver handler of its own on
// the same directory (s3rver keeps no state outside it); the primary runs
// the s3rver on the backend port. Per 96-KiB PUT one process took ~4-5 ms
// of CPU when it forwarded over HTTP to s3rver (two hops, koa-logger, the
// body hashed three times, s3rver's asynchronous file calls), ~1.4-2.6 ms
// now, with the machine's load and the file system's state (bench/README.md,
// "Five recorders x 50 receivers" and "fleet4").
//
// The access key is S3RVER (the only one s3rver accepts); --secret is the
// secret the front expects (default S3RVER). Counts of refused requests go
// to stderr.
'use strict';
const cluster = require('cluster');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { Readable } = require('stream');
const crypto = require('crypto');
const aws4 = require('aws4');
const S3rver = require('s3rver');
const { ALLOWED_METADATA } = require('s3rver/lib/models/object');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : def;
}

const dir = arg('dir');
const secret = arg('secret', 'S3RVER');
if (!dir) {
  console.error('usage: server.js --dir DIR [--port P] [--backend-port P]');
  process.exit(64);
}

function xmlError(res, status, code, message) {
  const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' + code +
    '</Code><Message>' + message + '</Message></Error>';
  res.writeHead(status, { 'Content-Type': 'application/xml',
    'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

// Verify a request's signature and body: { md5 } (the body's MD5 in hex
// when the request gave Content-MD5, else undefined) if good, else
// { bad: [status, code, message] }.
function verify(req, body) {
  const out = {};
  const bad = check(req, body, out);
  return bad ? { bad } : out;
}

function check(req, body, out) {
  const auth = req.headers['authorization'] || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m)
    return [403, 'AccessDenied', 'missing or malformed SigV4 Authorization'];
  const [, akid, , region, service, signed, signature] = m;
  if (akid !== 'S3RVER')
    return [403, 'InvalidAccessKeyId', 'unknown access key id'];
  const sha = req.headers['x-amz-content-sha256'];
  if (!sha)
    return [400, 'InvalidRequest', 'missing x-amz-content-sha256'];
  if (sha !== 'UNSIGNED-PAYLOAD' &&
      sha !== crypto.createHash('sha256').update(body).digest('hex'))
    return [400, 'XAmzContentSHA256Mismatch', 'body does not match x-amz-content-sha256'];
  const md5 = req.headers['content-md5'];
  if (md5 !== undefined) {
    const d = crypto.createHash('md5').update(body).digest();
    if (md5 !== d.toString('base64'))
      return [400, 'BadDigest', 'body does not match Content-MD5'];
    out.md5 = d.toString('hex');
  }
  const headers = {};
  for (const h of signed.split(';')) {
    if (req.headers[h] === undefined)
      return [403, 'AccessDenied', 'signed header ' + h + ' missing'];
    headers[h] = req.headers[h];
  }
  if (!('host' in headers) || !('x-amz-date' in headers))
    return [403, 'AccessDenied', 'host and x-amz-date must be signed'];
  const opts = { host: req.headers.host, method: req.method, path: req.url,
    service, region, headers, doNotModifyHeaders: true };
  const signer = new aws4.RequestSigner(opts,
    { accessKeyId: akid, secretAccessKey: secret });
  // the request's time, not ours: signature() alone would take the clock's
  // (and refuse a good request whenever the second has changed since)
  signer.datetime = headers['x-amz-date'];
  const want = signer.signature();
  if (signer.signedHeaders() !== signed)
    return [403, 'SignatureDoesNotMatch', 'signed headers differ'];
  if (want !== signature)
    return [403, 'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.'];
  return null;
}

let refused = 0, passed = 0;

// Largest body taken (the recorder's objects are ~100 KiB-2 MiB): a
// bigger one is refused before it fills the memory.
const MAX_BODY = 64 << 20;

// The request as s3rver's handler sees it: the verified body replayed as
// a stream (it has been read whole to check its hash), with the original
// request's head. hrBody / hrMd5 let the object store below take the
// buffer and its MD5 as they are instead of streaming and hashing again.
function replay(req, body, md5hex) {
  const r = new Readable({ read() {} });
  if (body.length > 0)
    r.push(body);
  r.push(null);
  for (const k of ['headers', 'rawHeaders', 'method', 'url', 'httpVersion',
    'httpVersionMajor', 'httpVersionMinor', 'socket', 'trailers',
    'rawTrailers', 'complete'])
    r[k] = req[k];
  r.connection = req.socket;
  r.hrBody = body;
  r.hrMd5 = md5hex;
  return r;
}

// An s3rver on dir, on port (0: free), also used as a request handler in
// this process: one HTTP hop, the verifier calls it directly instead of
// forwarding to it over HTTP.
function s3app(port) {
  const s3 = new S3rver({ address: '127.0.0.1', port, directory: dir,
    silent: true, resetOnClose: false });
  // silent anyway: koa-logger's formatting (chalk, winston) of every
  // request is CPU for nothing
  s3.middleware = s3.middleware.filter((m) => m.name !== 'logger');
  const quiet = () => {};
  s3.context.logger = { info: quiet, warn: quiet, error: quiet,
    debug: quiet };
  const store = s3.store;
  const putObject = store.putObject.bind(store);
  // A verified PUT's object: s3rver's own files (see writeObject), so its
  // GET, HEAD and listing read them, written from the buffer with the MD5
  // the verifier computed. s3rver streams the body through a Transform,
  // hashes it again and makes ~8 asynchronous file calls (mkdirp, open,
  // write, close, two writeFile): with the thread pool's hand-offs that was
  // most of a PUT's CPU. Synchronous calls on a ~100 KiB object cost less
  // than the hand-offs and hold the loop well under a millisecond.
  store.putObject = async (object) => {
    const body = object.content && object.content.hrBody;
    if (!body)
      return putObject(object);
    const md5 = object.content.hrMd5 ||
      crypto.createHash('md5').update(body).digest('hex');
    const meta = {};
    for (const [k, v] of Object.entries(object.metadata))
      if (ALLOWED_METADATA.includes(k) || k.startsWith('x-amz-meta-'))
        meta[k] = v;
    writeObject(store.getResourcePath(object.bucket, object.key, 'object'),
      store.getResourcePath(object.bucket, object.key, 'metadata.json'),
      body, md5, meta);
    return { size: body.length, md5 };
  };
  // An object written by writeObject has its MD5 in its metadata file and
  // no KEY._S3rver_object.md5: s3rver's getMetadata would hash the object
  // to make one. The same answer as s3rver's (stored headers, ETag,
  // Last-Modified, Content-Length; the object's stat first, so a missing
  // object is ENOENT as there), the MD5 taken from the metadata file;
  // objects stored by s3rver itself go to its own.
  const getMetadata = store.getMetadata.bind(store);
  store.getMetadata = async (bucket, key) => {
    const stat = await fs.promises.stat(store.getResourcePath(bucket, key,
      'object'));
    let stored;
    try {
      stored = JSON.parse(await fs.promises.readFile(
        store.getResourcePath(bucket, key, 'metadata.json')));
    } catch (e) {
      stored = undefined;
    }
    if (!stored || typeof stored[MD5_KEY] !== 'string')
      return getMetadata(bucket, key);
    const md5 = stored[MD5_KEY];
    delete stored[MD5_KEY];
    return { ...stored, etag: JSON.stringify(md5),
      'last-modified': stat.mtime.toUTCString(), 'content-length': stat.size };
  };
  // s3rver's copy (without new metadata) copies KEY._S3rver_object.md5:
  // made first from the metadata file for an object that lacks one
  const copyObject = store.copyObject.bind(store);
  store.copyObject = async (srcBucket, srcKey, ...rest) => {
    const md5Path = store.getResourcePath(srcBucket, srcKey, 'object.md5');
    if (!fs.existsSync(md5Path)) {
      const m = await store.getMetadata(srcBucket, srcKey);
      await fs.promises.writeFile(md5Path, JSON.parse(m.etag));
    }
    return copyObject(srcBucket, srcKey, ...rest);
  };
  return s3;
}

// A plain, verified PUT Object stored here, without s3rver's Koa stack:
// true if it was (the answer sent), false to hand the request to s3rver.
// Per 96-KiB PUT the stack cost ~0.9 ms of CPU before its store was
// called (koa's context, the router, the cors and website middlewares
// each reading the bucket's configuration files through the thread pool,
// the bucket's stat, an S3 event): more than the files themselves. Only
// the simple case takes this path: path-style /BUCKET/KEY on an IP or
// localhost (no virtual host), no query (no multipart, ACL, tagging), no
// copy, no storage class, no CORS request, a key of plain characters,
// and the bucket's directory there; anything else (and every error
// answer, NoSuchBucket included) is s3rver's. The files are s3rver's
// layout (writeObject) and the answer its answer (200, ETag, the same
// headers), so its GET, HEAD and listing serve the object (the MD5 from
// the metadata file, s3app's getMetadata: s3rver's own would hash every
// object lacking its MD5 file on every listing).
const PLAIN_PATH = /^\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/((?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*)$/;
const PLAIN_BUCKET = /^\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/?$/;
const PLAIN_HOST = /^(127\.0\.0\.1|localhost)(:\d+)?$/;
function fastPut(req, body, md5hex, res) {
  const h = req.headers;
  const m = req.method === 'PUT' ? PLAIN_PATH.exec(req.url) : null;
  if (!m || !PLAIN_HOST.test(h.host || '') || m[2].length > 1024 ||
      m[2].includes('..') || h['x-amz-copy-source'] !== undefined ||
      h['x-amz-storage-class'] !== undefined || h.origin !== undefined)
    return false;
  const bucketDir = path.join(dir, m[1]);
  let st;
  try {
    st = fs.statSync(bucketDir);
  } catch (e) {
    return false;
  }
  if (!st.isDirectory())
    return false;
  // s3rver's S3Object: the allowed headers, a default content type, then
  // the x-amz-meta-* headers (putMetadata stores the same set)
  const meta = {};
  for (const k of ALLOWED_METADATA)
    if (k === 'content-type')
      meta[k] = h[k] || 'binary/octet-stream';
    else if (h[k] !== undefined)
      meta[k] = h[k];
  for (const k in h)
    if (k.startsWith('x-amz-meta-'))
      meta[k] = h[k];
  const md5 = md5hex || crypto.createHash('md5').update(body).digest('hex');
  const base = path.join(bucketDir, m[2]);
  try {
    writeObject(base + '._S3rver_object', base + '._S3rver_metadata.json',
      body, md5, meta);
  } catch (e) {
    console.error('PUT ' + req.url + ': ' + e.message);
    xmlError(res, 500, 'InternalError', 'cannot store the object');
    return true;
  }
  res.writeHead(200, { 'ETag': '"' + md5 + '"',
    'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 0 });
  res.end();
  return true;
}

// HEAD /BUCKET (the recorder's bucket check, once per process), plain
// like fastPut's: 200 when the bucket's directory is there, else s3rver's
// answer (404 NoSuchBucket). s3rver has no HEAD route of its own: its
// router answers HEAD with the GET route, a listing of up to 1000 objects
// with each one's metadata read (2 files and a stat each), so five
// recorders starting on a bucket of thousands of objects cost seconds of
// the server's CPU just as their first chunks arrive.
function fastHeadBucket(req, res) {
  const m = req.method === 'HEAD' ? PLAIN_BUCKET.exec(req.url) : null;
  if (!m || !PLAIN_HOST.test(req.headers.host || '') ||
      req.headers.origin !== undefined)
    return false;
  try {
    if (!fs.statSync(path.join(dir, m[1])).isDirectory())
      return false;
  } catch (e) {
    return false;
  }
  res.writeHead(200, { 'Content-Type': 'application/xml' });
  res.end();
  return true;
}

// Where writeObject keeps an object's MD5 in its metadata file (never a
// header name: stored headers are content-type and the like and
// x-amz-meta-*).
const MD5_KEY = 'hr-object-md5';

// An object's files in s3rver's filesystem layout, from the buffer the
// verifier hashed: KEY._S3rver_object, and KEY._S3rver_metadata.json with
// the headers s3rver keeps and, under MD5_KEY, the object's MD5, which
// s3rver keeps in a third file (KEY._S3rver_object.md5; s3app's
// getMetadata reads it from here). Each new file is an inode to allocate:
// on this machine's ext4 (no journal) a create scans past the inodes
// deleted in the last minutes, 0.02-0.3 ms each, and the fleet's 250 PUTs
// a second made 750 of them (bench/README.md, "fleet4").
function writeObject(objPath, metaPath, body, md5, meta) {
  writeMaybeMkdir(objPath, body);
  fs.writeFileSync(metaPath, JSON.stringify({ ...meta, [MD5_KEY]: md5 },
    null, 2));
}

// Write a file, making its folder first if it is missing (the first
// object of a session; found by the write itself, not by a stat per PUT).
function writeMaybeMkdir(p, data) {
  try {
    fs.writeFileSync(p, data);
  } catch (e) {
    if (e.code !== 'ENOENT')
      throw e;
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, data);
  }
}

// The verifying front on port (0: free): reads the body, verifies the
// signature and the body's hashes, and hands a good request to app.
function front(port, app, ready) {
  const handle = app.callback();
  const server = http.createServer((req, res) => {
    const parts = [];
    let size = 0;
    req.on('data', (d) => {
      size += d.length;
      if (size <= MAX_BODY)
        parts.push(d);
    });
    req.on('end', () => {
      if (size > MAX_BODY) {
        refused++;
        console.error('refused ' + req.method + ' ' + req.url +
          ': EntityTooLarge');
        return xmlError(res, 400, 'EntityTooLarge',
          'body larger than ' + MAX_BODY + ' bytes');
      }
      const body = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      const v = verify(req, body);
      if (v.bad) {
        const bad = v.bad;
        refused++;
        console.error('refused ' + req.method + ' ' + req.url + ': ' + bad[1] +
          (process.env.S3_DEBUG ? ' ' + JSON.stringify(req.headers) : ''));
        return xmlError(res, bad[0], bad[1], bad[2]);
      }
      passed++;
      if (fastPut(req, body, v.md5, res) || fastHeadBucket(req, res))
        return;
      // verified here, completely; s3rver's own check (V4 partly) would
      // only redo it
      delete req.headers.authorization;
      handle(replay(req, body, v.md5), res);
    });
  });
  server.listen(port, '127.0.0.1', () => ready(server));
  return server;
}

async function main() {
  const backendPort = parseInt(arg('backend-port', '0'), 10);
  const port = parseInt(arg('port', '0'), 10);
  const workers = parseInt(arg('workers', '1'), 10);
  if (!(workers >= 1 && workers <= 16)) {
    console.error('--workers must be 1-16');
    process.exit(64);
  }
  if (workers > 1 && cluster.isWorker) {
    // a worker: its own s3rver handler, and the shared front port (the
    // cluster's primary accepts and hands connections round-robin)
    const server = front(port, s3app(0), (srv) =>
      process.send({ port: srv.address().port }));
    process.on('SIGTERM', () => {
      console.error('passed ' + passed + ', refused ' + refused);
      server.close();
      process.exit(0);
    });
    return;
  }
  // the s3rver listening on the backend port (readers) is also the
  // handler of the front when there is one process
  const s3 = s3app(backendPort);
  const bport = (await s3.run()).port;
  let server = null;
  const stop = () => {
    if (server !== null) {
      console.error('passed ' + passed + ', refused ' + refused);
      server.close();
    }
    for (const id in cluster.workers)
      cluster.workers[id].process.kill('SIGTERM');
    s3.close().then(() => {
      if (workers === 1)
        process.exit(0);
      cluster.on('exit', () => {
        if (Object.keys(cluster.workers).length === 0)
          process.exit(0);
      });
    });
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (workers === 1) {
    server = front(port, s3, (srv) =>
      console.log('ready ' + srv.address().port + ' ' + bport));
    return;
  }
  // the primary: the workers' listen(port) is one socket, the same free
  // port for all when port is 0 (the cluster keys it by the arguments)
  cluster.schedulingPolicy = cluster.SCHED_RR;
  let up = 0;
  for (let i = 0; i < workers; i++)
    cluster.fork().on('message', (m) => {
      if (++up === workers)
        console.log('ready ' + m.port + ' ' + bport);
    });
}

main().catch((e) => { console.error(e); process.exit(1); });
