#!/usr/bin/env node
'use strict'
// Network scenario on js-libp2p GossipSub (@chainsafe/libp2p-gossipsub 14.1.2, pinned in bench/gossipsub):
// N libp2p nodes in one process, one topic, connected over TCP on 127.0.0.1 exactly along the edges of a spec
// file (the same spec network.js reads). Phases are published the way network.js publishes them (see README.md).
//
//   node bench/js/gossipsub.js --spec FILE [--timeout-s S] [--phase-timeout-s S] [--stagger 0|1] [--seed N]
//                              [--tail-heartbeats K]
//
// stdout: one JSON object. stderr: progress. Loopback only; every run is bounded by --timeout-s (and by the
// supervisor in common.js 15 s later).

// libp2p 2.x uses Promise.withResolvers, which node 20 lacks.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function () {
    var resolve, reject
    var promise = new Promise(function (res, rej) { resolve = res; reject = rej })
    return { promise: promise, resolve: resolve, reject: reject }
  }
}

var fs = require('fs')
var path = require('path')
var url = require('url')
var dc = require('diagnostics_channel')
var c = require('./common')

var USAGE = 'node bench/js/gossipsub.js --spec FILE [--timeout-s S] [--phase-timeout-s S] [--stagger 0|1] [--seed N] [--tail-heartbeats K]'
var args = c.parseArgs(process.argv.slice(2), {
  spec: { type: 'string' },
  'timeout-s': { type: 'number', def: 120 },
  'phase-timeout-s': { type: 'number', def: 0 },
  // 1: start each node at a seeded random offset within one heartbeat interval, so the heartbeats do not tick in
  // lockstep; 0: start them back to back.
  stagger: { type: 'number', def: 1 },
  seed: { type: 'number', def: 1 },
  // The last phase settles for at least this many heartbeats, so the IHAVE gossip about its messages (sent on the
  // heartbeats while they sit in the message cache's gossip window, 3 heartbeats by default) is in its byte count.
  'tail-heartbeats': { type: 'number', def: 4 }
}, USAGE)

function die (msg) { c.log('error: ' + msg); process.exit(2) }

var MODULES = path.join(__dirname, '../gossipsub/node_modules')
if (!fs.existsSync(MODULES)) die('bench/gossipsub/node_modules is missing: run npm ci --prefix bench/gossipsub')

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
var TOPIC = 'bench'

function version (name) {
  return JSON.parse(fs.readFileSync(path.join(MODULES, name, 'package.json'), 'utf8')).version
}

var out = {
  impl: 'js-gossipsub',
  scenario: 'network',
  nodes: N,
  edges: edges.length,
  interval_ms: interval,
  stagger: !!args.stagger,
  versions: {
    '@chainsafe/libp2p-gossipsub': version('@chainsafe/libp2p-gossipsub'),
    libp2p: version('libp2p'),
    '@libp2p/tcp': version('@libp2p/tcp'),
    '@chainsafe/libp2p-noise': version('@chainsafe/libp2p-noise'),
    '@chainsafe/libp2p-yamux': version('@chainsafe/libp2p-yamux'),
    '@libp2p/identify': version('@libp2p/identify')
  },
  phases: [],
  timed_out: false
}

if (!c.supervise(timeoutMs + 15000, Object.assign({}, out))) return

// ---- counters (all nodes together) ----
// Bytes on the wire: every TCP socket the process opens (outbound from @libp2p/tcp's net.connect, inbound from
// its net.Server) is caught through node's diagnostics channels; both ends of every link are ours, so the sum of
// bytesRead over all sockets is every byte that crossed a link (noise, yamux, identify and GossipSub control
// included).
var sockets = []
dc.subscribe('net.client.socket', function (m) { sockets.push(m.socket) })
dc.subscribe('net.server.socket', function (m) { sockets.push(m.socket) })
function wireBytes () {
  var sum = 0
  for (var i = 0; i < sockets.length; i++) sum += sockets[i].bytesRead
  return sum
}

