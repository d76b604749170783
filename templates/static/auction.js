// auction.js: the live bidding pages (/auctions/:id, /auctions/:id/bid,
// /supervise/auctions/:id). Follows the lot's topic with live.js, keeps the
// countdown against the server's clock, proposes highest + increment in the
// quote box and asks before sending; draws the price over time (ECharts).
// The database decides: the page only shows what the server accepted.
(function () {
  'use strict';
  var root = document.getElementById('auction');
  if (!root || !window.GGZYLive) { return; }
  var live = window.GGZYLive;
  var lot = root.getAttribute('data-lot');
  var myCode = root.getAttribute('data-code') || '';
  var csrf = root.getAttribute('data-csrf') || '';
  var state = root.getAttribute('data-state');
  var countdownEnd = Number(root.getAttribute('data-countdown-end')) || null;
  var closesAt = Number(root.getAttribute('data-closes-at')) || null;
  var quotes = [];
  try { quotes = JSON.parse(root.getAttribute('data-quotes') || '[]') || []; } catch (e) { quotes = []; }
  var $ = function (id) { return document.getElementById(id); };
  var stateNames = { open: '报价期', timed: '限时竞价', capped: '达到最高限价·第二标准密封报价', suspended: '已中止', settled: '已结束',
    qualifying: '竞价结束·竞得候选人资格后审中', priority: '竞价结束·等待优先购买权人决定（P7）' };

  // The device id (K3 alert): one per browser profile.
  var device = '';
  try {
    device = localStorage.getItem('ggzy-device') || '';
    if (!device) { device = 'd-' + Math.random().toString(36).slice(2) + Date.now().toString(36); localStorage.setItem('ggzy-device', device); }
  } catch (e) { device = ''; }

  function text(id, s) { var el = $(id); if (el) { el.textContent = s; } }
  function money(s) { return Number(s).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + ' 元'; }

  // The chart: price over time, from the quotes accepted.
  var chart = null;
  function draw() {
    var el = $('price-chart');
    if (!el || !window.echarts) { return; }
    if (!chart) { chart = window.echarts.init(el, null, { locale: 'ZH', renderer: 'canvas' }); }
    chart.setOption({
      tooltip: { trigger: 'axis', renderMode: 'richText' },
      grid: { left: 90, right: 30, top: 30, bottom: 40 },
      xAxis: { type: 'time' },
      yAxis: { type: 'value', name: '元', scale: true },
      series: [{ type: 'line', step: 'end', name: '报价', data: quotes.map(function (q) { return [Date.parse(q.at), Number(q.amount), q.code]; }) }]
    });
  }

  function addRow(q) {
    var body = document.querySelector('#quotes tbody');
    if (!body) { return; }
    var tr = document.createElement('tr');
    [live.clock.format(Date.parse(q.at)), q.code, money(q.amount), q.phase || ''].forEach(function (v) {
      var td = document.createElement('td'); td.textContent = v; tr.appendChild(td);
    });
    body.appendChild(tr);
  }

  function setState(s) { state = s; root.setAttribute('data-state', s); text('state', stateNames[s] || s); }

  // The box proposes highest + increment as quotes arrive, but never
  // replaces an amount the bidder typed: only what the page itself proposed
  // (or an empty box) moves with the live price.
  var proposed = $('amount') ? $('amount').value : '';
  function setNext(next) {
    if (!next) { return; }
    root.setAttribute('data-next', next);
    var box = $('amount');
    if (box && !$('confirm-box').hidden) { return; } // do not change what the bidder is confirming
    if (box && (box.value.trim() === '' || box.value === proposed)) {
      box.value = Number(next).toFixed(2);
      proposed = box.value;
    }
  }

  function tick() {
    var end = state === 'timed' || state === 'capped' || state === 'priority' ? countdownEnd : state === 'open' ? closesAt : null;
    if (!end) { text('countdown', '—'); return; }
    var left = Math.max(0, end - live.clock.now());
    var s = Math.ceil(left / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    text('countdown', (h ? h + '小时' : '') + (h || m ? m + '分' : '') + sec + '秒' + (left === 0 ? '（等待服务器结算）' : ''));
  }

  var handlers = {
    quote: function (d) {
      text('highest', money(d.amount));
      text('highest-code', d.code);
      text('quote-count', String(d.quotes));
      if (d.countdown_end) { countdownEnd = Date.parse(d.countdown_end); }
      setState(d.state);
      setNext(d.next);
      var q = { code: d.code, amount: d.amount, at: d.at, phase: d.state };
      quotes.push(q); addRow(q); draw(); tick();
    },
    sealed: function (d) {
      text('quote-count', String(d.quotes));
      if (d.countdown_end) { countdownEnd = Date.parse(d.countdown_end); }
      setState(d.state);
    },
    phase: function (d) {
      setState(d.state);
      if (d.countdown_end) { countdownEnd = Date.parse(d.countdown_end); }
      if (d.closes_at) { closesAt = Date.parse(d.closes_at); text('closes-at', live.clock.format(closesAt)); }
      if (d.highest) { text('highest', money(d.highest)); text('highest-code', d.code || ''); }
      if (d.reason) { text('state', (stateNames[d.state] || d.state) + '（' + d.reason + '）'); }
      if (d.state === 'qualifying' || d.state === 'priority') { // the bidding is over (资格后审, P7)
        var f = $('quote-form'); if (f) { f.hidden = true; }
        // A bidder's page is rendered anew: the candidate's announcement, the
        // holder's priority form (live.js catches up from the last id).
        if (root.getAttribute('data-bidder') === '1') { window.location.reload(); return; }
      }
      setNext(d.next);
      tick();
    },
    settled: function (d) {
      setState('settled');
      var r = $('result');
      if (r) { r.hidden = false; }
      text('outcome', d.outcome === 'sold' ? '号牌 ' + d.code + ' 以 ' + money(d.price) + ' 元竞得' : '流拍：' + (d.reason || ''));
      var form = $('quote-form');
      if (form) { form.hidden = true; }
      if (myCode && d.outcome === 'sold' && d.code === myCode) {
        text('deal-price', money(d.price));
        var won = $('won'); if (won) { won.hidden = false; }
      }
      tick();
    }
  };
  live.connect(root.getAttribute('data-src'), {
    last: root.getAttribute('data-last'),
    on: handlers,
    status: function (s) { root.setAttribute('data-live-state', s); }
  });

  // The quote box: propose, confirm, send once (one idempotency key per
  // confirmed amount, so a double click counts once).
  var key = null;
  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return 'q-' + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  var propose = $('propose');
  if (propose) {
    propose.addEventListener('click', function () {
      var v = $('amount').value.trim();
      if (!/^\d+(\.\d{1,2})?$/.test(v)) { text('quote-result', '报价应为最多两位小数的金额（元）'); return; }
      text('confirm-amount', money(v));
      $('confirm-box').hidden = false;
      key = newKey();
    });
    $('cancel').addEventListener('click', function () { $('confirm-box').hidden = true; key = null; });
    $('confirm').addEventListener('click', function () {
      if (!key) { return; }
      var body = new URLSearchParams({ amount: $('amount').value.trim(), key: key, device: device, _csrf: csrf });
      var btn = $('confirm'); btn.disabled = true;
      fetch('/auctions/' + lot + '/quote', {
        method: 'POST', body: body, credentials: 'same-origin',
        headers: { 'Accept': 'application/json', 'X-CSRF-Token': csrf }
      }).then(function (res) {
        return res.json().then(function (j) { return { ok: res.ok, j: j }; });
      }).then(function (r) {
        btn.disabled = false;
        $('confirm-box').hidden = true;
        key = null;
        proposed = $('amount').value; // answered: the next live price may propose again
        if (r.ok) {
          text('quote-result', '报价已被平台接受（' + live.clock.format(Date.parse(r.j.quote.at)) + '，号牌 ' + r.j.code + '）');
          $('quote-result').setAttribute('data-ok', '1');
        } else {
          var e = r.j.error || {};
          text('quote-result', '报价未被接受：' + (e.message || '') + (e.rule ? '（' + e.rule + '）' : ''));
          $('quote-result').setAttribute('data-ok', '0');
        }
      }).catch(function () {
        btn.disabled = false;
        text('quote-result', '网络错误：请确认后重试（同一次报价不会重复计入）');
      });
    });
  }

  draw();
  tick();
  setInterval(tick, 250);
}());
