#!/usr/bin/env node
// A command-line secure-gossip node built on the REAL npm package secure-gossip@0.3.1.
// Used by the .NET interop tests as a child process.
//
//   node js-node.js [--listen PORT]... [--connect HOST:PORT]... [--connect-ws ws://HOST:PORT/PATH]... [--interval MS] [--keys FILE] [--exit-on-eof]
//
// stderr (one line each):  public <key>   listening <port>   connected <host:port>   error: ...   (plus informational lines)
// stdout (one line per received message):  {"from":"<author public>","data":<payload>}
// stdin: every line that parses as a JSON object is published. --exit-on-eof: on stdin EOF, gossip once, exit 0 after 250 ms.
// Publishing is immediate, as in secure-gossip: a message published while no neighbour is attached is dropped at the
// next round, so write to stdin only after `connected ...` / `accepted ...` has appeared on stderr.
// Other stderr lines: accepted <addr>, closed <addr>, socket-error <addr> <code>, stream-error <addr> <msg>.
// Exit codes: 0 SIGTERM/SIGINT/EOF, 2 bad arguments, 3 could not connect within 30 s, 4 listen failed.
'use strict'

var net = require('net')
var readline = require('readline')
var gossip = require('secure-gossip')
var ssbkeys = require('ssb-keys')

function log (line) {
  process.stderr.write(line + '\n')
}

function usage (msg) {
  log('error: ' + msg)
  log('usage: node js-node.js [--listen PORT]... [--connect HOST:PORT]... [--interval MS] [--keys FILE] [--exit-on-eof]')
  process.exit(2)
}

// ---- arguments ----
var listens = []
var connects = []
var webSockets = []
var interval
var keysFile
var exitOnEof = false

var argv = process.argv.slice(2)
for (var i = 0; i < argv.length; i++) {
  var a = argv[i]
  var next = function () {
    if (i + 1 >= argv.length) usage('missing value for ' + a)
    return argv[++i]
  }
  if (a === '--listen') {
    var p = Number(next())
    if (!Number.isInteger(p) || p < 0 || p > 65535) usage('bad port for --listen')
    listens.push(p)
  } else if (a === '--connect') {
    var hp = next()
    var c = hp.lastIndexOf(':')
    if (c <= 0) usage('--connect wants HOST:PORT')
    var host = hp.slice(0, c).replace(/^\[(.*)\]$/, '$1')
    var port = Number(hp.slice(c + 1))
    if (!Number.isInteger(port) || port <= 0 || port > 65535) usage('bad port for --connect')
    connects.push({ host: host, port: port, label: hp })
  } else if (a === '--connect-ws') {
    webSockets.push(next()) // the gossip byte stream inside a WebSocket (npm ws), as a browser-side peer would carry it
  } else if (a === '--interval') {
    interval = Number(next())
    if (!Number.isFinite(interval)) usage('bad --interval')
  } else if (a === '--keys') {
    keysFile = next()
  } else if (a === '--exit-on-eof') {
    exitOnEof = true
  } else {
    usage('unknown argument ' + a)
  }
}

// ---- never crash on stray errors (socket resets etc.) ----
process.on('uncaughtException', function (err) {
  log('error: uncaught ' + (err && err.stack ? err.stack.split('\n')[0] : String(err)))
})

function shutdown () {
  process.exit(0)
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)

// ---- the peer ----
var opts = {}
if (keysFile) opts.keys = ssbkeys.loadOrCreateSync(keysFile)
if (interval !== undefined) opts.interval = interval
var peer = gossip(opts)

log('public ' + peer.keys.public)

peer.on('message', function (msg, info) {
  // process.stdout is synchronous for files and (on Linux) pipes; one write per line.
  process.stdout.write(JSON.stringify({ from: info.public, data: msg }) + '\n')
})

// Wire a socket to a fresh peer stream, exactly like the secure-gossip README.
function attach (sock, label) {
  var ps = peer.createPeerStream()
  sock.on('error', function (err) {
    log('socket-error ' + label + ' ' + (err.code || err.message))
  })
  ps.on('error', function (err) {
    log('stream-error ' + label + ' ' + (err.code || err.message))
  })
  sock.on('close', function () {
    log('closed ' + label)
    // Harness hygiene only: stop gossiping into a dead stream (secure-gossip never removes peers).
    var idx = peer.peers.indexOf(ps)
    if (idx !== -1) peer.peers.splice(idx, 1)
    sock.unpipe(ps)
    ps.unpipe(sock)
  })
  sock.pipe(ps).pipe(sock)
}

listens.forEach(function (port) {
  var server = net.createServer(function (sock) {
    var label = sock.remoteAddress + ':' + sock.remotePort
    log('accepted ' + label)
    attach(sock, label)
  })
  server.on('error', function (err) {
    log('error: listen ' + port + ' ' + (err.code || err.message))
    process.exit(4)
  })
  server.listen(port, '127.0.0.1', function () {
    log('listening ' + server.address().port)
  })
})

var pendingConnects = connects.length
connects.forEach(function (target) {
  var deadline = Date.now() + 30000
  function tryConnect () {
    var connected = false
    var sock = net.connect(target.port, target.host)
    sock.once('connect', function () {
      connected = true
      pendingConnects--
      log('connected ' + target.label)
      attach(sock, target.label)
    })
    sock.once('error', function (err) {
      if (connected) return // handled by attach()
      if (Date.now() >= deadline) {
        log('error: could not connect to ' + target.label + ' within 30 s (' + (err.code || err.message) + ')')
        process.exit(3)
      }
      sock.destroy()
      setTimeout(tryConnect, 100)
    })
  }
  tryConnect()
})

webSockets.forEach(function (url) {
  var WebSocket = require('ws')
  var socket = new WebSocket(url)
  socket.on('error', function (err) { log('socket-error ' + url + ' ' + (err.code || err.message)) })
  socket.on('open', function () {
    log('connected ' + url)
    attach(WebSocket.createWebSocketStream(socket), url)
  })
})

// ---- stdin: publish JSON objects ----
var rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false })
rl.on('line', function (line) {
  var obj
  try {
    obj = JSON.parse(line)
  } catch (e) {
    log('error: not JSON: ' + e.message)
    return
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    log('error: not a JSON object')
    return
  }
  try {
    peer.publish(obj)
  } catch (e) {
    log('error: publish failed: ' + e.message)
  }
})
rl.on('close', function () {
  if (!exitOnEof) return
  // Send what was just published before leaving: wait until every --connect target is connected
  // (the 30 s connect limit still applies), gossip one round now, then give the sockets a moment to drain.
  ;(function flushAndExit () {
    if (pendingConnects > 0) return setTimeout(flushAndExit, 50)
    try { peer.gossip() } catch (e) { log('error: gossip failed: ' + e.message) }
    setTimeout(function () { process.exit(0) }, 250)
  })()
})
