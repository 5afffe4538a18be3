#!/usr/bin/env node
// A secret-handshake + box-stream peer made of the npm packages (secret-handshake 1.1.21, which brings
// pull-box-stream), for the .NET interop tests. Over the secured stream it sends "hi from js\n" and answers every
// line it receives with "echo:<line>\n".
//
//   node shs-peer.js --role server --network-key B64 --seed B64            (listens on 127.0.0.1, port 0)
//   node shs-peer.js --role client --network-key B64 --seed B64 --port P --server-key B64
//
// On stderr: "public <base64>" (its key) first, "listening <port>" (server), then "remote <base64>" once a
// handshake succeeds, or "handshake failed: <message>".
'use strict'
const net = require('net')
const pull = require('pull-stream')
const toPull = require('stream-to-pull-stream')
const shs = require('secret-handshake')
const chloride = require('chloride')

function arg (name) {
  const i = process.argv.indexOf('--' + name)
  return i < 0 ? undefined : process.argv[i + 1]
}

const role = arg('role')
const networkKey = Buffer.from(arg('network-key'), 'base64')
const keys = chloride.crypto_sign_seed_keypair(Buffer.from(arg('seed'), 'base64'))
process.stderr.write('public ' + keys.publicKey.toString('base64') + '\n')

function serve (secure) {
  process.stderr.write('remote ' + secure.remote.toString('base64') + '\n')
  let pending = ''
  pull(
    secure,
    pull.map(function (chunk) {
      pending += chunk.toString('utf8')
      let out = ''
      let nl
      while ((nl = pending.indexOf('\n')) >= 0) {
        out += 'echo:' + pending.slice(0, nl) + '\n'
        pending = pending.slice(nl + 1)
      }
      return Buffer.from(out)
    }),
    pull.filter(function (b) { return b.length > 0 }),
    (function () {
      // "hi from js" goes first, then the echoes.
      let greeted = false
      return function (read) {
        return function (abort, cb) {
          if (!greeted) { greeted = true; return cb(null, Buffer.from('hi from js\n')) }
          read(abort, cb)
        }
      }
    })(),
    secure
  )
}

function onSecure (err, secure) {
  if (err) {
    process.stderr.write('handshake failed: ' + (err.message || String(err)).split('\n')[0] + '\n')
    return
  }
  serve(secure)
}

if (role === 'server') {
  const server = net.createServer(function (socket) {
    socket.on('error', function () {})
    const stream = toPull.duplex(socket)
    pull(stream, shs.createServer(keys, function (pub, cb) { cb(null, true) }, networkKey, 5000)(onSecure), stream)
  })
  server.listen(0, '127.0.0.1', function () {
    process.stderr.write('listening ' + server.address().port + '\n')
  })
} else {
  const socket = net.connect(Number(arg('port')), '127.0.0.1')
  socket.on('error', function (e) { process.stderr.write('socket error: ' + e.message + '\n') })
  const stream = toPull.duplex(socket)
  const client = shs.createClient(keys, networkKey, 5000)
  pull(stream, client(Buffer.from(arg('server-key'), 'base64'), onSecure), stream)
}
process.stdin.on('end', function () { process.exit(0) })
process.stdin.resume()
