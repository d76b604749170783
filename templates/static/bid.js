// Bid keys and sealed bid submission in the browser (EB1–EB3, EB14), on
// GgzySealed (sealed.js). The bid-key page makes the key pair here and
// offers the passphrase-protected key file; only the public key goes to
// the platform. The lot page seals the price form (part 0) and every bid
// file to that key and uploads each envelope in pieces; after a broken
// connection it asks the platform which pieces it holds and sends the rest.
(function () {
  "use strict";

  function csrfHeaders(form, extra) {
    var h = { "X-CSRF-Token": form.getAttribute("data-csrf") || "", Accept: "application/json" };
    for (var k in extra || {}) h[k] = extra[k];
    return h;
  }

  async function failure(resp) {
    try {
      var body = await resp.json();
      return body.error.message + (body.error.rule ? "（" + body.error.rule + "）" : "");
    } catch (e) {
      return "请求失败（" + resp.status + "）";
    }
  }

  async function call(form, method, url, body, headers) {
    var resp = await fetch(url, { method: method, credentials: "same-origin", headers: csrfHeaders(form, headers), body: body });
    if (!resp.ok) {
      var err = new Error(await failure(resp));
      err.status = resp.status;
      throw err;
    }
    return resp.status === 204 ? null : resp.json();
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function downloadLink(a, text, name, type) {
    if (a.href) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(new Blob([text], { type: type || "application/json" }));
    a.download = name;
    a.hidden = false;
  }

  // ---- the bid-key page ----
  function keyPage(form) {
    var status = form.querySelector("#key-status"), link = form.querySelector("#key-file-link");
    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      var p1 = form.querySelector("#key-passphrase").value, p2 = form.querySelector("#key-passphrase2").value;
      if (p1.length < 10) { status.textContent = "口令至少10个字符"; return; }
      if (p1 !== p2) { status.textContent = "两次输入的口令不一致"; return; }
      var button = form.querySelector("button");
      button.disabled = true;
      status.textContent = "正在浏览器中生成密钥…";
      try {
        var k = await GgzySealed.generateKeyFile(p1);
        downloadLink(link, k.keyFile, "投标密钥-" + k.fingerprint.slice(0, 16) + ".json");
        link.click();
        await call(form, "POST", "/my/bid-key", JSON.stringify({ public_key: k.publicKey, fingerprint: k.fingerprint }),
          { "Content-Type": "application/json" });
        status.textContent = "密钥已生成，密钥文件已下载；平台已登记公钥，指纹 " + k.fingerprint;
        status.setAttribute("data-fingerprint", k.fingerprint);
        button.disabled = false;
      } catch (err) {
        status.textContent = "未能生成密钥：" + err.message;
        button.disabled = false;
      }
    });
  }

  // ---- the device fingerprint (K3): a random id this browser keeps, and
  // what the browser says of its machine ----
  async function device() {
    var id = "";
    try {
      id = localStorage.getItem("ggzy-device") || "";
      if (!id) {
        id = Array.from(crypto.getRandomValues(new Uint8Array(16)), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
        localStorage.setItem("ggzy-device", id);
      }
    } catch (e) { /* storage off: the machine's traits only */ }
    var traits = [navigator.userAgent, navigator.platform, screen.width + "x" + screen.height, navigator.hardwareConcurrency,
      Intl.DateTimeFormat().resolvedOptions().timeZone].join("|");
    var h = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(traits)));
    return id + ":" + Array.from(h.subarray(0, 8), function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  // ---- the lot page: seal and submit ----
  function priceForm(form) {
    var f = { price: form.querySelector("#bid-price").value.trim() };
    ["period", "quality", "manager", "delivery", "service"].forEach(function (k) {
      var el = form.querySelector("#bid-" + k);
      if (el) f[k] = el.value.trim();
    });
    return f;
  }

  // PIECES_AT_ONCE is how many pieces go up together: the platform stores
  // them as parts of one multipart upload, which a store takes faster
  // several at a time; each is a Blob slice, so memory stays flat.
  var PIECES_AT_ONCE = 3;

  // inParallel runs fn over items, width at a time; after a failure no new
  // item starts, the running ones finish, and the first failure is thrown.
  async function inParallel(items, width, fn) {
    var next = 0, failure = null;
    async function worker() {
      while (failure === null && next < items.length) {
        var item = items[next++];
        try { await fn(item); } catch (e) { if (failure === null) failure = e; }
      }
    }
    var workers = [];
    for (var i = 0; i < Math.min(width, items.length); i++) workers.push(worker());
    await Promise.all(workers);
    if (failure !== null) throw failure;
  }

  // upload sends an envelope (Blob) as the part's pieces, resuming from
  // what the platform reports it holds, then completes the part. The
  // pieces go PIECES_AT_ONCE at a time, each with the hash chaining value
  // before it and the envelope's layout (s.chain, s.layout from
  // sealToBlob), so the platform inspects each on its own (EB1) in
  // whatever order they arrive.
  async function upload(form, bidID, part, s, pieceSize, progress) {
    var base = "/bids/" + bidID + "/parts/" + part, envelope = s.envelope;
    var n = Math.max(1, Math.ceil(envelope.size / pieceSize));
    async function send(i) {
      var piece = envelope.slice((i - 1) * pieceSize, Math.min(i * pieceSize, envelope.size));
      var h = { "Content-Type": "application/octet-stream" };
      if (s.chain && s.chain[i - 1]) h["X-Ggzy-Sha256-Before"] = s.chain[i - 1];
      if (s.layout) h["X-Ggzy-Envelope-Layout"] = s.layout;
      await call(form, "PUT", base + "/pieces/" + i, piece, h);
      progress(piece.size);
    }
    for (var attempt = 0; ; attempt++) {
      try {
        var st = await call(form, "GET", base);
        var have = {}, todo = [];
        st.pieces.forEach(function (p) { have[p.n] = p.size; });
        for (var i = 1; i <= n; i++) {
          var size = Math.min(i * pieceSize, envelope.size) - (i - 1) * pieceSize;
          if (have[i] === size) progress(size); else todo.push(i);
        }
        await inParallel(todo, PIECES_AT_ONCE, send);
        return await call(form, "POST", base + "/complete");
      } catch (err) {
        // A refusal is final; a broken connection is retried from what the
        // platform holds.
        if (err.status && err.status < 500) throw err;
        if (attempt >= 5) throw err;
        form.querySelector("#bid-status").textContent = "网络中断，正在续传…";
        await sleep(500 * (attempt + 1));
      }
    }
  }

  function bidForm(form) {
    var status = form.querySelector("#bid-status"), bar = form.querySelector("#bid-progress");
    form.addEventListener("submit", async function (e) {
      e.preventDefault();
      var files = Array.from(form.querySelector("#bid-files").files);
      if (!files.length) { status.textContent = "请选择投标文件"; return; }
      var button = form.querySelector("#bid-submit");
      button.disabled = true;
      try {
        var pf = priceForm(form);
        var up = await call(form, "POST", "/lots/" + form.getAttribute("data-lot") + "/bids",
          JSON.stringify({ files: files.length, device: await device() }), { "Content-Type": "application/json" });
        var ck = GgzySealed.newContentKey(up.ref);
        var parts = [new File([JSON.stringify(pf)], "开标一览表.json", { type: "application/json" })].concat(files);
        var total = parts.reduce(function (s, f) { return s + f.size; }, 0), sent = 0;
        bar.hidden = false; bar.max = total; bar.value = 0;
        var backup = { type: "ggzy-bid-backup", bid_id: up.bid_id, ref: up.ref, lot_id: up.lot_id, version: up.version,
          key_fingerprint: up.key_fingerprint, price_form: pf, parts: [] };
        for (var i = 0; i < parts.length; i++) {
          if (i > 0 && parts[i].size > up.max_file_size) throw new Error("文件“" + parts[i].name + "”超过大小上限");
          status.textContent = "正在加密第" + (i + 1) + "/" + parts.length + "部分：" + parts[i].name;
          var s = await GgzySealed.sealToBlob(parts[i], { publicKey: up.public_key, contentKey: ck, part: i, name: parts[i].name,
            pieceSize: up.piece_size });
          backup.parts.push({ part: i, name: parts[i].name, size: parts[i].size, nonce: s.nonce, commitment: s.commitment });
          status.textContent = "正在上传第" + (i + 1) + "/" + parts.length + "部分";
          var before = sent;
          await upload(form, up.bid_id, i, s, up.piece_size, function (n) {
            sent += n * parts[i].size / s.envelope.size;
            bar.value = Math.min(before + parts[i].size, sent);
          });
          sent = before + parts[i].size;
        }
        status.textContent = "正在确认递交…";
        var bid = await call(form, "POST", "/bids/" + up.bid_id + "/finalize");
        downloadLink(form.querySelector("#backup-link"), JSON.stringify(backup, null, 2), "备用副本信息-" + up.bid_id + ".json");
        status.textContent = "递交成功（第" + bid.version + "版），回执已签发。";
        status.setAttribute("data-bid", String(up.bid_id));
        form.setAttribute("data-done", "1");
        button.disabled = false;
      } catch (err) {
        status.textContent = "递交失败：" + err.message;
        button.disabled = false;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var k = document.getElementById("key-form");
    if (k) keyPage(k);
    var b = document.getElementById("bid-form");
    if (b) bidForm(b);
  });
})();
