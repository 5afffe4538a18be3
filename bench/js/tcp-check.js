#!/usr/bin/env node
'use strict'
// Throughput check of tests/interop/js-node.js over loopback TCP (two js-node.js processes, real secure-gossip).
// Not a harness scenario: it shows what the TCP scenario can expect from the JS side.
//
//   node bench/js/tcp-check.js [--messages N] [--interval MS] [--timeout-s S]
//
// Starts a receiver (--listen 0) and a sender (--connect 127.0.0.1:PORT), waits until both report the
// connection, writes N lines {"i":k,"t":<Date.now()>} into the sender's stdin, and counts lines on the
// receiver's stdout. stdout: one JSON object. stderr: progress.

var path = require('path')
var cp = require('child_process')
var readline = require('readline')
var c = require('./common')

var USAGE = 'node bench/js/tcp-check.js [--messages N] [--interval MS] [--timeout-s S]'
var args = c.parseArgs(process.argv.slice(2), {
  messages: { type: 'number', def: 10000 },
  interval: { type: 'number', def: 100 },
  'timeout-s': { type: 'number', def: 120 }
}, USAGE)
var N = args.messages
if (!Number.isInteger(N) || N < 1) { c.log('error: --messages must be a positive integer'); process.exit(2) }

var out = {
  impl: 'js',
  scenario: 'tcp-check',
  messages: N,
  interval_ms: args.interval,
  elapsed_ms: null,
  msgs_per_s: null,
  received: 0,
  timed_out: false
}
if (!c.supervise(args['timeout-s'] * 1000 + 15000, Object.assign({}, out))) return

var JS_NODE = path.join(__dirname, '../../tests/interop/js-node.js')
var children = []

function start (extra, name) {
  var ch = cp.spawn(process.execPath, [JS_NODE, '--interval', String(args.interval)].concat(extra), {
    stdio: ['pipe', 'pipe', 'pipe']
  })
  children.push(ch)
  var err = readline.createInterface({ input: ch.stderr, crlfDelay: Infinity })
  err.on('line', function (l) { c.log(name + ': ' + l); ch.emit('stderr-line', l) })
  ch.stdin.on('error', function () {})
  return ch
}

function end (timedOut) {
  out.timed_out = !!timedOut
  children.forEach(function (ch) { try { ch.kill('SIGTERM') } catch (e) {} })
  c.finish(out)
}

setTimeout(function () { c.log('tcp-check: timed out'); end(true) }, args['timeout-s'] * 1000)

var recv = start(['--listen', '0'], 'recv')
var latencies = []
var tStart = null
var tFirst = null
var accepted = false
var connected = false
var sender = null

readline.createInterface({ input: recv.stdout, crlfDelay: Infinity }).on('line', function (line) {
  var now = Date.now()
  var t = c.nowMs()
  out.received++
  if (out.received === 1) tFirst = t
  try { latencies.push(now - JSON.parse(line).data.t) } catch (e) {}
  if (out.received === N) {
    var elapsed = t - tStart
    out.elapsed_ms = c.round3(elapsed)
    out.msgs_per_s = c.round3(N / (elapsed / 1000))
    out.first_delivery_ms = c.round3(tFirst - tStart)
    out.drain_msgs_per_s = t > tFirst ? c.round3((N - 1) / ((t - tFirst) / 1000)) : null
    latencies.sort(function (a, b) { return a - b })
    var q = function (p) { return latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] }
    out.latency_ms = { p50: q(0.5), p99: q(0.99), max: latencies[latencies.length - 1] }
    c.log('tcp-check: ' + N + ' lines in ' + elapsed.toFixed(1) + ' ms')
    end(false)
  }
})

recv.on('stderr-line', function (l) {
  var m = /^listening (\d+)$/.exec(l)
  if (m) {
    sender = start(['--connect', '127.0.0.1:' + m[1]], 'send')
    sender.on('stderr-line', function (l2) {
      if (/^connected /.test(l2)) { connected = true; go() }
    })
  }
  if (/^accepted /.test(l)) { accepted = true; go() }
})

function go () {
  if (!accepted || !connected || tStart !== null) return
  c.log('tcp-check: connected; writing ' + N + ' lines')
  tStart = c.nowMs()
  var lines = []
  for (var k = 0; k < N; k++) lines.push(JSON.stringify({ i: k, t: Date.now() }))
  sender.stdin.write(lines.join('\n') + '\n')
}
