// live.js: the browser side of trading/live. It wraps EventSource (reconnects
// from the last event id, also after the server refused or restarted),
// dispatches events by kind, and keeps the server's clock: the one clock,
// shown with the browser's offset from it.
//
//   GGZYLive.connect(url, {last: 12, on: {quote: function (data, id) {...}}, status: fn, reset: fn})
//
// Markup that needs no script of its own:
//   <span data-live-clock></span>                          server time and offset
//   <section data-live-src="/supervise/events" data-live-last="12"
//            data-live-kinds="project.suspended project.resumed">
//     <ol data-live-list></ol>                             newest first: data.text, data.link
//   </section>
(function () {
  'use strict';

  // offset = server time − browser time, in ms; null until the first clock.
  var offset = null;
  var fmt = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', hour12: false, year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit'
  });

  var clock = {
    // set takes the server's time (ms) as just received.
    set: function (serverMs) { offset = serverMs - Date.now(); paintClocks(); },
    // now is the server's time (ms), or the browser's before the first clock.
    now: function () { return Date.now() + (offset || 0); },
    offset: function () { return offset; },
    format: function (ms) { return fmt.format(new Date(ms)).replace(/\//g, '-'); }
  };

  function paintClocks() {
    var els = document.querySelectorAll('[data-live-clock]');
    if (!els.length) { return; }
    var text = '服务器时间 ' + clock.format(clock.now());
    if (offset !== null) {
      var s = Math.abs(offset) / 1000;
      text += s < 0.5 ? '（本机时钟准确）' : '（本机时钟' + (offset > 0 ? '慢' : '快') + ' ' + s.toFixed(1) + ' 秒）';
    }
    for (var i = 0; i < els.length; i++) { els[i].textContent = text; }
  }

  // connect opens a stream and keeps it open until close() is called.
  function connect(url, opts) {
    opts = opts || {};
    var last = opts.last === undefined || opts.last === null || opts.last === '' ? null : String(opts.last);
    var es = null, timer = null, closed = false, backoff = 1000;
    var on = opts.on || {};

    function status(s) { if (opts.status) { opts.status(s); } }

    function open() {
      var u = url;
      if (last !== null) { u += (u.indexOf('?') < 0 ? '?' : '&') + 'last_event_id=' + encodeURIComponent(last); }
      es = new EventSource(u);
      es.onopen = function () { backoff = 1000; status('open'); };
      es.onerror = function () {
        if (es.readyState === EventSource.CLOSED) {
          // Refused (a 4xx/5xx) or not a stream: EventSource gives up here;
          // we try again, from the last id, backing off up to 30 s.
          es.close();
          status('closed');
          if (!closed) {
            timer = setTimeout(open, backoff + Math.random() * 1000);
            backoff = Math.min(backoff * 2, 30000);
          }
        } else {
          status('reconnecting'); // EventSource retries with Last-Event-ID itself
        }
      };
      es.addEventListener('clock', function (ev) {
        try { clock.set(JSON.parse(ev.data).now); } catch (e) { /* ignore */ }
      });
      es.addEventListener('reset', function (ev) {
        // Events before ev.data were pruned: the page's state is stale.
        if (opts.reset) { opts.reset(Number(ev.data)); } else { window.location.reload(); }
      });
      Object.keys(on).forEach(function (kind) {
        es.addEventListener(kind, function (ev) {
          if (ev.lastEventId) { last = ev.lastEventId; }
          var data = null;
          try { data = JSON.parse(ev.data); } catch (e) { return; }
          on[kind](data, Number(ev.lastEventId), ev);
        });
      });
    }

    open();
    return {
      close: function () { closed = true; clearTimeout(timer); if (es) { es.close(); } status('closed'); },
      last: function () { return last; }
    };
  }

  // feed renders a [data-live-src] element's events as a list, newest first.
  function feed(root) {
    var list = root.querySelector('[data-live-list]') || root;
    var max = Number(root.getAttribute('data-live-max')) || 50;
    var on = {};
    (root.getAttribute('data-live-kinds') || '').split(/\s+/).forEach(function (kind) {
      if (!kind) { return; }
      on[kind] = function (data, id) {
        var li = document.createElement('li');
        li.setAttribute('data-live-id', String(id));
        li.setAttribute('data-live-kind', kind);
        var time = document.createElement('time');
        time.textContent = clock.format(data.at ? Date.parse(data.at) : clock.now()).slice(11) + ' ';
        li.appendChild(time);
        var text = document.createTextNode(data.text || kind);
        if (data.link) {
          var a = document.createElement('a');
          a.href = data.link;
          a.appendChild(text);
          li.appendChild(a);
        } else {
          li.appendChild(text);
        }
        list.insertBefore(li, list.firstChild);
        var empty = list.querySelector('[data-live-empty]');
        if (empty) { empty.remove(); }
        while (list.children.length > max) { list.removeChild(list.lastChild); }
      };
    });
    connect(root.getAttribute('data-live-src'), {
      last: root.getAttribute('data-live-last'),
      on: on,
      status: function (s) { root.setAttribute('data-live-state', s); }
    });
  }

  function init() {
    var roots = document.querySelectorAll('[data-live-src]');
    for (var i = 0; i < roots.length; i++) { feed(roots[i]); }
    paintClocks();
    setInterval(paintClocks, 1000);
  }

  window.GGZYLive = { connect: connect, clock: clock };
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
}());