var copiesTotal = 0 // message copies received in RPCs, duplicates included (the GossipSub layer)
var payloadBytesTotal = 0 // their data fields
var verifiesTotal = 0 // ed25519 signature verifications in the process
var control = { ihave_ids: 0, iwant_ids: 0, graft: 0, prune: 0, idontwant_ids: 0 }

function entry (name) {
  var dir = path.join(MODULES, name)
  var e = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).exports['.']
  return url.pathToFileURL(path.join(dir, typeof e === 'string' ? e : (e.import || e.default))).href
}

var nodes = new Array(N)
var pubsubs = new Array(N)
var degree = new Array(N).fill(0)
edges.forEach(function (e) { degree[e[0]]++; degree[e[1]]++ })
var cur = null

function onMessage (idx, msg) {
  if (cur === null || !msg || msg.phase !== cur.name) return
  if (cur.done) { cur.late++; return }
  cur.deliveries++
  cur.times.push(c.nowMs() - cur.t0)
  if (cur.deliveries === cur.expected) phaseDelivered()
}

function sleep (ms) { return new Promise(function (resolve) { setTimeout(resolve, ms) }) }

async function buildNetwork () {
  var mods = await Promise.all(['libp2p', '@chainsafe/libp2p-gossipsub', '@libp2p/tcp', '@chainsafe/libp2p-noise',
    '@chainsafe/libp2p-yamux', '@libp2p/identify'].map(function (n) { return import(entry(n)) }))
  var createLibp2p = mods[0].createLibp2p
  var gossipsub = mods[1].gossipsub
  var tcp = mods[2].tcp
  var noise = mods[3].noise
  var yamux = mods[4].yamux
  var identify = mods[5].identify
  var rand = c.mulberry32(args.seed)
  var t0 = c.nowMs()
  var heartbeat = null

  async function make (i) {
    var node = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      // Everything comes from 127.0.0.1: lift the per-host inbound rate limit and the connection caps, which
      // are libp2p's (not GossipSub's); no keep-alive pings, so the wire carries only the set-up and GossipSub.
      connectionManager: { maxConnections: 100000, inboundConnectionThreshold: 1e9, maxIncomingPendingConnections: 100000 },
      connectionMonitor: { enabled: false },
      // GossipSub with its defaults (D=6, D_lo=4, D_hi=12, D_lazy=6, heartbeat 1 s, StrictSign, floodPublish).
      services: { identify: identify(), pubsub: gossipsub() }
    })
    var ps = node.services.pubsub
    var orig = ps.handleReceivedRpc
    ps.handleReceivedRpc = function (from, rpc) {
      var ms = rpc.messages
      if (ms) {
        copiesTotal += ms.length
        for (var k = 0; k < ms.length; k++) payloadBytesTotal += ms[k].data ? ms[k].data.length : 0
      }
      var ctl = rpc.control
      if (ctl) {
        if (ctl.ihave) ctl.ihave.forEach(function (x) { control.ihave_ids += x.messageIDs.length })
        if (ctl.iwant) ctl.iwant.forEach(function (x) { control.iwant_ids += x.messageIDs.length })
        if (ctl.idontwant) ctl.idontwant.forEach(function (x) { control.idontwant_ids += x.messageIDs.length })
        if (ctl.graft) control.graft += ctl.graft.length
        if (ctl.prune) control.prune += ctl.prune.length
      }
      return orig.call(this, from, rpc)
    }
    ps.addEventListener('gossipsub:message', function (ev) {
      var msg
      try { msg = JSON.parse(Buffer.from(ev.detail.msg.data).toString('utf8')) } catch (e) { return }
      onMessage(i, msg)
    })
    ps.subscribe(TOPIC)
    nodes[i] = node
    pubsubs[i] = ps
    if (heartbeat === null) heartbeat = ps.opts.heartbeatInterval
  }

  var offsets = []
  for (var i = 0; i < N; i++) offsets.push(args.stagger ? Math.floor(rand() * 1000) : 0)
  await Promise.all(offsets.map(function (o, i) { return sleep(o).then(function () { return make(i) }) }))
  var o = pubsubs[0].opts
  out.gossipsub = {
    D: o.D, D_lo: o.Dlo, D_hi: o.Dhi, D_lazy: o.Dlazy, heartbeat_ms: o.heartbeatInterval, mcache_length: o.mcacheLength,
    mcache_gossip: o.mcacheGossip, flood_publish: o.floodPublish, signature_policy: pubsubs[0].globalSignaturePolicy,
    idontwant_min_data_size: o.idontwantMinDataSize, fast_msg_id_fn: typeof o.fastMsgIdFn === 'function'
  }

  // Count every ed25519 verification in the process: the class of a node's own public key is the one that
  // @libp2p/crypto (a single copy in bench/gossipsub/node_modules) uses for every Ed25519 key.
  var proto = Object.getPrototypeOf(nodes[0].peerId.publicKey)
  var verify = proto.verify
  proto.verify = function () { verifiesTotal++; return verify.apply(this, arguments) }

  c.log('network: ' + N + ' libp2p nodes started in ' + (c.nowMs() - t0).toFixed(0) + ' ms; dialling ' + edges.length + ' edges')
  var next = 0
  async function worker () {
    while (next < edges.length) {
      var e = edges[next++]
      await nodes[e[0]].dial(nodes[e[1]].getMultiaddrs()[0])
    }
  }
  var workers = []
  for (var w = 0; w < 16; w++) workers.push(worker())
  await Promise.all(workers)
  c.log('network: dialled in ' + (c.nowMs() - t0).toFixed(0) + ' ms; waiting for subscriptions and meshes')

  // Ready when every node is connected to exactly its neighbours, knows them all as subscribers of the topic, and
  // its mesh holds at least min(degree, D_lo) of them (what a heartbeat guarantees); then two more heartbeats.
  for (;;) {
    var ready = true
    for (var j = 0; j < N && ready; j++) {
      if (nodes[j].getConnections().length !== degree[j] ||
          pubsubs[j].getSubscribers(TOPIC).length !== degree[j] ||
          pubsubs[j].getMeshPeers(TOPIC).length < Math.min(degree[j], o.Dlo)) ready = false
    }
    if (ready) break
    await sleep(50)
  }
  await sleep(2 * heartbeat)
  var conns = nodes.reduce(function (s, n) { return s + n.getConnections().length }, 0)
  if (conns !== 2 * edges.length) c.log('warning: ' + conns / 2 + ' connections, spec has ' + edges.length + ' edges')
  out.connections = conns / 2
  out.setup_ms = c.round3(c.nowMs() - t0)
  out.mesh_degree = meshStats()
  c.log('network: ready after ' + out.setup_ms.toFixed(0) + ' ms; mesh degree ' + JSON.stringify(out.mesh_degree))
}

