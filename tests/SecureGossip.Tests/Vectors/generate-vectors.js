#!/usr/bin/env node
// Generates vectors.json (beside this file): golden data from the REAL secure-gossip@0.3.1 / ssb-keys@8.5.0
// running in Node, for the C# wire-compatibility tests.
//
//   npm ci --prefix tests/interop          (once)
//   node tests/SecureGossip.Tests/Vectors/generate-vectors.js
//
// Deterministic: fixed seeds, ed25519 signatures are deterministic, no timestamps or random data.
// Only "node" (process.version) depends on the machine that runs it.
'use strict'

var fs = require('fs')
var os = require('os')
var path = require('path')
var crypto = require('crypto')
var StringDecoder = require('string_decoder').StringDecoder

var NM = path.resolve(__dirname, '../../interop/node_modules')
function req (m) { return require(path.join(NM, m)) }

var ssbkeys = req('ssb-keys')
var ssbutil = req('ssb-keys/util.js')
var ssbstorage = req('ssb-keys/storage.js')
var gossip = req('secure-gossip')

var SSB_KEYS_VERSION = req('ssb-keys/package.json').version
var SECURE_GOSSIP_VERSION = req('secure-gossip/package.json').version
if (SSB_KEYS_VERSION !== '8.5.0' || SECURE_GOSSIP_VERSION !== '0.3.1') {
  throw new Error('unexpected versions: ssb-keys ' + SSB_KEYS_VERSION + ', secure-gossip ' + SECURE_GOSSIP_VERSION)
}

function b64 (buf) { return Buffer.from(buf).toString('base64') }
function utf8 (s) { return Buffer.from(s, 'utf8') }

// Exactly the clone used by ssb-keys verifyObj (and by secure-gossip before emitting).
function clone (obj) {
  var _obj = {}
  for (var k in obj) {
    if (Object.hasOwnProperty.call(obj, k)) _obj[k] = obj[k]
  }
  return _obj
}

// What split() does to the raw bytes of a line: one utf8 StringDecoder, write + end.
function decodeUtf8 (buf) {
  var d = new StringDecoder('utf8')
  return d.write(buf) + d.end()
}

// ---------------------------------------------------------------------------------------------
// keys
// ---------------------------------------------------------------------------------------------

// The exact text ssb-keys createSync writes, produced by the real storage module with a generator
// that returns our fixed keys (createSync itself always generates random keys).
var tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-vectors-'))
function secretFileFor (keys, n) {
  var store = ssbstorage(function () { return keys })
  var file = path.join(tmpDir, 'secret' + n)
  store.createSync(file)
  var text = fs.readFileSync(file, 'utf8')
  var back = store.loadSync(file)
  if (JSON.stringify(back) !== JSON.stringify(keys)) throw new Error('secret file does not round-trip')
  fs.chmodSync(file, 0o600)
  fs.unlinkSync(file)
  return text
}

var seeds = [
  Buffer.from(Array.from({ length: 32 }, function (_, i) { return i })),
  Buffer.alloc(32, 0xff),
  crypto.createHash('sha256').update('securegossip').digest()
]
var messages = [
  'hello',
  'secure-gossip \u2713 caf\u00e9 \ud83d\ude00',
  'line1\nline2\u2028{"json": true}\u0000end'
]
var keyVectors = seeds.map(function (seed, i) {
  var keys = ssbkeys.generate('ed25519', seed)
  var sig = ssbkeys.sign(keys, utf8(messages[i]))
  if (!ssbkeys.verify(keys, sig, utf8(messages[i]))) throw new Error('sign/verify failed')
  return {
    seedHex: seed.toString('hex'),
    keys: keys,
    secretFile: secretFileFor(keys, i),
    message: messages[i],
    signature: sig
  }
})
fs.rmdirSync(tmpDir)

var KA = keyVectors[0].keys // author of most lines
var KB = keyVectors[1].keys // the receiving peer
var KC = keyVectors[2].keys // some other author

// ---------------------------------------------------------------------------------------------
// canonical
// ---------------------------------------------------------------------------------------------

var R = String.raw
var canonicalCases = []
function C (name, input) { canonicalCases.push({ name: name, input: input }) }
function bytes () { // bytes('text', [0xff], 'text') -> Buffer
  return Buffer.concat(Array.prototype.map.call(arguments, function (p) {
    return typeof p === 'string' ? utf8(p) : Buffer.from(p)
  }))
}

// numbers
;[
  ['zero', '0'], ['negative zero', '-0'], ['negative zero with fraction', '-0.0'], ['zero fraction', '0.0'],
  ['zero with exponent', '0e0'], ['zero with signed exponent', '0E+5'], ['negative zero exponent', '-0e-5'],
  ['1e21 (exponent form threshold)', '1e21'], ['1e20 (last plain form)', '1e20'],
  ['123456789012345680000', '123456789012345680000'], ['123456789012345678901 (rounds)', '123456789012345678901'],
  ['999999999999999999999 (rounds to 1e21)', '999999999999999999999'], ['1.5e21', '1.5e21'],
  ['1e-7 (exponent form)', '1e-7'], ['1e-6 (plain form)', '1e-6'], ['0.000001', '0.000001'],
  ['0.0000001', '0.0000001'], ['5e-7', '5e-7'], ['-1.5e-10', '-1.5e-10'],
  ['5e-324 (min subnormal)', '5e-324'], ['4.9e-324', '4.9e-324'], ['3e-324 (rounds up to min)', '3e-324'],
  ['2e-324 (underflows to 0)', '2e-324'], ['1e-400 (underflow)', '1e-400'], ['-1e-400 (underflow to -0)', '-1e-400'],
  ['2.2250738585072014e-308 (min normal)', '2.2250738585072014e-308'], ['2.225073858507201e-308 (max subnormal)', '2.225073858507201e-308'],
  ['max double', '1.7976931348623157e308'], ['1.7976931348623158e308 (rounds to max)', '1.7976931348623158e308'],
  ['1.7976931348623159e308 (overflows to Infinity -> null)', '1.7976931348623159e308'],
  ['1e400 (Infinity -> null)', '1e400'], ['-1e400 (-Infinity -> null)', '-1e400'],
  ['2^53+1 = 9007199254740993', '9007199254740993'], ['2^53', '9007199254740992'], ['2^53-1', '9007199254740991'],
  ['-(2^53+1)', '-9007199254740993'], ['2^64', '18446744073709551616'],
  ['0.1', '0.1'], ['0.30000000000000004', '0.30000000000000004'], ['1E2', '1E2'], ['100.0', '100.0'],
  ['1.5e+3', '1.5e+3'], ['-12.50', '-12.50'], ['123e-20', '123e-20'], ['4.35', '4.35'],
  ['1/3', '0.3333333333333333'], ['25e-8', '25e-8'], ['1e23', '1e23'], ['9.999999999999999e22', '9.999999999999999e22'],
  ['1.2345678901234567e-7', '1.2345678901234567e-7'], ['100e-2', '100e-2'], ['0.1e1', '0.1e1'], ['1e0', '1e0'],
  ['123.456', '123.456'], ['-1', '-1'], ['1e100', '1e100'], ['1.0000000000000002', '1.0000000000000002'],
  ['0.1 with long zero tail', '0.10000000000000000000000000001'], ['pi with 36 digits', '3.14159265358979323846264338327950288'],
  ['12345678901234567890e-10', '12345678901234567890e-10'], ['400-digit integer', '1' + '0'.repeat(399)],
  ['1 followed by 400 zeros e-400', '1' + '0'.repeat(400) + 'e-400'], ['long fraction 0.000...1 (400 zeros)', '0.' + '0'.repeat(400) + '1'],
  ['exponent with leading zeros', '1e0005'], ['5e-7 spelled 0.0000005', '0.0000005'], ['1e-6 spelled 10e-7', '10e-7']
].forEach(function (c) { C('number: ' + c[0], '{"n":' + c[1] + '}') })
C('number: many in an array', '{"a":[0,-0,1,-1,0.5,1e21,1e-7,1e400,5e-324,9007199254740993,1.0,1E+2,0.1]}')

