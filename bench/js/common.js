'use strict'
// Shared helpers for the JS benchmark scenarios (bench/js/*.js).
// Nothing here touches secure-gossip's logic: it only loads the package, parses arguments,
// times things and prints the single JSON result line on stdout.

var path = require('path')

var MODULES = path.join(__dirname, '../../tests/interop/node_modules')

function load (name) {
  return require(path.join(MODULES, name))
}

function log (line) {
  process.stderr.write(line + '\n')
}

// Parses "--name value" pairs. spec: { name: { type: 'number'|'string', def: value } }
function parseArgs (argv, spec, usage) {
  var out = {}
  Object.keys(spec).forEach(function (k) { out[k] = spec[k].def })
  for (var i = 0; i < argv.length; i++) {
    var a = argv[i]
    if (a.slice(0, 2) !== '--') fail('unexpected argument ' + a)
    var eq = a.indexOf('=')
    var name = a.slice(2, eq === -1 ? undefined : eq)
    if (!Object.prototype.hasOwnProperty.call(spec, name)) fail('unknown argument ' + a)
    var v
    if (eq !== -1) v = a.slice(eq + 1)
    else if (i + 1 < argv.length) v = argv[++i]
    else fail('missing value for ' + a)
    if (spec[name].type === 'number') {
      var n = Number(v)
      if (v === '' || !Number.isFinite(n)) fail('bad number for --' + name + ': ' + v)
      v = n
    }
    out[name] = v
  }
  Object.keys(spec).forEach(function (k) {
    if (out[k] === undefined) fail('missing --' + k)
  })
  return out

  function fail (msg) {
    log('error: ' + msg)
    log('usage: ' + usage)
    process.exit(2)
  }
}

var T0 = process.hrtime.bigint()
// Milliseconds (fractional) on a monotonic clock.
function nowMs () {
  return Number(process.hrtime.bigint() - T0) / 1e6
}

function round3 (x) {
  return Math.round(x * 1000) / 1000
}

var printed = false
// Prints exactly one JSON object on stdout, then exits 0. Later calls are ignored.
function finish (obj, exitCode) {
  if (printed) return
  printed = true
  var code = exitCode || 0
  process.stdout.write(JSON.stringify(obj) + '\n', function () { process.exit(code) })
  // Safety net in case the write callback never comes (stdout closed by the reader).
  setTimeout(function () { process.exit(code) }, 2000).unref()
}

// Hard-timeout guarantee. secure-gossip processes a whole gossip round synchronously, so one huge round
// can block the event loop past the soft timeout (setTimeout) of a scenario. Each script therefore runs
// itself as a child process under a small supervisor: the supervisor relays stderr, passes the child's
// stdout JSON through unchanged, and if the child has not exited by hardMs it kills the child and prints
// `fallback` (a minimal result with "timed_out": true, "hard_killed": true) itself; it then exits 0.
// Returns true in the child (go on with the scenario), false in the supervisor (the caller must stop).
var CHILD_ENV = 'SG_BENCH_JS_CHILD'
function supervise (hardMs, fallback) {
  if (process.env[CHILD_ENV] === '1') return true
  var cp = require('child_process')
  var env = Object.assign({}, process.env)
  env[CHILD_ENV] = '1'
  var child = cp.spawn(process.execPath, process.execArgv.concat(process.argv.slice(1)), {
    env: env,
    stdio: ['ignore', 'pipe', 'inherit']
  })
  var out = []
  child.stdout.on('data', function (d) { out.push(d) })
  var killed = false
  var timer = setTimeout(function () {
    killed = true
    log('supervisor: child still running ' + hardMs + ' ms after start; killing it')
    child.kill('SIGKILL')
  }, hardMs)
  child.on('error', function (err) {
    log('supervisor: cannot start child: ' + err.message)
    fallback.error = 'cannot start child: ' + err.message
    finish(fallback)
  })
  child.on('close', function (code, signal) {
    clearTimeout(timer)
    var text = Buffer.concat(out).toString('utf8').trim()
    var obj = null
    try { obj = JSON.parse(text) } catch (e) {}
    if (obj !== null && !killed) return finish(obj)
    if (killed) {
      fallback.timed_out = true
      fallback.hard_killed = true
    } else {
      fallback.error = 'child exited with code ' + code + (signal ? ' signal ' + signal : '') + ' without a JSON result'
    }
    finish(fallback, killed ? 0 : 1)
  })
  return false
}

// 32 ASCII characters of padding.
var PAD = 'abcdefghijklmnopqrstuvwxyz012345'

// A small seeded PRNG (mulberry32): the network scripts draw their stagger from it, so a seed repeats a run.
function mulberry32 (a) {
  return function () {
    a |= 0; a = a + 0x6D2B79F5 | 0
    var t = Math.imul(a ^ a >>> 15, 1 | a)
    t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t
    return ((t ^ t >>> 14) >>> 0) / 4294967296
  }
}

// Deliveries a phase needs on N peers: every peer gets every message but its own.
function expectedDeliveries (publishers, N) {
  var own = new Array(N).fill(0)
  publishers.forEach(function (p) { own[p]++ })
  var expected = 0
  for (var i = 0; i < N; i++) expected += publishers.length - own[i]
  return expected
}

// A phase's delivery curve: up to 100 [ms, fraction done] points from its sorted delivery times.
function deliveryCurve (st) {
  var pts = [[0, 0]]
  var n = st.times.length
  if (st.expected === 0) return pts
  var K = Math.min(100, st.expected)
  var prev = -1
  for (var j = 1; j <= K; j++) {
    var idx = Math.ceil(j * st.expected / K) - 1
    if (idx >= n) break
    if (idx === prev) continue
    prev = idx
    pts.push([round3(st.times[idx]), round3((idx + 1) / st.expected)])
  }
  if (n > 0 && prev !== n - 1) pts.push([round3(st.times[n - 1]), round3(n / st.expected)])
  return pts
}

module.exports = {
  load: load,
  log: log,
  parseArgs: parseArgs,
  nowMs: nowMs,
  round3: round3,
  finish: finish,
  supervise: supervise,
  PAD: PAD,
  mulberry32: mulberry32,
  expectedDeliveries: expectedDeliveries,
  deliveryCurve: deliveryCurve
}