function meshStats () {
  var sizes = pubsubs.map(function (ps) { return ps.getMeshPeers(TOPIC).length })
  var sum = sizes.reduce(function (a, b) { return a + b }, 0)
  return { min: Math.min.apply(null, sizes), mean: c.round3(sum / N), max: Math.max.apply(null, sizes) }
}

var phaseIndex = 0

function runPhase () {
  if (phaseIndex >= phases.length) return done()
  var ph = phases[phaseIndex]
  var P = ph.publishers.length
  var expected = c.expectedDeliveries(ph.publishers, N)
  cur = {
    name: ph.name,
    last: phaseIndex === phases.length - 1,
    expected: expected,
    deliveries: 0,
    late: 0,
    times: [],
    done: false,
    timedOut: false,
    copies0: copiesTotal,
    bytes0: wireBytes(),
    payload0: payloadBytesTotal,
    verifies0: verifiesTotal,
    control0: Object.assign({}, control),
    mesh: meshStats(),
    t0: 0,
    tLast: null,
    timer: null
  }
  c.log('phase ' + ph.name + ': ' + P + ' publishers, ' + expected + ' deliveries expected')
  cur.t0 = c.nowMs()
  // All publishes in one synchronous loop, as network.js does (GossipSub signs and sends asynchronously).
  for (var k = 0; k < P; k++) {
    var data = Buffer.from(JSON.stringify({ phase: ph.name, k: k, pad: c.PAD }))
    pubsubs[ph.publishers[k]].publish(TOPIC, data).catch(function (e) { c.log('publish failed: ' + e.message) })
  }
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
  // As network.js: at least 3 intervals, then until one whole interval passes with no message copy received
  // (at most 30 intervals). The last phase settles at least --tail-heartbeats heartbeats as well. Heartbeat
  // control traffic never stops, so quiet means no message copy, not no byte.
  var tSettle = c.nowMs()
  var minWait = 3
  if (cur.last) minWait = Math.max(minWait, Math.ceil(args['tail-heartbeats'] * out.gossipsub.heartbeat_ms / interval))
  var waited = 0
  var last = copiesTotal
  var quietBefore = null
  setTimeout(function check () {
    waited++
    var quiet = copiesTotal === last
    last = copiesTotal
    if (waited >= 3 && quiet && quietBefore === null) {
      quietBefore = { ms: c.nowMs() - tSettle, bytes: wireBytes() - cur.bytes0 }
    }
    if (waited >= minWait && (quiet || waited >= Math.max(30, minWait))) {
      record(c.nowMs() - tSettle, quiet, quietBefore)
      phaseIndex++
      cur = null
      return runPhase()
    }
    setTimeout(check, interval)
  }, interval)
}

