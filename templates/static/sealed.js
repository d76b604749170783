// Sealed bids in the browser (EB1–EB3, EB14): the bidder's bid key and its
// passphrase-protected key file, sealing a File chunk by chunk into the
// envelope of bidding/sealed/FORMAT.md, commitments, and unwrapping the
// content key at the opening. WebCrypto only (ECDH P-256, HKDF, HMAC,
// PBKDF2, AES-GCM); SHA-256 of the plaintext is computed here because
// WebCrypto cannot hash a stream. Everything is exposed as window.GgzySealed:
//
//   const k = await GgzySealed.generateKeyFile(passphrase);
//       // → {keyFile (JSON text to download), fingerprint, publicKey (SPKI base64), created}
//   const ck = GgzySealed.newContentKey("lot-7/bid-42");   // one per bid
//   const s = await GgzySealed.seal(file, {publicKey: k.publicKey, contentKey: ck, part: 1},
//                                  async (piece) => { /* upload piece */ });
//       // → {header, commitment (hex), nonce (base64), contentSize}; keep nonce with the backup
//   const token = await GgzySealed.unwrapKey(envelopeBlob, keyFileText, passphrase);
//       // → "ck1.<bid>.<key>", what the opening hall sends to the platform
//   const o = await GgzySealed.open(envelopeBlob, token);   // → {name, type, blob, commitment}
//
// Errors are GgzySealed.SealedError with a code named like the Go error
// (ErrTampered, ErrWrongKey, ErrPassphrase…).
(function () {
  "use strict";
  var subtle = window.crypto && window.crypto.subtle;
  var SUITE = "P256-HKDF-SHA256-AES256GCM-v1";
  var MAGIC = "GGZYSEAL";
  var DEFAULT_CHUNK = 1 << 20, MIN_CHUNK = 4 << 10, MAX_CHUNK = 16 << 20;
  var MAX_HEADER = 16 << 10, MAX_MANIFEST = 4 << 10, TAG = 16;
  var ITERATIONS = 600000;
  var enc = new TextEncoder(), dec = new TextDecoder("utf-8", { fatal: true });

  function SealedError(code, message) {
    var e = new Error(message);
    e.name = "SealedError";
    e.code = code;
    return e;
  }

  // ---- bytes ----
  function concat() {
    var n = 0, i;
    for (i = 0; i < arguments.length; i++) n += arguments[i].length;
    var out = new Uint8Array(n), off = 0;
    for (i = 0; i < arguments.length; i++) { out.set(arguments[i], off); off += arguments[i].length; }
    return out;
  }
  function u8(buf) { return new Uint8Array(buf); }
  function b64(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s);
  }
  function unb64(s) {
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function b64url(bytes) { return b64(bytes).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, ""); }
  function unb64url(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    return unb64(s);
  }
  function hex(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return s;
  }
  function unhex(s) {
    var out = new Uint8Array(s.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
    return out;
  }
  function u16(n) { return new Uint8Array([n >>> 8, n & 255]); }
  function u32(n) { return new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]); }
  function u64(n) {
    var b = new Uint8Array(8), v = new DataView(b.buffer);
    v.setUint32(0, Math.floor(n / 4294967296));
    v.setUint32(4, n >>> 0);
    return b;
  }
  function random(n) { return window.crypto.getRandomValues(new Uint8Array(n)); }
  function equal(a, b) {
    if (a.length !== b.length) return false;
    var d = 0;
    for (var i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
  }
  async function readBlob(blob, start, end) { return u8(await blob.slice(start, end).arrayBuffer()); }

  // ---- SHA-256, incremental (FIPS 180-4) ----
  var K = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2]);
  function Sha256() {
    this.h = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    this.w = new Int32Array(64);
    this.buf = new Uint8Array(64);
    this.bufLen = 0;
    this.len = 0;
  }
  // blocks hashes every whole 64-byte block of p[off:end] into h; the
  // state stays in locals across blocks (the hot loop of sealing).
  function blocks(h, w, p, off, end) {
    var a, b, c, d, e, f, g, k, j, t1, t2, x, y;
    var h0 = h[0], h1 = h[1], h2 = h[2], h3 = h[3], h4 = h[4], h5 = h[5], h6 = h[6], h7 = h[7];
    for (; off + 64 <= end; off += 64) {
      for (j = 0; j < 16; j++) {
        x = off + 4 * j;
        w[j] = (p[x] << 24) | (p[x + 1] << 16) | (p[x + 2] << 8) | p[x + 3];
      }
      for (j = 16; j < 64; j++) {
        x = w[j - 15]; y = w[j - 2];
        w[j] = (((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) + w[j - 7] +
          (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) + w[j - 16] | 0;
      }
      a = h0; b = h1; c = h2; d = h3; e = h4; f = h5; g = h6; k = h7;
      for (j = 0; j < 64; j++) {
        t1 = k + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + ((e & f) ^ (~e & g)) + K[j] + w[j] | 0;
        t2 = (((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b) ^ (a & c) ^ (b & c)) | 0;
        k = g; g = f; f = e; e = d + t1 | 0; d = c; c = b; b = a; a = t1 + t2 | 0;
      }
      h0 = h0 + a | 0; h1 = h1 + b | 0; h2 = h2 + c | 0; h3 = h3 + d | 0;
      h4 = h4 + e | 0; h5 = h5 + f | 0; h6 = h6 + g | 0; h7 = h7 + k | 0;
    }
    h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7;
    return off;
  }
  Sha256.prototype.update = function (data) {
    var i = 0, n = data.length;
    this.len += n;
    if (this.bufLen > 0) {
      var take = Math.min(64 - this.bufLen, n);
      this.buf.set(data.subarray(0, take), this.bufLen);
      this.bufLen += take;
      i = take;
      if (this.bufLen < 64) return this;
      blocks(this.h, this.w, this.buf, 0, 64);
      this.bufLen = 0;
    }
    i = blocks(this.h, this.w, data, i, n);
    if (i < n) { this.buf.set(data.subarray(i), 0); this.bufLen = n - i; }
    return this;
  };
  Sha256.prototype.digest = function () {
    var bits = this.len * 8, pad = new Uint8Array((this.bufLen < 56 ? 56 : 120) - this.bufLen + 8);
    pad[0] = 0x80;
    var v = new DataView(pad.buffer);
    v.setUint32(pad.length - 8, Math.floor(bits / 4294967296));
    v.setUint32(pad.length - 4, bits >>> 0);
    this.update(pad);
    var out = new Uint8Array(32), ov = new DataView(out.buffer);
    for (var j = 0; j < 8; j++) ov.setUint32(4 * j, this.h[j]);
    return out;
  };
  async function sha256(bytes) { return u8(await subtle.digest("SHA-256", bytes)); }

  // ---- HMAC / HKDF pieces for HPKE (RFC 9180) ----
  async function hmac(key, data) {
    // An empty HKDF salt is HashLen zero bytes (RFC 5869); HMAC pads the
    // key with zeros, so both give the same MAC.
    if (key.length === 0) key = new Uint8Array(32);
    var k = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return u8(await subtle.sign("HMAC", k, data));
  }
  var HPKE_V1 = enc.encode("HPKE-v1");
  var KEM_ID = u16(0x0010), KDF_ID = u16(0x0001), AEAD_ID = u16(0x0002);
  var KEM_SUITE = concat(enc.encode("KEM"), KEM_ID);
  var HPKE_SUITE = concat(enc.encode("HPKE"), KEM_ID, KDF_ID, AEAD_ID);
  function labeledExtract(suite, salt, label, ikm) {
    return hmac(salt, concat(HPKE_V1, suite, enc.encode(label), ikm));
  }
  async function labeledExpand(suite, prk, label, info, L) {
    var t = await hmac(prk, concat(u16(L), HPKE_V1, suite, enc.encode(label), info, new Uint8Array([1])));
    return t.subarray(0, L); // L ≤ 32: one HMAC block
  }
  // keySchedule of the base mode: the AEAD key and base nonce.
  async function keySchedule(sharedSecret, info) {
    var e = new Uint8Array(0);
    var pskIdHash = await labeledExtract(HPKE_SUITE, e, "psk_id_hash", e);
    var infoHash = await labeledExtract(HPKE_SUITE, e, "info_hash", info);
    var ctx = concat(new Uint8Array([0]), pskIdHash, infoHash);
    var secret = await labeledExtract(HPKE_SUITE, sharedSecret, "secret", e);
    return {
      key: await labeledExpand(HPKE_SUITE, secret, "key", ctx, 32),
      nonce: await labeledExpand(HPKE_SUITE, secret, "base_nonce", ctx, 12),
    };
  }
  async function kemSharedSecret(dh, encBytes, pkRm) {
    var prk = await labeledExtract(KEM_SUITE, new Uint8Array(0), "eae_prk", dh);
    return labeledExpand(KEM_SUITE, prk, "shared_secret", concat(encBytes, pkRm), 32);
  }
  var ECDH = { name: "ECDH", namedCurve: "P-256" };
  async function hpkeSeal(pubKey, info, plaintext) {
    var pkRm = u8(await subtle.exportKey("raw", pubKey));
    var eph = await subtle.generateKey(ECDH, true, ["deriveBits"]);
    var encBytes = u8(await subtle.exportKey("raw", eph.publicKey));
    var dh = u8(await subtle.deriveBits({ name: "ECDH", public: pubKey }, eph.privateKey, 256));
    var ks = await keySchedule(await kemSharedSecret(dh, encBytes, pkRm), info);
    var ct = await aesGcm("encrypt", ks.key, ks.nonce, new Uint8Array(0), plaintext);
    return { enc: encBytes, ct: ct };
  }
  async function hpkeOpen(privKey, pkRm, encBytes, info, ct) {
    var pkE = await subtle.importKey("raw", encBytes, ECDH, true, []);
    var dh = u8(await subtle.deriveBits({ name: "ECDH", public: pkE }, privKey, 256));
    var ks = await keySchedule(await kemSharedSecret(dh, encBytes, pkRm), info);
    return aesGcm("decrypt", ks.key, ks.nonce, new Uint8Array(0), ct);
  }
  async function aesKey(raw) { return subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]); }
  async function aesGcm(op, key, iv, aad, data) {
    if (!(key instanceof CryptoKey)) key = await aesKey(key);
    return u8(await subtle[op]({ name: "AES-GCM", iv: iv, additionalData: aad, tagLength: 128 }, key, data));
  }
  async function hkdf(ikm, salt, info, bytes) {
    var k = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
    return u8(await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: salt, info: enc.encode(info) }, k, bytes * 8));
  }

  // ---- content keys ----
  var BID_RE = /^[A-Za-z0-9._:\/-]{1,128}$/;
  function newContentKey(bid) {
    if (!BID_RE.test(bid)) throw SealedError("ErrMalformed", "bid reference " + bid);
    return "ck1." + bid + "." + b64url(random(32));
  }
  function parseContentKey(token) {
    var m = /^ck1\.(.+)\.([A-Za-z0-9_-]{43})$/.exec(token || "");
    if (!m || !BID_RE.test(m[1])) throw SealedError("ErrWrongKey", "content key token is not ck1.<bid>.<key>");
    return { bid: m[1], key: unb64url(m[2]) };
  }
  function hpkeInfo(suite, bid) { return enc.encode("ggzy-sealed/v1\u0000" + suite + "\u0000" + bid); }
  async function payloadKey(ck, salt) {
    var okm = await hkdf(ck, salt, "ggzy-sealed/v1 payload", 44);
    return { key: await aesKey(okm.subarray(0, 32)), base: okm.slice(32) };
  }
  function keyCheck(ck) { return hkdf(ck, new Uint8Array(0), "ggzy-sealed/v1 key-check", 32); }
  function chunkNonce(base, i) {
    var n = base.slice(), c = u64(i);
    for (var j = 0; j < 8; j++) n[4 + j] ^= c[j];
    return n;
  }
  function chunkAAD(headerHash, i, final, commitment) {
    return final ? concat(headerHash, u64(i), new Uint8Array([1]), commitment) : concat(headerHash, u64(i), new Uint8Array([0]));
  }

  // ---- public keys and key files ----
  async function importPublic(spki) {
    if (typeof spki === "string") spki = unb64(spki);
    return subtle.importKey("spki", spki, ECDH, true, []);
  }
  async function fingerprint(spki) {
    if (typeof spki === "string") spki = unb64(spki);
    return hex(await sha256(spki));
  }
  function keyFileAAD(fp) { return enc.encode("ggzy-bid-key/v1\u0000" + fp); }
  async function passphraseKey(passphrase, salt, iterations) {
    var base = await subtle.importKey("raw", enc.encode(passphrase), "PBKDF2", false, ["deriveKey"]);
    return subtle.deriveKey({ name: "PBKDF2", salt: salt, iterations: iterations, hash: "SHA-256" }, base,
      { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  }

  // generateKeyFile makes the bidder's key pair. The private key is
  // extractable only inside this function, long enough to be encrypted into
  // the key file; nothing else ever sees it.
  async function generateKeyFile(passphrase, opts) {
    if (!passphrase) throw SealedError("ErrKeyFile", "empty passphrase");
    var iterations = (opts && opts.iterations) || ITERATIONS;
    var pair = await subtle.generateKey(ECDH, true, ["deriveBits"]);
    var spki = u8(await subtle.exportKey("spki", pair.publicKey));
    var jwk = await subtle.exportKey("jwk", pair.privateKey);
    var fp = await fingerprint(spki);
    var salt = random(16), nonce = random(12);
    var kek = await passphraseKey(passphrase, salt, iterations);
    var ct = await aesGcm("encrypt", kek, nonce, keyFileAAD(fp), unb64url(jwk.d));
    var created = new Date().toISOString();
    var file = {
      type: "ggzy-bid-key", v: 1, suite: SUITE, created: created,
      public_key: b64(spki), fingerprint: fp,
      kdf: { name: "PBKDF2-SHA256", iterations: iterations, salt: b64(salt) },
      cipher: { name: "AES-256-GCM", nonce: b64(nonce) },
      private_key: b64(ct),
    };
    return { keyFile: JSON.stringify(file, null, 2), fingerprint: fp, publicKey: b64(spki), created: created };
  }

  // readKeyFile unlocks a key file; the private key comes back
  // non-extractable.
  async function readKeyFile(text, passphrase) {
    var f;
    try { f = JSON.parse(text); } catch (e) { throw SealedError("ErrKeyFile", "the key file is not JSON"); }
    if (!f || f.type !== "ggzy-bid-key" || f.v !== 1) throw SealedError("ErrKeyFile", "not a ggzy bid key file");
    if (f.suite !== SUITE) throw SealedError("ErrUnsupportedSuite", "key file suite " + f.suite);
    if (!f.kdf || f.kdf.name !== "PBKDF2-SHA256" || !(f.kdf.iterations >= ITERATIONS && f.kdf.iterations <= 10000000) ||
      !f.cipher || f.cipher.name !== "AES-256-GCM") throw SealedError("ErrKeyFile", "unsupported key protection");
    var spki = unb64(f.public_key);
    if ((await fingerprint(spki)) !== f.fingerprint) throw SealedError("ErrKeyFile", "fingerprint does not match the public key");
    var pub = await importPublic(spki);
    var raw = u8(await subtle.exportKey("raw", pub));
    var kek = await passphraseKey(passphrase, unb64(f.kdf.salt), f.kdf.iterations);
    var d;
    try {
      d = await aesGcm("decrypt", kek, unb64(f.cipher.nonce), keyFileAAD(f.fingerprint), unb64(f.private_key));
    } catch (e) {
      throw SealedError("ErrPassphrase", "wrong passphrase for the bid key file");
    }
    var priv = await subtle.importKey("jwk", {
      kty: "EC", crv: "P-256", ext: false, key_ops: ["deriveBits"],
      x: b64url(raw.subarray(1, 33)), y: b64url(raw.subarray(33, 65)), d: b64url(d),
    }, ECDH, false, ["deriveBits"]);
    return { privateKey: priv, publicKey: pub, publicKeyRaw: raw, publicKeySpki: spki, fingerprint: f.fingerprint, created: f.created };
  }

  // ---- envelope ----
  function record(flag, ct, commitment) {
    return flag ? concat(new Uint8Array([1]), u32(ct.length), commitment, ct) : concat(new Uint8Array([0]), u32(ct.length), ct);
  }

  // seal encrypts a File or Blob as one part of a bid, chunk by chunk
  // (File.slice: memory stays at a few chunks whatever the size), calling
  // onPiece(Uint8Array) for each piece of the envelope in order and
  // awaiting it (so an upload can keep pace).
  async function seal(blob, opts, onPiece) {
    var ck = parseContentKey(opts.contentKey);
    var chunk = opts.chunkSize || DEFAULT_CHUNK;
    if (chunk < MIN_CHUNK || chunk > MAX_CHUNK) throw SealedError("ErrMalformed", "chunk size " + chunk);
    var part = opts.part || 0;
    if (!Number.isInteger(part) || part < 0 || part > 999) throw SealedError("ErrMalformed", "part " + part);
    var pub = await importPublic(opts.publicKey);
    var wrapped = await hpkeSeal(pub, hpkeInfo(SUITE, ck.bid), ck.key);
    var salt = random(32);
    var header = {
      v: 1, suite: SUITE, bid: ck.bid, part: part,
      key_fp: await fingerprint(opts.publicKey),
      enc: b64(wrapped.enc), wrapped_key: b64(wrapped.ct),
      salt: b64(salt), key_check: b64(await keyCheck(ck.key)),
      chunk_size: chunk,
    };
    var raw = enc.encode(JSON.stringify(header));
    var headerHash = await sha256(raw);
    await onPiece(concat(enc.encode(MAGIC), u32(raw.length), raw));

    var pk = await payloadKey(ck.key, salt);
    var nonce = random(32);
    var manifest = enc.encode(JSON.stringify({ name: opts.name || blob.name || "", type: opts.type || blob.type || "", nonce: b64(nonce) }));
    if (manifest.length > MAX_MANIFEST) throw SealedError("ErrMalformed", "name and type too long for the manifest");
    await onPiece(record(0, await aesGcm("encrypt", pk.key, chunkNonce(pk.base, 0), chunkAAD(headerHash, 0, false), manifest)));

    var h = new Sha256().update(nonce);
    var size = blob.size, n = Math.max(1, Math.ceil(size / chunk));
    var next = readBlob(blob, 0, Math.min(chunk, size)); // read ahead one chunk
    // Reading the next chunk and encrypting this one (WebCrypto, off the
    // main thread) overlap with hashing it here; only the final chunk,
    // whose AAD holds the commitment, waits for the hash.
    for (var i = 1; i <= n; i++) {
      var pt = await next;
      if (i < n) next = readBlob(blob, i * chunk, Math.min((i + 1) * chunk, size));
      var final = i === n, ct = null;
      if (!final) ct = aesGcm("encrypt", pk.key, chunkNonce(pk.base, i), chunkAAD(headerHash, i, false, null), pt);
      h.update(pt);
      var commitment = final ? h.digest() : null;
      if (final) ct = aesGcm("encrypt", pk.key, chunkNonce(pk.base, i), chunkAAD(headerHash, i, true, commitment), pt);
      await onPiece(record(final, await ct, commitment));
      if (final) return { header: header, commitment: hex(commitment), nonce: b64(nonce), contentSize: size };
    }
  }

  // BlobBuilder gathers pieces into a Blob, folding them in every 32 MB
  // so the pieces themselves can be freed (Chromium keeps large Blobs on
  // disk).
  function BlobBuilder(type) { this.blob = new Blob([], { type: type }); this.batch = []; this.n = 0; this.type = type; }
  BlobBuilder.prototype.push = function (p) {
    this.batch.push(p);
    this.n += p.length;
    if (this.n >= 32 << 20) this.flush();
  };
  BlobBuilder.prototype.flush = function () {
    this.blob = new Blob([this.blob].concat(this.batch), { type: this.type });
    this.batch = [];
    this.n = 0;
    return this.blob;
  };

  // Chain hashes the envelope as it is sealed and keeps the SHA-256
  // chaining value at every pieceSize bytes (a multiple of 64): values[n-1]
  // is the hash state before upload piece n, which the platform takes with
  // the piece (X-Ggzy-Sha256-Before), so pieces sent several at a time,
  // finishing in any order, still give it the envelope's SHA-256 without
  // reading the envelope back (bidding/sealed/pieces.go).
  function Chain(pieceSize) { this.h = new Sha256(); this.size = pieceSize; this.n = 0; this.values = [this.value()]; }
  Chain.prototype.value = function () {
    var out = new Uint8Array(32), v = new DataView(out.buffer);
    for (var j = 0; j < 8; j++) v.setUint32(4 * j, this.h.h[j]);
    return b64(out);
  };
  Chain.prototype.push = function (p) {
    for (var off = 0; off < p.length;) {
      var k = Math.min(this.size - this.n % this.size, p.length - off);
      this.h.update(p.subarray(off, off + k));
      off += k;
      this.n += k;
      if (this.n % this.size === 0) this.values.push(this.value());
    }
  };

  // sealToBlob seals into a Blob; an upload should rather pass its own
  // onPiece to seal and send each piece as it comes. With opts.pieceSize
  // it also gives the chaining values before each piece (s.chain) and the
  // layout "<offset of content record 1>/<chunk size>" (s.layout: seal's
  // first two pieces are the header and the manifest record), which the
  // platform takes with a piece that arrives before the first.
  async function sealToBlob(blob, opts) {
    var b = new BlobBuilder("application/octet-stream");
    var chain = opts.pieceSize ? new Chain(opts.pieceSize) : null;
    var pieces = 0, base = 0;
    var s = await seal(blob, opts, function (p) {
      if (pieces++ < 2) base += p.length;
      b.push(p);
      if (chain) chain.push(p);
    });
    s.envelope = b.flush();
    if (chain) {
      s.chain = chain.values;
      s.layout = base + "/" + (opts.chunkSize || DEFAULT_CHUNK);
    }
    return s;
  }

  function checkHeader(h) {
    var ok = h && typeof h === "object" && h.v === 1 && BID_RE.test(h.bid) && Number.isInteger(h.part) &&
      /^[0-9a-f]{64}$/.test(h.key_fp) && Number.isInteger(h.chunk_size) && h.chunk_size >= MIN_CHUNK && h.chunk_size <= MAX_CHUNK;
    if (ok && h.suite !== SUITE) throw SealedError("ErrUnsupportedSuite", "unsupported suite " + h.suite);
    if (!ok) throw SealedError("ErrMalformed", "malformed header");
    return h;
  }

  // readHeader reads an envelope's header from a Blob.
  async function readHeader(blob) {
    var pre = await readBlob(blob, 0, 12);
    if (pre.length < 12 || dec.decode(pre.subarray(0, 8)) !== MAGIC) throw SealedError("ErrNotEnvelope", "not a sealed bid envelope");
    var n = new DataView(pre.buffer).getUint32(8);
    if (n === 0 || n > MAX_HEADER) throw SealedError("ErrMalformed", "header length " + n);
    var raw = await readBlob(blob, 12, 12 + n);
    if (raw.length < n) throw SealedError("ErrTruncated", "truncated in the header");
    var h;
    try { h = JSON.parse(dec.decode(raw)); } catch (e) { throw SealedError("ErrMalformed", "header is not JSON"); }
    return { header: checkHeader(h), raw: raw, end: 12 + n };
  }

  // unwrapKey recovers the bid's content key from an envelope (Blob) or
  // its header object with the key file and passphrase: the token the
  // opening hall hands to the platform.
  async function unwrapKey(envelopeOrHeader, keyFileText, passphrase) {
    var h = envelopeOrHeader instanceof Blob ? (await readHeader(envelopeOrHeader)).header : checkHeader(envelopeOrHeader);
    var k = await readKeyFile(keyFileText, passphrase);
    if (k.fingerprint !== h.key_fp) throw SealedError("ErrWrongKey", "the bid is sealed to key " + h.key_fp + ", this key file is " + k.fingerprint);
    var key;
    try {
      key = await hpkeOpen(k.privateKey, k.publicKeyRaw, unb64(h.enc), hpkeInfo(h.suite, h.bid), unb64(h.wrapped_key));
    } catch (e) {
      throw SealedError("ErrWrongKey", "the wrapped key does not open");
    }
    return "ck1." + h.bid + "." + b64url(key);
  }

  // open decrypts an envelope (Blob) with a content key token, checking
  // every chunk and the commitment; the plaintext comes back as a Blob.
  async function open(envelope, token) {
    var hh = await readHeader(envelope), h = hh.header, ck = parseContentKey(token);
    if (ck.bid !== h.bid) throw SealedError("ErrKeyForOtherBid", "the key is for bid " + ck.bid + ", the envelope is bid " + h.bid);
    if (!equal(await keyCheck(ck.key), unb64(h.key_check))) throw SealedError("ErrWrongKey", "wrong content key for this envelope");
    var headerHash = await sha256(hh.raw), pk = await payloadKey(ck.key, unb64(h.salt));
    var off = hh.end, out = null, sha = null, manifest = null, size = 0;
    for (var i = 0; ; i++) {
      var pre = await readBlob(envelope, off, off + 5);
      if (pre.length < 5) throw SealedError("ErrTruncated", "chunk " + i + " missing (no final chunk)");
      var flag = pre[0], n = new DataView(pre.buffer).getUint32(1), final = flag === 1;
      if (flag > 1 || (i === 0 && (final || n <= TAG || n > MAX_MANIFEST + TAG)) ||
        (i > 0 && !final && n !== h.chunk_size + TAG) || (i > 0 && final && (n < TAG || n > h.chunk_size + TAG)))
        throw SealedError("ErrMalformed", "chunk " + i + ": bad framing");
      off += 5;
      var commitment = null;
      if (final) { commitment = await readBlob(envelope, off, off + 32); off += 32; }
      var ct = await readBlob(envelope, off, off + n);
      off += n;
      if (ct.length < n || (commitment && commitment.length < 32)) throw SealedError("ErrTruncated", "truncated in chunk " + i);
      var pt;
      try {
        pt = await aesGcm("decrypt", pk.key, chunkNonce(pk.base, i), chunkAAD(headerHash, i, final, commitment), ct);
      } catch (e) {
        throw SealedError("ErrTampered", "chunk " + i + " fails authentication (altered, reordered or dropped)");
      }
      if (i === 0) {
        try {
          manifest = JSON.parse(dec.decode(pt));
          sha = new Sha256().update(unb64(manifest.nonce));
        } catch (e) {
          throw SealedError("ErrMalformed", "manifest");
        }
        out = new BlobBuilder(typeof manifest.type === "string" ? manifest.type : "");
        continue;
      }
      sha.update(pt);
      size += pt.length;
      out.push(pt);
      if (final) {
        if (off !== envelope.size) throw SealedError("ErrMalformed", "data after the final chunk");
        if (!equal(sha.digest(), commitment)) throw SealedError("ErrCommitment", "plaintext does not match the commitment");
        return { header: h, name: manifest.name, type: manifest.type, nonce: manifest.nonce, commitment: hex(commitment), contentSize: size, blob: out.flush() };
      }
    }
  }

  // commit computes SHA-256(nonce || plaintext) of a Blob, hex; nonce is
  // base64 (as seal returns it). For checking a backup copy (EB14).
  async function commit(blob, nonce) {
    var h = new Sha256().update(unb64(nonce)), chunk = DEFAULT_CHUNK;
    for (var off = 0; off < blob.size; off += chunk) h.update(await readBlob(blob, off, Math.min(off + chunk, blob.size)));
    return hex(h.digest());
  }

  window.GgzySealed = {
    SUITE: SUITE, SealedError: SealedError,
    generateKeyFile: generateKeyFile, readKeyFile: readKeyFile, fingerprint: fingerprint,
    newContentKey: newContentKey, seal: seal, sealToBlob: sealToBlob,
    readHeader: function (blob) { return readHeader(blob).then(function (r) { return r.header; }); },
    unwrapKey: unwrapKey, open: open, commit: commit,
    // exposed for tests
    _sha256: function (bytes) { return hex(new Sha256().update(bytes).digest()); },
    _b64: b64, _unb64: unb64, _hex: hex, _unhex: unhex,
  };
})();
