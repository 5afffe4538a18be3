#!/usr/bin/env node
'use strict'
// Pair scenario on the REAL secure-gossip 0.3.1: two peers in one process, p1.pipe(p2).pipe(p1).
// Peer A publishes N small messages back to back (before the first round); we time from just before
// the first publish until B's N-th 'message' event.
//
//   node bench/js/pair.js --messages N [--interval MS] [--timeout-s S]
//
// stdout: one JSON object. stderr: progress.

var c = require('./common')
var gossip = c.load('secure-gossip')

var USAGE = 'node bench/js/pair.js --messages N [--interval MS] [--timeout-s S]'
var args = c.parseArgs(process.argv.slice(2), {
  messages: { type: 'number' },
  interval: { type: 'number', def: 100 },
  'timeout-s': { type: 'number', def: 120 }
}, USAGE)

var N = args.messages
var interval = args.interval
if (!Number.isInteger(N) || N < 1) { c.log('error: --messages must be a positive integer'); process.exit(2) }
if (!(interval > 0)) { c.log('error: --interval must be > 0'); process.exit(2) }

// Hard limit: soft timeout + 15 s grace (see common.supervise).
if (!c.supervise(args['timeout-s'] * 1000 + 15000, {
  impl: 'js', scenario: 'pair', messages: N, interval_ms: interval, elapsed_ms: null, msgs_per_s: null, received: null
})) return

var a = gossip({ interval: interval })
var b = gossip({ interval: interval })
var pa = a.createPeerStream()
var pb = b.createPeerStream()
pa.pipe(pb).pipe(pa)

var received = 0
var tStart = null
var tFirst = null
var tEnd = null
var signMs = null

function result (timedOut) {
  var end = tEnd !== null ? tEnd : c.nowMs()
  var elapsed = tStart === null ? 0 : end - tStart
  return {
    impl: 'js',
    scenario: 'pair',
    messages: N,
    interval_ms: interval,
    elapsed_ms: c.round3(elapsed),
    msgs_per_s: elapsed > 0 ? c.round3(received / (elapsed / 1000)) : 0,
    received: received,
    // extras: time spent signing the N publishes, and time until B's first 'message'
    // (includes the random wait, 0..interval, for A's next gossip round).
    publish_ms: signMs === null ? null : c.round3(signMs),
    first_delivery_ms: tFirst === null ? null : c.round3(tFirst - tStart),
    // extra: B's first to N-th 'message' (pure verify/parse/emit rate, no round wait, no signing)
    drain_ms: tFirst === null || tEnd === null ? null : c.round3(tEnd - tFirst),
    timed_out: !!timedOut
  }
}

b.on('message', function (msg, info) {
  received++
  if (received === 1) tFirst = c.nowMs()
  if (received === N) {
    tEnd = c.nowMs()
    a.stop(); b.stop()
    c.log('pair: ' + N + ' messages in ' + (tEnd - tStart).toFixed(1) + ' ms')
    c.finish(result(false))
  }
})

setTimeout(function () {
  c.log('pair: timed out after ' + args['timeout-s'] + ' s with ' + received + '/' + N + ' received')
  c.finish(result(true))
}, args['timeout-s'] * 1000) // also keeps the process alive

// Let the streams settle for a tick, then publish everything synchronously (no round can run in between).
setImmediate(function () {
  c.log('pair: publishing ' + N + ' messages, interval ' + interval + ' ms')
  tStart = c.nowMs()
  for (var k = 0; k < N; k++) a.publish({ i: k, pad: c.PAD })
  signMs = c.nowMs() - tStart
})