function phaseResult (st, settleMs, quiet, timedOut, quietBefore) {
  var copies = copiesTotal - st.copies0
  var received = st.deliveries + st.late
  var verifies = verifiesTotal - st.verifies0
  var elapsed = st.done ? st.tEnd : c.nowMs() - st.t0
  var ctl = {}
  Object.keys(control).forEach(function (k) { ctl[k] = control[k] - st.control0[k] })
  return {
    name: st.name,
    elapsed_ms: c.round3(elapsed),
    deliveries: st.deliveries,
    expected_deliveries: st.expected,
    // "lines" of network.js are message copies here: every message in every RPC received, duplicates included
    lines_sent: copies,
    bytes_sent: wireBytes() - st.bytes0,
    duplicates: copies - received,
    copies_per_delivery: received > 0 ? c.round3(copies / received) : null,
    delivery_curve: c.deliveryCurve(st),
    timed_out: !!timedOut,
    late_deliveries: st.late,
    settle_ms: settleMs === null ? null : c.round3(settleMs),
    settled_quiet: quiet,
    // GossipSub extras
    copies_received: copies,
    payload_bytes_received: payloadBytesTotal - st.payload0,
    bytes_sent_at_first_quiet: quietBefore ? quietBefore.bytes : null,
    first_quiet_ms: quietBefore ? c.round3(quietBefore.ms) : null,
    verifies: verifies,
    verifies_per_delivery: received > 0 ? c.round3(verifies / received) : null,
    control_received: ctl,
    mesh_degree_at_start: st.mesh
  }
}

function record (settleMs, quiet, quietBefore) {
  var r = phaseResult(cur, settleMs, quiet, cur.timedOut, quietBefore)
  out.phases.push(r)
  c.log('phase ' + r.name + ': elapsed ' + r.elapsed_ms + ' ms, copies ' + r.copies_received + ', bytes ' + r.bytes_sent +
    ', copies/delivery ' + r.copies_per_delivery + ', verifies/delivery ' + r.verifies_per_delivery +
    ', settle ' + r.settle_ms + ' ms')
}

function done () {
  var stopping = Promise.all(nodes.map(function (n) { return n.stop().catch(function () {}) }))
  Promise.race([stopping, sleep(5000)]).then(function () { c.finish(out) })
}

setTimeout(function () {
  c.log('gossipsub: overall timeout after ' + args['timeout-s'] + ' s')
  out.timed_out = true
  if (cur !== null) out.phases.push(phaseResult(cur, null, false, !cur.done, null))
  c.finish(out)
}, timeoutMs)

buildNetwork().then(runPhase, function (err) {
  c.log('gossipsub: set-up failed: ' + (err && err.stack ? err.stack : err))
  c.finish(Object.assign(out, { error: 'set-up failed: ' + (err && err.message) }), 1)
})