// strings
C('string: short escapes', R`{"s":"\" \\ \/ \b \f \n \r \t"}`)
C('string: all control escapes \\u0000..\\u001f', '{"s":"' + Array.from({ length: 32 }, function (_, i) { return '\\u' + i.toString(16).padStart(4, '0') }).join('') + '"}')
C('string: control escapes uppercase hex', R`{"s":"\u001F\u000B\u000A"}`)
C('string: \\u007f escaped', R`{"s":"\u007f"}`)
C('string: raw DEL 0x7f', '{"s":"a\x7fb"}')
C('string: \\u0080 escaped', R`{"s":"\u0080"}`)
C('string: raw U+0080', '{"s":"\u0080"}')
C('string: \\u2028 \\u2029 escaped', R`{"s":"\u2028\u2029"}`)
C('string: raw U+2028 U+2029', '{"s":"\u2028\u2029"}')
C('string: raw e-acute', '{"s":"caf\u00e9"}')
C('string: raw emoji', '{"s":"\ud83d\ude00"}')
C('string: emoji as surrogate-pair escape', R`{"s":"\ud83d\ude00"}`)
C('string: emoji as uppercase surrogate-pair escape', R`{"s":"\uD83D\uDE00"}`)
C('string: U+10FFFF as escape pair', R`{"s":"\udbff\udfff"}`)
C('string: raw U+10FFFF', '{"s":"\udbff\udfff"}')
C('string: lone high surrogate', R`{"s":"\ud800"}`)
C('string: lone high surrogate uppercase', R`{"s":"\uD800"}`)
C('string: lone low surrogate', R`{"s":"\udc00"}`)
C('string: high + high + low', R`{"s":"\ud800\ud83d\ude00"}`)
C('string: reversed pair low + high', R`{"s":"\udc00\ud800"}`)
C('string: lone high at end after text', R`{"s":"abc\udbff"}`)
C('string: lone high followed by letter', R`{"s":"\ud800x"}`)
C('string: escaped high + raw low is impossible; escaped high + escaped low split by nothing', R`{"s":"\ud83d" , "t":"\ude00"}`)
C('string: uppercase hex escape \\u00E9', R`{"s":"\u00E9"}`)
C('string: escaped letters \\u0041\\u0062', R`{"s":"\u0041\u0062"}`)
C('string: raw U+FEFF inside string', '{"s":"a\ufeffb"}')
C('string: \\ufeff escaped', R`{"s":"\ufeff"}`)
C('string: raw U+FFFD and U+FFFF', '{"s":"\ufffd\uffff"}')
C('string: \\uffff escaped', R`{"s":"\uffff"}`)
C('string: empty', '{"s":""}')
C('string: 1000 chars', '{"s":"' + 'abcdefghij'.repeat(100) + '"}')
C('string: escaped NUL in middle', R`{"s":"a\u0000b"}`)

// key order
C('keys: b before a (insertion order kept)', '{"b":1,"a":2}')
C('keys: index keys sorted first', '{"10":1,"9":2,"1":3,"0":4,"a":5}')
C('keys: "01" is not an index', '{"a":1,"01":2,"1":3}')
C('keys: "00" and "0"', '{"00":1,"0":2}')
C('keys: 4294967294 is an index, 4294967295 and 4294967296 are not', '{"4294967296":1,"4294967295":2,"4294967294":3,"0":4}')
C('keys: -1, 1.0, 1e3, " 1", "+1" are not indices', '{"-1":1,"1.0":2,"1e3":3," 1":4,"+1":5,"1":6}')
C('keys: big integers beyond 2^32 keep insertion order', '{"9007199254740993":1,"9007199254740992":2,"4294967295":3,"7":4}')
C('keys: index keys in nested object', '{"x":{"2":1,"1":2,"b":3,"a":4}}')
C('keys: index keys in arrays of objects', '{"arr":[{"1":1,"0":0},{"b":1,"a":2,"3":3}]}')
C('keys: empty key', '{"":1,"a":2}')
C('keys: unicode keys', '{"\u00e9":1,"a":2,"\ud83d\ude00":3,"\u4e2d":4}')
C('keys: key with escapes', R`{"a\nb":1,"\u0000":2,"q\"q":3}`)
C('keys: escaped digit "\\u0031" is index 1', R`{"b":0,"\u0031":1,"0":0}`)
C('keys: index key between named keys', '{"a":1,"0":2,"b":3}')

