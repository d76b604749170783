// The opening hall in the browser (EB4–EB9, EB14), on live.js and
// sealed.js: the bidder's key file and passphrase unwrap the bid's content
// key here (they never leave the browser) and the key goes to the platform;
// a backup copy goes up part by part; every step of the hall arrives live,
// and the prices appear for everyone at once when they are read out.
(function () {
  "use strict";
  var hall = document.getElementById("hall");
  if (!hall) return;
  var lot = hall.getAttribute("data-lot"), csrf = hall.getAttribute("data-csrf");

  async function call(method, url, body, type) {
    var headers = { "X-CSRF-Token": csrf, Accept: "application/json" };
    if (type) headers["Content-Type"] = type;
    var resp = await fetch(url, { method: method, credentials: "same-origin", headers: headers, body: body });
    if (!resp.ok) {
      var msg = "请求失败（" + resp.status + "）";
      try { var e = await resp.json(); msg = e.error.message + (e.error.rule ? "（" + e.error.rule + "）" : ""); } catch (_) {}
      throw new Error(msg);
    }
    return resp.status === 204 ? null : resp.json();
  }

  function readText(file) { return file.text(); }

  var decrypt = document.getElementById("decrypt-form");
  if (decrypt) {
    decrypt.addEventListener("submit", async function (e) {
      e.preventDefault();
      var status = document.getElementById("decrypt-status");
      var button = document.getElementById("decrypt");
      button.disabled = true;
      try {
        status.textContent = "正在本机解出内容密钥…";
        var keyFile = await readText(document.getElementById("key-file").files[0]);
        var header = await call("GET", "/lots/" + lot + "/hall/header");
        var token = await GgzySealed.unwrapKey(header, keyFile, document.getElementById("key-pass").value);
        status.textContent = "正在解密并校验承诺值…";
        await call("POST", "/lots/" + lot + "/hall/key", JSON.stringify({ token: token }), "application/json");
        status.textContent = "解密成功";
        status.setAttribute("data-done", "1");
      } catch (err) {
        status.textContent = "解密失败：" + err.message;
        button.disabled = false;
      }
    });
  }

  var backup = document.getElementById("backup-form");
  if (backup) {
    backup.addEventListener("submit", async function (e) {
      e.preventDefault();
      var status = document.getElementById("backup-status");
      try {
        var info = JSON.parse(await readText(document.getElementById("backup-info").files[0]));
        var files = Array.from(document.getElementById("backup-files").files);
        for (var i = 0; i < info.parts.length; i++) {
          var p = info.parts[i], body;
          if (p.part === 0) {
            body = new Blob([JSON.stringify(info.price_form)]);
          } else {
            body = files.find(function (f) { return f.name === p.name && f.size === p.size; });
            if (!body) throw new Error("请选择文件“" + p.name + "”的原件");
          }
          status.textContent = "正在递交备用副本第" + (i + 1) + "/" + info.parts.length + "部分";
          await call("PUT", "/lots/" + lot + "/hall/backup/" + p.part + "?nonce=" + encodeURIComponent(p.nonce), body, "application/octet-stream");
        }
        status.textContent = "备用副本已接受";
        status.setAttribute("data-done", "1");
      } catch (err) {
        status.textContent = "备用副本未被接受：" + err.message;
      }
    });
  }

  // ---- live ----
  var feed = document.getElementById("hall-feed");
  function note(kind, data, id) {
    var li = document.createElement("li");
    li.setAttribute("data-live-kind", kind);
    li.setAttribute("data-live-id", String(id));
    li.textContent = GGZYLive.clock.format(GGZYLive.clock.now()).slice(11) + " " + (data.text || kind);
    feed.insertBefore(li, feed.firstChild);
    var empty = feed.querySelector("[data-live-empty]");
    if (empty) empty.remove();
  }
  function reveal(data) {
    var section = document.getElementById("reveal-section");
    var tbody = document.querySelector("#reveal tbody");
    tbody.textContent = "";
    data.bids.forEach(function (b) {
      var tr = document.createElement("tr");
      [b.seq, b.bidder, b.price || "—", b.items ? JSON.stringify(b.items) : "", b.outcome + (b.reason ? "：" + b.reason : "")].forEach(function (v, i) {
        var td = document.createElement("td");
        td.textContent = v;
        if (i === 2) td.className = "price";
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    section.hidden = false;
    document.getElementById("hall-status").textContent = "已唱标";
    document.getElementById("hall-status").setAttribute("data-status", "revealed");
  }
  var on = {};
  ["hall.opened", "hall.signin", "hall.decrypted", "hall.paused", "hall.confirmed", "hall.objection", "hall.answer", "hall.concluded"].forEach(function (k) {
    on[k] = function (data, id) { note(k, data, id); };
  });
  on["hall.revealed"] = function (data, id) { note("hall.revealed", data, id); reveal(data); };
  document.addEventListener("DOMContentLoaded", function () {
    GGZYLive.connect("/lots/" + lot + "/hall/events", {
      last: hall.getAttribute("data-live-last"), on: on,
      status: function (s) { hall.setAttribute("data-live-state", s); }
    });
  });
})();
