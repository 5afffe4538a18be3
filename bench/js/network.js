#!/usr/bin/env node
'use strict'
// Network scenario on the REAL secure-gossip 0.3.1: N peers in one process, linked by the edges of a
// spec file; for each edge one createPeerStream() per side, piped both ways through counting streams.
// Phases run one after another on the same network (see README.md).
//
//   node bench/js/network.js --spec FILE [--timeout-s S] [--phase-timeout-s S] [--stagger 0|1] [--seed N]
//
// stdout: one JSON object. stderr: progress.

var fs = require('fs')
var Transform = require('stream').Transform
var c = require('./common')
var gossip = c.load('secure-gossip')

var USAGE = 'node bench/js/network.js --spec FILE [--timeout-s S] [--phase-timeout-s S] [--stagger 0|1] [--seed N]'
var args = c.parseArgs(process.argv.slice(2), {
  spec: { type: 'string' },
  'timeout-s': { type: 'number', def: 120 },
  // per phase; default: no limit of its own (only the overall --timeout-s)
  'phase-timeout-s': { type: 'number', def: 0 },
  // 1: start each peer's gossip timer at a random offset within one interval (like independent processes);
  // 0: create all peers at once, so their timers fire in creation order in the same event-loop sweep.
  stagger: { type: 'number', def: 1 },
  seed: { type: 'number', def: 1 }
}, USAGE)

function die (msg) { c.log('error: ' + msg); process.exit(2) }

var spec
try { spec = JSON.parse(fs.readFileSync(args.spec, 'utf8')) } catch (e) { die('cannot read spec ' + args.spec + ': ' + e.message) }
var N = spec.nodes
var edges = spec.edges
var interval = spec.interval_ms === undefined ? 100 : spec.interval_ms
var phases = spec.phases
if (!Number.isInteger(N) || N < 1) die('spec.nodes must be a positive integer')
if (!Array.isArray(edges)) die('spec.edges must be an array')
edges.forEach(function (e) {
  if (!Array.isArray(e) || e.length !== 2 || !(e[0] >= 0 && e[0] < N) || !(e[1] >= 0 && e[1] < N) ||
      !Number.isInteger(e[0]) || !Number.isInteger(e[1]) || e[0] === e[1]) die('bad edge ' + JSON.stringify(e))
})
if (!(interval > 0)) die('spec.interval_ms must be > 0')
if (!Array.isArray(phases)) die('spec.phases must be an array')
phases.forEach(function (ph) {
  if (!ph || typeof ph.name !== 'string' || !Array.isArray(ph.publishers)) die('bad phase ' + JSON.stringify(ph))
  ph.publishers.forEach(function (p) { if (!Number.isInteger(p) || p < 0 || p >= N) die('bad publisher ' + p) })
})

var timeoutMs = args['timeout-s'] * 1000
var phaseTimeoutMs = args['phase-timeout-s'] > 0 ? args['phase-timeout-s'] * 1000 : Infinity

var out = {
  impl: 'js',
  scenario: 'network',
  nodes: N,
  edges: edges.length,
  interval_ms: interval,
  stagger: !!args.stagger,
  phases: [],
  timed_out: false
}

if (!c.supervise(timeoutMs + 15000, Object.assign({}, out))) return

// ---- counters (all links together) ----
var linesTotal = 0
var bytesTotal = 0

function counter () {
  return new Transform({
    transform: function (chunk, enc, cb) {
      var buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, enc)
      bytesTotal += buf.length
      var pos = 0
      while ((pos = buf.indexOf(10, pos)) !== -1) { linesTotal++; pos++ }
      cb(null, buf)
    }
  })
}

// ---- deterministic PRNG for the timer offsets ----
// ---- per-phase delivery tracking ----
var peers = new Array(N)
var cur = null // the running phase's state

function onMessage (idx, msg) {
  if (cur === null || !msg || msg.phase !== cur.name) return
  // after a phase timeout its messages may still arrive while settling: count them apart
  if (cur.done) { cur.late++; return }
  cur.deliveries++
  cur.times.push(c.nowMs() - cur.t0)
  if (cur.deliveries === cur.expected) phaseDelivered()
}

