#!/usr/bin/env node
// server.js -- a real S3-compatible server for heimdall-rec's tests: s3rver
// (which does not verify signatures) behind a proxy that verifies every
// request's AWS SigV4 signature independently with the aws4 package, and
// the body against x-amz-content-sha256 and Content-MD5, as S3 and MinIO
// do. Both listen on 127.0.0.1 (port 0 = free port, or the ports given, to
// restart on the same address). Prints "ready PROXY_PORT S3RVER_PORT".
//
//   node server.js --dir DIR [--port P] [--backend-port P] [--secret S]
//                  [--workers N]
//
// --workers N (default 1): N processes (node cluster) share the proxy's
// port, each verifying and forwarding to an s3rver of its own on the same
// directory (s3rver keeps no state outside it); the primary runs the
// s3rver on the backend port (for readers). One process took ~170-260
// 96-KiB PUTs/s on a shared 2-core machine, its one thread busy with the
// hashes (SHA-256 and MD5 here, MD5 again in s3rver), HTTP twice and
// s3rver's file writes: N processes spread that over the cores.
//
// The access key is S3RVER (the only one s3rver accepts); --secret is the
// secret the proxy expects (default S3RVER). Counts of refused requests go
// to stderr.
'use strict';
const cluster = require('cluster');
const http = require('http');
const crypto = require('crypto');
const aws4 = require('aws4');
const S3rver = require('s3rver');

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

// Verify a request's signature; returns null if good, else [status, code, msg].
function verify(req, body) {
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
  if (md5 !== undefined &&
      md5 !== crypto.createHash('md5').update(body).digest('base64'))
    return [400, 'BadDigest', 'body does not match Content-MD5'];
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

// The verifying proxy in front of the s3rver on bport, on port (0: free).
function proxy(port, bport, ready) {
  // keep-alive to the backend: a TCP connection per request cost a
  // handshake and a socket on both sides
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const bad = verify(req, body);
      if (bad) {
        refused++;
        console.error('refused ' + req.method + ' ' + req.url + ': ' + bad[1] +
          (process.env.S3_DEBUG ? ' ' + JSON.stringify(req.headers) : ''));
        return xmlError(res, bad[0], bad[1], bad[2]);
      }
      passed++;
      const up = http.request({ host: '127.0.0.1', port: bport, agent,
        method: req.method, path: req.url, headers: req.headers }, (ur) => {
        res.writeHead(ur.statusCode, ur.headers);
        ur.pipe(res);
      });
      up.on('error', (e) => xmlError(res, 502, 'BadGateway', String(e)));
      up.end(body);
    });
  });
  server.listen(port, '127.0.0.1', () => ready(server));
  return server;
}

// The s3rver on port; in a cluster worker, on a free port of its own
// (exclusive: a worker's listen is otherwise the primary's, shared).
async function backend(port) {
  const s3 = new S3rver({ address: '127.0.0.1', port, directory: dir,
    silent: true, resetOnClose: false });
  if (!cluster.isWorker)
    return [s3, (await s3.run()).port];
  await s3.configureBuckets();
  s3.httpServer = await s3.listen({ host: '127.0.0.1', port: 0,
    exclusive: true });
  return [s3, s3.httpServer.address().port];
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
    // a worker: its own s3rver, and the shared proxy port (the cluster's
    // primary accepts and hands connections round-robin)
    const [s3, bport] = await backend(0);
    const server = proxy(port, bport, (srv) =>
      process.send({ port: srv.address().port }));
    process.on('SIGTERM', () => {
      console.error('passed ' + passed + ', refused ' + refused);
      server.close();
      s3.close().then(() => process.exit(0));
      setTimeout(() => process.exit(0), 2000).unref();
    });
    return;
  }
  const [s3, bport] = await backend(backendPort);
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
    server = proxy(port, bport, (srv) =>
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