// duplicate keys
C('dup: first position, last value', '{"a":1,"b":2,"a":3}')
C('dup: via escape "a" and "\\u0061"', R`{"a":1,"\u0061":2}`)
C('dup: object value replaced, not merged', '{"x":{"p":1},"y":0,"x":{"q":2}}')
C('dup: index keys', '{"1":1,"0":0,"1":2}')
C('dup: key repeated after index', '{"a":1,"0":2,"a":3}')
C('dup: signature twice (removed)', '{"signature":"x","a":1,"signature":"y"}')
C('dup: nested duplicate', '{"o":{"k":1,"j":0,"k":2}}')
C('dup: __proto__ twice at top level', '{"__proto__":1,"__proto__":{"a":1},"b":1}')

// signature
C('signature: top level removed', '{"a":1,"signature":"sig"}')
C('signature: first key removed', '{"signature":"s","a":1}')
C('signature: object value removed', '{"signature":{"x":1},"a":1}')
C('signature: null value removed', '{"signature":null,"a":1}')
C('signature: escaped name removed', R`{"signatur\u0065":"s","a":1}`)
C('signature: nested kept', '{"o":{"signature":"s"},"signature":"t"}')
C('signature: other case kept', '{"Signature":"s"}')
C('signature: only key', '{"signature":"s"}')

// __proto__ (JSON.parse makes an own property; clone's assignment hits the setter)
C('__proto__: top level object value (dropped by clone)', '{"__proto__":{"x":1},"a":1}')
C('__proto__: top level number value (dropped)', '{"__proto__":5,"a":1}')
C('__proto__: top level null value (dropped)', '{"__proto__":null,"a":1}')
C('__proto__: top level array value (dropped)', '{"__proto__":[1,2],"a":1}')
C('__proto__: top level string value (dropped)', '{"a":1,"__proto__":"x"}')
C('__proto__: prototype carries a signature (dropped)', '{"__proto__":{"signature":"s"},"a":1}')
C('__proto__: own key shadows the prototype key', '{"a":1,"__proto__":{"a":2}}')
C('__proto__: only key', '{"__proto__":{"a":1}}')
C('__proto__: escaped name at top level (dropped)', R`{"\u005f_proto__":{"x":1},"a":1}`)
C('__proto__: nested (kept)', '{"o":{"__proto__":{"x":1}}}')
C('__proto__: in array element (kept)', '{"a":[{"__proto__":1}]}')
C('keys: constructor / toString / hasOwnProperty are plain keys', '{"constructor":1,"toString":2,"hasOwnProperty":3}')

// structure
C('empty object', '{}')
C('empty object nested', '{"a":{}}')
C('empty array nested', '{"a":[]}')
C('array of empty array', '{"a":[[]]}')
C('array of empty object', '{"a":[{}]}')
C('array of empties', '{"a":[{},[],{}]}')
C('mixed nesting', '{"a":[1,[2,[3]],{"b":[]}],"c":{"d":{"e":null}}}')
C('true false null', '{"t":true,"f":false,"n":null,"arr":[true,false,null]}')
C('deep nesting 50 objects', '{"a":'.repeat(50) + '1' + '}'.repeat(50))
C('deep nesting 50 arrays', '{"a":' + '['.repeat(50) + '1' + ']'.repeat(50) + '}')
C('deep nesting mixed', '{"a":' + '[{"b":'.repeat(20) + '[]' + '}]'.repeat(20) + '}')
C('large array 1000 ints', '{"a":[' + Array.from({ length: 1000 }, function (_, i) { return i * 7 - 500 }).join(',') + ']}')
C('array of 100 strings', '{"a":[' + Array.from({ length: 100 }, function (_, i) { return '"s' + i + '"' }).join(',') + ']}')
C('whitespace: spaces tabs CR LF everywhere', ' \t\r\n{ \t"a"\r\n:\n[ 1 ,\t2 ] ,"b" : { } , "c":[ ] }\r\n\t ')
C('whitespace: none', '{"a":[1,2],"b":{"c":"d"}}')
C('payload as a typical message', '{"type":"post","text":"hello world","n":100,"tags":["a","b"],"meta":{"z":1,"y":[1,{"x":null}]}}')

// invalid UTF-8 inside strings (secure-gossip decodes the line with a utf8 StringDecoder first)
;[
  ['overlong "/" C0 AF', [0xc0, 0xaf]], ['overlong C1 BF', [0xc1, 0xbf]], ['overlong 3-byte E0 80 AF', [0xe0, 0x80, 0xaf]],
  ['overlong 4-byte F0 80 80 AF', [0xf0, 0x80, 0x80, 0xaf]], ['truncated 3-byte E2 82', [0xe2, 0x82]],
  ['truncated 4-byte F0 9F 98', [0xf0, 0x9f, 0x98]], ['lone continuation 80', [0x80]], ['two continuations BF BF', [0xbf, 0xbf]],
  ['encoded surrogate ED A0 80', [0xed, 0xa0, 0x80]], ['encoded low surrogate ED BF BF', [0xed, 0xbf, 0xbf]],
  ['CESU-8 emoji ED A0 BD ED B8 80', [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]], ['F5 80 80 80', [0xf5, 0x80, 0x80, 0x80]],
  ['5-byte F8 88 80 80 80', [0xf8, 0x88, 0x80, 0x80, 0x80]], ['FE', [0xfe]], ['FF', [0xff]],
  ['above U+10FFFF F4 90 80 80', [0xf4, 0x90, 0x80, 0x80]], ['lone lead C2 before ASCII', [0xc2]],
  ['E2 28 A1', [0xe2, 0x28, 0xa1]], ['valid e-acute, FF, valid e-acute', [0xc3, 0xa9, 0xff, 0xc3, 0xa9]]
].forEach(function (c) {
  C('invalid utf8: ' + c[0], bytes('{"s":"a', c[1], 'b"}'))
})
C('invalid utf8: FF inside a key', bytes('{"k', [0xff], '":1,"a":2}'))
C('invalid utf8: truncated sequence right before closing quote', bytes('{"s":"', [0xe2, 0x82], '"}'))

// ---------------------------------------------------------------------------------------------

function canonicalOf (text) {
  var c = clone(JSON.parse(text))
  delete c.signature
  return { canonical: JSON.stringify(c, null, 2), compact: JSON.stringify(c) }
}

var canonical = canonicalCases.map(function (c) {
  var raw = Buffer.isBuffer(c.input) ? c.input : utf8(c.input)
  if (!Buffer.isBuffer(c.input) && raw.toString('utf8') !== c.input) throw new Error('input not valid UTF-16 text: ' + c.name)
  var text = decodeUtf8(raw)
  var replaced = !utf8(text).equals(raw)
  var out = canonicalOf(text)
  var e = { name: c.name, input: b64(raw), canonical: b64(utf8(out.canonical)), compact: b64(utf8(out.compact)) }
  if (replaced) e.decodedWithReplacement = true
  return e
})