function buildNetwork (cb) {
  var rand = c.mulberry32(args.seed)
  var created = 0
  for (var i = 0; i < N; i++) {
    (function (i) {
      var make = function () {
        var p = gossip({ interval: interval })
        p.on('message', function (msg) { onMessage(i, msg) })
        peers[i] = p
        if (++created === N) wire()
      }
      if (args.stagger) setTimeout(make, Math.floor(rand() * interval))
      else make()
    })(i)
  }
  function wire () {
    edges.forEach(function (e) {
      var sa = peers[e[0]].createPeerStream()
      var sb = peers[e[1]].createPeerStream()
      sa.pipe(counter()).pipe(sb)
      sb.pipe(counter()).pipe(sa)
    })
    c.log('network: ' + N + ' nodes, ' + edges.length + ' edges, interval ' + interval + ' ms, stagger ' + !!args.stagger)
    setTimeout(cb, interval) // let every timer tick once on the idle network
  }
}

var phaseIndex = 0

function runPhase () {
  if (phaseIndex >= phases.length) return done()
  var ph = phases[phaseIndex]
  var P = ph.publishers.length
  var expected = c.expectedDeliveries(ph.publishers, N)
  cur = {
    name: ph.name,
    expected: expected,
    deliveries: 0,
    late: 0,
    times: [],
    done: false,
    timedOut: false,
    lines0: linesTotal,
    bytes0: bytesTotal,
    t0: 0,
    tLast: null,
    timer: null
  }
  c.log('phase ' + ph.name + ': ' + P + ' publishers, ' + expected + ' deliveries expected')
  cur.t0 = c.nowMs()
  for (var k = 0; k < P; k++) peers[ph.publishers[k]].publish({ phase: ph.name, k: k, pad: c.PAD })
  if (expected === 0) return phaseDelivered()
  if (phaseTimeoutMs !== Infinity) {
    cur.timer = setTimeout(function () {
      c.log('phase ' + cur.name + ': phase timeout with ' + cur.deliveries + '/' + cur.expected)
      cur.timedOut = true
      phaseDelivered()
    }, phaseTimeoutMs)
  }
}

function phaseDelivered () {
  if (cur.done) return
  cur.done = true
  if (cur.timer) clearTimeout(cur.timer)
  cur.tLast = cur.times.length ? cur.times[cur.times.length - 1] : 0
  cur.tEnd = cur.timedOut ? c.nowMs() - cur.t0 : cur.tLast
  c.log('phase ' + cur.name + ': ' + cur.deliveries + '/' + cur.expected + ' after ' + cur.tLast.toFixed(1) +
    ' ms; settling')
  // Settle: at least 3 intervals, then until one whole interval passes with no line on any link
  // (bounded to 30 intervals), so in-flight duplicates are counted. Not part of elapsed_ms.
  var tSettle = c.nowMs()
  var waited = 0
  var last = linesTotal
  setTimeout(function check () {
    waited++
    var quiet = linesTotal === last
    last = linesTotal
    if (waited >= 3 && (quiet || waited >= 30)) {
      record(c.nowMs() - tSettle, quiet)
      phaseIndex++
      cur = null
      return runPhase()
    }
    setTimeout(check, interval)
  }, interval)
}

function phaseResult (st, settleMs, quiet, timedOut) {
  var lines = linesTotal - st.lines0
  var elapsed = st.done ? st.tEnd : c.nowMs() - st.t0
  return {
    name: st.name,
    elapsed_ms: c.round3(elapsed),
    deliveries: st.deliveries,
    expected_deliveries: st.expected,
    lines_sent: lines,
    bytes_sent: bytesTotal - st.bytes0,
    // every line that arrived and was not a new delivery (late deliveries of a timed-out phase excluded)
    duplicates: lines - st.deliveries - st.late,
    copies_per_delivery: st.deliveries + st.late > 0 ? c.round3(lines / (st.deliveries + st.late)) : null,
    delivery_curve: c.deliveryCurve(st),
    timed_out: !!timedOut,
    late_deliveries: st.late,
    settle_ms: settleMs === null ? null : c.round3(settleMs),
    settled_quiet: quiet
  }
}

function record (settleMs, quiet) {
  var r = phaseResult(cur, settleMs, quiet, cur.timedOut)
  out.phases.push(r)
  c.log('phase ' + r.name + ': elapsed ' + r.elapsed_ms + ' ms, lines ' + r.lines_sent + ', bytes ' + r.bytes_sent +
    ', copies/delivery ' + r.copies_per_delivery + ', settle ' + r.settle_ms + ' ms')
}

function done () {
  peers.forEach(function (p) { p.stop() })
  c.finish(out)
}

setTimeout(function () {
  c.log('network: overall timeout after ' + args['timeout-s'] + ' s')
  out.timed_out = true
  if (cur !== null) out.phases.push(phaseResult(cur, null, false, !cur.done))
  c.finish(out)
}, timeoutMs)

buildNetwork(runPhase)