// inputs JSON.parse rejects (so a verifier must reject the line)
var invalidJsonCases = [
  ['trailing comma in object', '{"a":1,}'], ['trailing comma in array', '{"a":[1,]}'], ['single quotes', "{'a':1}"],
  ['unquoted key', '{a:1}'], ['comment', '{"a":1 /* c */}'], ['line comment', '{"a":1} // c'], ['NaN', '{"a":NaN}'],
  ['Infinity literal', '{"a":Infinity}'], ['leading zero', '{"a":0100}'], ['-01', '{"a":-01}'], ['plus sign', '{"a":+1}'],
  ['leading dot', '{"a":.5}'], ['trailing dot', '{"a":1.}'], ['dot before exponent', '{"a":1.e5}'], ['empty exponent', '{"a":1e}'],
  ['hex number', '{"a":0x10}'], ['raw tab in string', '{"a":"x\ty"}'], ['raw NUL in string', '{"a":"x\u0000y"}'],
  ['raw LF-less control 0x1f in string', '{"a":"x\u001fy"}'], ['invalid escape \\x', R`{"a":"\x41"}`], ['invalid escape \\U', R`{"a":"\U0041"}`],
  ['short \\u escape', R`{"a":"\u12"}`], ['non-hex \\u escape', R`{"a":"\u12g4"}`], ['escaped single quote', R`{"a":"\'"}`],
  ['trailing garbage', '{"a":1}x'], ['two objects', '{"a":1}{"b":2}'], ['missing colon', '{"a" 1}'], ['missing comma', '{"a":1 "b":2}'],
  ['unterminated string', '{"a":"x}'], ['unterminated object', '{"a":1'], ['True capitalised', '{"a":True}'], ['undefined', '{"a":undefined}'],
  ['leading BOM', '\ufeff{"a":1}'], ['BOM between tokens', '{"a":\ufeff1}'], ['NBSP as whitespace', '{"a":\u00a01}'],
  ['U+2028 as whitespace', '{"a":\u20281}'], ['vertical tab as whitespace', '{"a":\u000b1}'], ['form feed as whitespace', '{"a":\u000c1}'],
  ['empty input', ''], ['whitespace only', '  ']
].map(function (c) {
  var ok = true
  try { JSON.parse(c[1]) } catch (e) { ok = false }
  if (ok) throw new Error('expected JSON.parse to reject: ' + c[0])
  return { name: c[0], input: b64(utf8(c[1])) }
})

// ---------------------------------------------------------------------------------------------
// base64 (ssb-keys util.toBuffer)
// ---------------------------------------------------------------------------------------------

var pubA = KA.public.slice(0, KA.public.indexOf('.'))
var base64Inputs = [
  '', 'QUJD', 'QUJD.ed25519', '@QUJD.ed25519', '%QUJD.sha256', '&QUJD.sha256', '@@QUJD', '#QUJD', 'QUJ', 'QU', 'Q',
  'QUJDRA', 'QUJDRA=', 'QUJDRA==', 'QUJDRA===', 'QUI=', 'QUJ=', 'QQ', 'QQ=', 'QQ==', 'QR==', 'QUJDR', 'QUJDRA==.sig.ed25519',
  'QU JD', 'QU\nJD', 'QU\tJD\r\n', ' QUJD ', 'QU*JD', 'QU=JD', 'QUJD=QUJD', '=QUJD', '====', 'Q===', '-_-_', '+/+/', '-/+_',
  'QUJD.', '.QUJD', 'QUJD.x.y', 'ab#cd!', 'caf\u00e9', 'QUJD\u0000', '@', 'QUJDRA%3D%3D',
  KA.public, pubA.replace(/=+$/, '') + '.ed25519', pubA.replace(/\+/g, '-').replace(/\//g, '_') + '.ed25519',
  KA.private, '@' + KA.public
]
var base64 = base64Inputs.map(function (s) {
  return { input: s, hex: ssbutil.toBuffer(s).toString('hex') }
})

// ---------------------------------------------------------------------------------------------
// lines: what a real peer (keys B) does with one line
// ---------------------------------------------------------------------------------------------

function sigOf (keys, payload) {
  var s = ssbkeys.signObj(keys, payload).signature
  if (s !== ssbkeys.sign(keys, utf8(JSON.stringify(payload, null, 2)))) throw new Error('signObj mismatch')
  return s
}
function sigOfWireData (keys, wireBuf) { // sign whatever the real verifier will canonicalise from this line
  var data = JSON.parse(decodeUtf8(wireBuf)).data
  var c = clone(data)
  delete c.signature
  return ssbkeys.sign(keys, utf8(JSON.stringify(c, null, 2)))
}
function flipBit (sig) {
  var dot = sig.indexOf('.')
  var raw = Buffer.from(sig.slice(0, dot), 'base64')
  raw[10] ^= 0x01
  return raw.toString('base64') + sig.slice(dot)
}

var P = { msg: 'hi/there caf\u00e9 \ud83d\ude00', n: 100, f: 0.5, z: 0, ok: true, none: null, list: [1, 'two', {}], obj: { b: 1, a: 'x' } }
// P's fields spelled on the wire (compact, as publish writes them)
var D = JSON.stringify(P).slice(1, -1)
function rep (from, to) { // D with one exact substring replaced
  if (D.indexOf(from) === -1) throw new Error('rep: not found ' + from)
  return D.replace(from, function () { return to })
}
var STD = function (d) { return '{"data":{' + d + ',"signature":"$SIG"},"public":"$PUB","seq":0}' }

var lineCases = []
// L(name, template, opts): template is a string or Buffer (with $ tokens), or a function returning one.
// opts.payload: object whose signature $SIG stands for (default P); opts.signWire: $SIG signs the wire data itself;
// opts.expect: my expectation (only a self-check; the recorded result is what the real peer did).
function L (name, tpl, opts) { lineCases.push(Object.assign({ name: name, tpl: tpl }, opts || {})) }

function build (c) {
  var payload = c.payload || P
  var author = c.author || KA
  var tokens = {
    SIG: c.signWire ? 'AAAA.sig.ed25519' : sigOf(author, payload),
    SIGB: sigOf(KB, payload),
    SIGC: sigOf(KC, payload),
    PUB: author.public,
    PUBB: KB.public,
    PUBC: KC.public
  }
  var tpl = typeof c.tpl === 'function' ? c.tpl(tokens) : c.tpl
  function subst (t) {
    var s = Buffer.isBuffer(t) ? t.toString('latin1') : t
    var out = s.replace(/\$(SIGB|SIGC|SIG|PUBB|PUBC|PUB)/g, function (_, k) { return tokens[k] })
    return Buffer.isBuffer(t) ? Buffer.from(out, 'latin1') : utf8(out)
  }
  var buf = subst(tpl)
  if (c.signWire) {
    tokens.SIG = sigOfWireData(author, buf)
    buf = subst(tpl)
  }
  return buf
}

function publishLine (keys, payload, seqBumps) {
  var p = gossip({ keys: keys, interval: -1 })
  for (var i = 0; i < (seqBumps || 0); i++) p.seq++
  p.publish(payload)
  var line = p.store[0]
  if (line[line.length - 1] !== '\n') throw new Error('publish line without newline')
  return line.slice(0, -1)
}

// --- accepted re-spellings ---
L('baseline: exactly what publish() writes', function () { return publishLine(KA, P) }, { expect: true })
L('baseline rebuilt by hand', STD(D), { expect: true })
L('number: n as 1e2', STD(rep('"n":100', '"n":1e2')), { expect: true })
L('number: n as 100.0', STD(rep('"n":100', '"n":100.0')), { expect: true })
L('number: n as 1E2', STD(rep('"n":100', '"n":1E2')), { expect: true })
L('number: n as 1e+2', STD(rep('"n":100', '"n":1e+2')), { expect: true })
L('number: n as 10000e-2', STD(rep('"n":100', '"n":10000e-2')), { expect: true })
L('number: z as -0', STD(rep('"z":0', '"z":-0')), { expect: true })
L('number: z as -0.0e5', STD(rep('"z":0', '"z":-0.0e5')), { expect: true })
L('number: z as 1e-400 (underflow)', STD(rep('"z":0', '"z":1e-400')), { expect: true })
L('number: f as 5e-1', STD(rep('"f":0.5', '"f":5e-1')), { expect: true })
L('number: f as 0.50000', STD(rep('"f":0.5', '"f":0.50000')), { expect: true })
L('string: \\/ escape', STD(rep('hi/there', R`hi\/there`)), { expect: true })
L('string: ASCII as \\u escapes', STD(rep('"msg":"hi', R`"msg":"\u0068\u0069`)), { expect: true })
L('string: e-acute as \\u00e9, emoji as surrogate-pair escape', STD(rep('caf\u00e9 \ud83d\ude00', R`caf\u00e9 \ud83d\ude00`)), { expect: true })
L('string: uppercase \\u00E9 and \\uD83D\\uDE00', STD(rep('caf\u00e9 \ud83d\ude00', R`caf\u00E9 \uD83D\uDE00`)), { expect: true })
L('string: key spelled with escapes', STD(rep('"msg":', R`"\u006dsg":`)), { expect: true })
L('whitespace: spaces, tabs and bare CR between all tokens', function (t) {
  return ' {\t"data" :\r{ ' + D.replace(/([,:\[\]{}])/g, ' $1\t') + ' ,\r"signature"\t:\t"$SIG" } , "public" : "$PUB" ,"seq" :\t0 }'
}, { expect: true })
L('envelope reordered: seq, public, data', '{"seq":0,"public":"$PUB","data":{' + D + ',"signature":"$SIG"}}', { expect: true })
L('envelope reordered: public, data, seq', '{"public":"$PUB","data":{' + D + ',"signature":"$SIG"},"seq":0}', { expect: true })
L('payload duplicate key: first value bogus, last value signed', STD(rep('"n":100', '"n":5') + ',"n":100'), { expect: true })
L('payload duplicate key: first value signed, last bogus', STD(D + ',"n":5'), { expect: false })
L('envelope duplicate public: bogus then real', '{"data":{' + D + ',"signature":"$SIG"},"public":"$PUBC","seq":0,"public":"$PUB"}', { expect: true })
L('envelope duplicate public: real then bogus', '{"data":{' + D + ',"signature":"$SIG"},"public":"$PUB","seq":0,"public":"$PUBC"}', { expect: false })
L('envelope duplicate data: bogus then real', '{"data":{"x":1},"public":"$PUB","seq":0,"data":{' + D + ',"signature":"$SIG"}}', { expect: true })
L('envelope duplicate seq', '{"data":{' + D + ',"signature":"$SIG"},"public":"$PUB","seq":7,"seq":0}', { expect: true })
L('signature first inside data', '{"data":{"signature":"$SIG",' + D + '},"public":"$PUB","seq":0}', { expect: true })
L('signature in the middle of data', '{"data":{' + rep('"z":0', '"z":0,"signature":"$SIG"') + '},"public":"$PUB","seq":0}', { expect: true })
L('signature twice: bogus then real', '{"data":{"signature":"$SIGC",' + D + ',"signature":"$SIG"},"public":"$PUB","seq":0}', { expect: true })
L('signature twice: real then bogus', '{"data":{"signature":"$SIG",' + D + ',"signature":"$SIGC"},"public":"$PUB","seq":0}', { expect: false })
L('signature hidden in data.__proto__', '{"data":{"__proto__":{"signature":"$SIG"},' + D + '},"public":"$PUB","seq":0}', { expect: true })
L('data.__proto__ extra field (not signed, dropped)', '{"data":{' + D + ',"__proto__":{"x":1},"signature":"$SIG"},"public":"$PUB","seq":0}', { expect: true })
L('envelope __proto__ field', '{"__proto__":{"public":"x"},"data":{' + D + ',"signature":"$SIG"},"public":"$PUB","seq":0}', { expect: true })
L('extra envelope fields', '{"data":{' + D + ',"signature":"$SIG"},"public":"$PUB","seq":0,"extra":[1,{"a":2}],"id":"x"}', { expect: true })
L('envelope curve "ed25519"', '{"data":{' + D + ',"signature":"$SIG"},"public":"$PUB","seq":0,"curve":"ed25519"}', { expect: true })
L('envelope curve "ed25519" with public tag ".foo"', function (t) {
  return '{"data":{' + D + ',"signature":"$SIG"},"public":"' + t.PUB.replace('.ed25519', '.foo') + '","seq":0,"curve":"ed25519"}'
}, { expect: true })
L('envelope curve "foo" (unknown curve throws)', '{"data":{' + D + ',"signature":"$SIG"},"public":"$PUB","seq":0,"curve":"foo"}', { expect: false })
L('public with @ sigil', STD(D).replace('"$PUB"', '"@$PUB"'), { expect: true })
L('public with % sigil', STD(D).replace('"$PUB"', '"%$PUB"'), { expect: true })
L('public with suffix .ed25519.x (unknown curve)', STD(D).replace('"$PUB"', '"$PUB.x"'), { expect: false })
L('public without suffix (unknown curve)', function (t) { return STD(D).replace('"$PUB"', '"' + t.PUB.replace('.ed25519', '') + '"') }, { expect: false })
L('public with suffix ".ed25519" only after extra dot part', function (t) { return STD(D).replace('"$PUB"', '"' + t.PUB.replace('.ed25519', '.x.ed25519') + '"') }, { expect: false })
L('public without padding', function (t) { return STD(D).replace('"$PUB"', '"' + t.PUB.replace('=', '') + '"') }, { expect: true })
L('public url-safe alphabet', function (t) { return STD(D).replace('"$PUB"', '"' + t.PUB.replace(/\+/g, '-').replace(/\//g, '_') + '"') }, { expect: true })
L('public with a space inside the base64', function (t) { return STD(D).replace('"$PUB"', '"' + t.PUB.slice(0, 8) + ' ' + t.PUB.slice(8) + '"') }, { expect: true })
L('public with an invalid char inside the base64', function (t) { return STD(D).replace('"$PUB"', '"' + t.PUB.slice(0, 8) + '*' + t.PUB.slice(8) + '"') }, { expect: true })
L('public with garbage after the padding', function (t) { return STD(D).replace('"$PUB"', '"' + t.PUB.replace('=', '=QUJD') + '"') }, { expect: true })
L('public of the receiver with @ sigil (own key, not recognised as own)', STD(D).replace('"$PUB"', '"@$PUBB"').replace('$SIG', '$SIGB'), { expect: true })
L('signature suffix .sig.foo', function (t) { return STD(D).replace('$SIG', t.SIG.replace('.sig.ed25519', '.sig.foo')) }, { expect: true })
L('signature without suffix', function (t) { return STD(D).replace('$SIG', t.SIG.replace('.sig.ed25519', '')) }, { expect: true })
L('signature without padding', function (t) { return STD(D).replace('$SIG', t.SIG.replace('==', '')) }, { expect: true })
L('signature url-safe alphabet', function (t) { return STD(D).replace('$SIG', t.SIG.replace(/\+/g, '-').replace(/\//g, '_')) }, { expect: true })
L('seq 1e0', STD(D).replace('"seq":0', '"seq":1e0'), { expect: true })
L('seq string "0"', STD(D).replace('"seq":0', '"seq":"0"'), { expect: true })
L('seq missing', STD(D).replace(',"seq":0', ''), { expect: true })
L('seq negative', STD(D).replace('"seq":0', '"seq":-1'), { expect: true })
L('seq 1e400 (Infinity)', STD(D).replace('"seq":0', '"seq":1e400'), { expect: true })
L('seq null', STD(D).replace('"seq":0', '"seq":null'), { expect: true })
L('seq object', STD(D).replace('"seq":0', '"seq":{"a":1}'), { expect: true })
L('seq 0.5', STD(D).replace('"seq":0', '"seq":0.5'), { expect: true })
L('CR LF line ending (line ends with CR)', STD(D) + '\r', { expect: true })
L('CR CR LF line ending', STD(D) + '\r\r', { expect: true })
L('leading and trailing spaces', '   ' + STD(D) + '  \t', { expect: true })
L('payload with raw U+2028 and control escapes', STD('"s":"a\u2028b\\u0001c\\n"'), { payload: { s: 'a\u2028b\u0001c\n' }, expect: true })
L('payload with lone surrogate escapes', STD(R`"s":"\uD800x\udc00"`), { payload: { s: '\ud800x\udc00' }, expect: true })
L('payload with raw U+FEFF inside a string', STD('"s":"\ufeff"'), { payload: { s: '\ufeff' }, expect: true })
L('payload with nested signature (kept, signed)', STD('"o":{"signature":"inner"},"a":1'), { payload: { o: { signature: 'inner' }, a: 1 }, expect: true })
L('payload index keys reordered on the wire', STD('"x":1,"1":"b","0":"a"'), { payload: { 0: 'a', 1: 'b', x: 1 }, expect: true })
L('payload big numbers re-spelled (2^53+1, 1e21, 1e-7)', STD('"a":9007199254740993,"b":1000000000000000000000,"c":0.0000001'), { payload: { a: 9007199254740992, b: 1e21, c: 1e-7 }, expect: true })
L('payload Infinity signs as null', STD('"a":1e400'), { payload: { a: null }, expect: true })
L('invalid UTF-8 FF in payload string (signed over U+FFFD)', bytes('{"data":{"s":"a', [0xff], 'b","signature":"$SIG"},"public":"$PUB","seq":0}'), { signWire: true, expect: true })
L('overlong C0 AF in payload string', bytes('{"data":{"s":"a', [0xc0, 0xaf], 'b","signature":"$SIG"},"public":"$PUB","seq":0}'), { signWire: true, expect: true })
L('encoded surrogate ED A0 80 in payload string', bytes('{"data":{"s":"', [0xed, 0xa0, 0x80], '","signature":"$SIG"},"public":"$PUB","seq":0}'), { signWire: true, expect: true })
L('truncated F0 9F 98 before quote in payload string', bytes('{"data":{"s":"', [0xf0, 0x9f, 0x98], '","signature":"$SIG"},"public":"$PUB","seq":0}'), { signWire: true, expect: true })
L('invalid UTF-8 FF signed as if it were U+00FF (mismatch)', bytes('{"data":{"s":"a', [0xff], 'b","signature":"$SIG"},"public":"$PUB","seq":0}'), { payload: { s: 'a\u00ffb' }, expect: false })
var deep1000 = { a: JSON.parse('['.repeat(999) + '1' + ']'.repeat(999)) }
L('deep nesting 1000 levels, validly signed', STD('"a":' + JSON.stringify(deep1000.a)), { payload: deep1000, expect: true })

// --- rejected ---
L('tampered: payload number changed', STD(rep('"n":100', '"n":101')), { expect: false })
L('tampered: payload string changed', STD(rep('hi/there', 'hi/thero')), { expect: false })
L('tampered: payload key renamed', STD(rep('"msg":', '"msh":')), { expect: false })
L('tampered: payload key added', STD(D + ',"extra":1'), { expect: false })
L('tampered: payload key removed', STD(rep(',"ok":true', '')), { expect: false })
L('tampered: non-index keys reordered', STD(rep('{"b":1,"a":"x"}', '{"a":"x","b":1}')), { expect: false })
L('tampered: number 100 vs string "100"', STD(rep('"n":100', '"n":"100"')), { expect: false })
L('tampered: public of another key', STD(D).replace('"$PUB"', '"$PUBC"'), { expect: false })
L('tampered: signature bit flipped', function (t) { return STD(D).replace('$SIG', flipBit(t.SIG)) }, { expect: false })
L('tampered: signature truncated to 63 bytes', function (t) {
  var raw = Buffer.from(t.SIG.split('.')[0], 'base64').slice(0, 63)
  return STD(D).replace('$SIG', raw.toString('base64') + '.sig.ed25519')
}, { expect: false })
L('tampered: signature of another key', STD(D).replace('$SIG', '$SIGC'), { expect: false })
L('signature empty string', STD(D).replace('"$SIG"', '""'), { expect: false })
L('signature number', STD(D).replace('"$SIG"', '123'), { expect: false })
L('signature null', STD(D).replace('"$SIG"', 'null'), { expect: false })
L('signature object', STD(D).replace('"$SIG"', '{"s":"$SIG"}'), { expect: false })
L('signature array', STD(D).replace('"$SIG"', '["$SIG"]'), { expect: false })
L('signature true', STD(D).replace('"$SIG"', 'true'), { expect: false })
L('signature missing', '{"data":{' + D + '},"public":"$PUB","seq":0}', { expect: false })
L('data a string', '{"data":"$SIG","public":"$PUB","seq":0}', { expect: false })
L('data a number', '{"data":1,"public":"$PUB","seq":0}', { expect: false })
L('data null', '{"data":null,"public":"$PUB","seq":0}', { expect: false })
L('data true', '{"data":true,"public":"$PUB","seq":0}', { expect: false })
L('data an array', '{"data":[{' + D + ',"signature":"$SIG"}],"public":"$PUB","seq":0}', { expect: false })
L('data missing', '{"public":"$PUB","seq":0}', { expect: false })
L('data empty object', '{"data":{},"public":"$PUB","seq":0}', { expect: false })
L('public missing', '{"data":{' + D + ',"signature":"$SIG"},"seq":0}', { expect: false })
L('public missing, curve given', '{"data":{' + D + ',"signature":"$SIG"},"seq":0,"curve":"ed25519"}', { expect: false })
L('public a number', STD(D).replace('"$PUB"', '1'), { expect: false })
L('public null', STD(D).replace('"$PUB"', 'null'), { expect: false })
L('public an object', STD(D).replace('"$PUB"', '{"public":"$PUB"}'), { expect: false })
L('public empty string', STD(D).replace('"$PUB"', '""'), { expect: false })
L('own key (authored by the receiver B)', STD(D), { author: KB, expect: false })
L('BOM at line start', '\ufeff' + STD(D), { expect: false })
L('invalid UTF-8 between tokens', bytes('{"data":', [0xff], '{' + D + ',"signature":"$SIG"},"public":"$PUB","seq":0}'), { expect: false })
L('truncated line', function (t) { var s = STD(D); return s.slice(0, s.length - 10) }, { expect: false })
L('garbage', 'hello world', { expect: false })
L('empty line', '', { expect: false })
L('null', 'null', { expect: false })
L('[]', '[]', { expect: false })
L('"str"', '"str"', { expect: false })
L('0', '0', { expect: false })
L('{}', '{}', { expect: false })
L('whitespace only', ' \t ', { expect: false })
L('invalid JSON: trailing comma', STD(D).replace(',"seq":0}', ',"seq":0,}'), { expect: false })
L('invalid JSON: single quotes', STD(D).replace('"seq"', "'seq'"), { expect: false })
L('invalid JSON: comment', STD(D).replace('"seq":0', '"seq":0/*c*/'), { expect: false })
L('invalid JSON: NaN', STD(D).replace('"seq":0', '"seq":NaN'), { expect: false })
L('invalid JSON: leading zero', STD(D).replace('"seq":0', '"seq":00'), { expect: false })
L('invalid JSON: +1', STD(D).replace('"seq":0', '"seq":+1'), { expect: false })
L('invalid JSON: .5', STD(rep('"f":0.5', '"f":.5')), { expect: false })
L('invalid JSON: 1.', STD(rep('"n":100', '"n":100.')), { expect: false })
L('invalid JSON: hex 0x10', STD(D).replace('"seq":0', '"seq":0x10'), { expect: false })
L('invalid JSON: raw tab inside string', STD(rep('hi/there', 'hi\tthere')), { payload: Object.assign({}, P, { msg: 'hi\tthere caf\u00e9 \ud83d\ude00' }), expect: false })
L('invalid JSON: invalid escape \\x41', STD(rep('hi/there', R`hi\x41there`)), { expect: false })
L('invalid JSON: short \\u escape', STD(rep('hi/there', R`hi\u41there`)), { expect: false })
L('invalid JSON: trailing garbage', STD(D) + 'x', { expect: false })
L('invalid JSON: two objects on one line', STD(D) + STD(D), { expect: false })
L('deep nesting 50000 levels (JSON.stringify overflows the stack)', '{"data":{"a":' + '['.repeat(50000) + ']'.repeat(50000) + ',"signature":"$SIG"},"public":"$PUB","seq":0}', { expect: false })

// ---------------------------------------------------------------------------------------------
// sequences: several lines to ONE fresh peer (keys B), in order
// ---------------------------------------------------------------------------------------------

var seqCases = []
function S (name, lines, expect) { seqCases.push({ name: name, lines: lines, expect: expect }) }
var lineA = publishLine(KA, P) // seq 0
function withSeq (line, seqText) { return line.replace(/"seq":[^}]*}$/, '"seq":' + seqText + '}') }
function noSeq (line) { return line.replace(/,"seq":[^}]*}$/, '}') }
var lineC = publishLine(KC, P)
var atA = lineA.replace('"public":"', '"public":"@')
S('increasing 0,1,2', [withSeq(lineA, '0'), withSeq(lineA, '1'), withSeq(lineA, '2')], [true, true, true])
S('repeat 0,0', [lineA, lineA], [true, false])
S('decreasing 1,0', [withSeq(lineA, '1'), withSeq(lineA, '0')], [true, false])
S('gap 0,5,3,6', [withSeq(lineA, '0'), withSeq(lineA, '5'), withSeq(lineA, '3'), withSeq(lineA, '6')], [true, true, false, true])
S('seq missing twice (undefined is never remembered)', [noSeq(lineA), noSeq(lineA), withSeq(lineA, '0')], [true, true, true])
S('strings compare as strings: "10" then "9"', [withSeq(lineA, '"10"'), withSeq(lineA, '"9"')], [true, true])
S('number 10 then string "9"', [withSeq(lineA, '10'), withSeq(lineA, '"9"')], [true, false])
S('string "0" then number 1', [withSeq(lineA, '"0"'), withSeq(lineA, '1')], [true, true])
S('1e400 silences the author', [withSeq(lineA, '1e400'), withSeq(lineA, '0'), withSeq(lineA, '1e308')], [true, false, false])
S('null then 0 then 1', [withSeq(lineA, 'null'), withSeq(lineA, '0'), withSeq(lineA, '1')], [true, false, true])
S('object then 5 (NaN comparisons)', [withSeq(lineA, '{}'), withSeq(lineA, '5')], [true, false])
S('true then 1 then 2', [withSeq(lineA, 'true'), withSeq(lineA, '1'), withSeq(lineA, '2')], [true, false, true])
S('-1 then 0', [withSeq(lineA, '-1'), withSeq(lineA, '0')], [true, true])
S('0.5 then 1', [withSeq(lineA, '0.5'), withSeq(lineA, '1')], [true, true])
S('2^53+1 then 2^53 (same double)', [withSeq(lineA, '9007199254740993'), withSeq(lineA, '9007199254740992')], [true, false])
S('same author with and without @ sigil (separate counters)', [lineA, atA], [true, true])
S('two authors, both seq 0', [lineA, lineC], [true, true])
var sigA = JSON.parse(lineA).data.signature
S('bad signature does not advance seq', [withSeq(lineA.replace(sigA, flipBit(sigA)), '5'), withSeq(lineA, '1')], [false, true])
S('replay of the same signed data under a higher seq', [withSeq(lineA, '0'), withSeq(lineA, '1'), withSeq(lineA, '1')], [true, true, false])
S('own key lines never counted', [publishLine(KB, P), lineA], [false, true])

// ---------------------------------------------------------------------------------------------
// run the real peer
// ---------------------------------------------------------------------------------------------

function wait (ms) { return new Promise(function (resolve) { setTimeout(resolve, ms) }) }

async function runPeer (lines) {
  var peer = gossip({ keys: KB, interval: -1 })
  var results = lines.map(function () { return { accepted: false, emitted: null, public: null } })
  var cur = -1
  var errors = []
  peer.on('message', function (msg, info) {
    var r = results[cur]
    if (!r || r.accepted) throw new Error('unexpected message while processing line ' + cur)
    r.accepted = true
    r.emitted = JSON.stringify(msg)
    r.public = info.public
  })
  var ps = peer.createPeerStream()
  ps.on('error', function (e) { errors.push(e) })
  ps.on('data', function () {}) // drain whatever a gossip round would push
  for (var i = 0; i < lines.length; i++) {
    cur = i
    ps.write(Buffer.concat([lines[i], Buffer.from('\n')]))
    await wait(2)
  }
  ps.end()
  await wait(2)
  peer.stop()
  if (errors.length) throw errors[0]
  return results
}

async function main () {
  var warnings = []

  var lines = []
  for (var i = 0; i < lineCases.length; i++) {
    var c = lineCases[i]
    var buf = build(c)
    if (buf.indexOf(0x0a) !== -1) throw new Error('line contains LF: ' + c.name)
    var r = (await runPeer([buf]))[0]
    if (c.expect !== undefined && c.expect !== r.accepted) warnings.push('line "' + c.name + '": expected ' + c.expect + ', got ' + r.accepted)
    lines.push({ name: c.name, line: b64(buf), accepted: r.accepted, emitted: r.emitted, public: r.public })
  }

  var sequences = []
  for (var j = 0; j < seqCases.length; j++) {
    var s = seqCases[j]
    var bufs = s.lines.map(utf8)
    var res = await runPeer(bufs)
    var acc = res.map(function (x) { return x.accepted })
    if (JSON.stringify(acc) !== JSON.stringify(s.expect)) warnings.push('sequence "' + s.name + '": expected ' + JSON.stringify(s.expect) + ', got ' + JSON.stringify(acc))
    sequences.push({ name: s.name, lines: bufs.map(b64), accepted: acc, emitted: res.map(function (x) { return x.emitted }), public: res.map(function (x) { return x.public }) })
  }

  ;[canonical, invalidJsonCases, lines, sequences].forEach(function (section) {
    var names = {}
    section.forEach(function (e) {
      if (names[e.name]) throw new Error('duplicate case name: ' + e.name)
      names[e.name] = true
    })
  })

  var out = {
    node: process.version,
    ssbKeys: SSB_KEYS_VERSION,
    secureGossip: SECURE_GOSSIP_VERSION,
    keys: keyVectors,
    canonical: canonical,
    invalidJson: invalidJsonCases,
    base64: base64,
    lines: lines,
    sequences: sequences
  }
  var file = path.join(__dirname, 'vectors.json')
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n')

  var accepted = lines.filter(function (l) { return l.accepted }).length
  process.stderr.write('wrote ' + path.relative(process.cwd(), file) + ' (node ' + process.version + '): ' +
    keyVectors.length + ' keys, ' + canonical.length + ' canonical (' +
    canonical.filter(function (e) { return e.decodedWithReplacement }).length + ' with U+FFFD replacement), ' +
    invalidJsonCases.length + ' invalidJson, ' + base64.length + ' base64, ' + lines.length + ' lines (' + accepted +
    ' accepted, ' + (lines.length - accepted) + ' rejected), ' + sequences.length + ' sequences\n')
  warnings.forEach(function (w) { process.stderr.write('note: ' + w + '\n') })
}

main().catch(function (e) {
  process.stderr.write((e && e.stack) || String(e))
  process.stderr.write('\n')
  process.exit(1)
})
