// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  // Confirm destructive actions marked with data-confirm.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
  // Print buttons of the documents people keep (announcements, records, letters).
  document.querySelectorAll("button[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  // Countdowns tick with the platform's clock: the page says what time the
  // server had, so a client clock (or a demo's shifted clock) does not matter.
  var cds = document.querySelectorAll(".countdown[data-deadline]");
  if (cds.length) {
    var tick = function () {
      cds.forEach(function (el) {
        var skew = Number(el.getAttribute("data-now")) * 1000 - (window.__loaded || (window.__loaded = Date.now()));
        var left = Number(el.getAttribute("data-deadline")) * 1000 - (Date.now() + skew);
        if (left <= 0) { el.textContent = "已截止"; return; }
        var m = Math.floor(left / 60000), d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60);
        el.textContent = d > 0 ? "剩余 " + d + "天" + h + "小时" : (h > 0 ? "剩余 " + h + "小时" + (m % 60) + "分" : "剩余 " + Math.max(m, 1) + "分钟");
      });
    };
    tick();
    setInterval(tick, 30000);
  }
  // The project form shows only the fields of the chosen category.
  // The server renders the chosen category alone (the page works without
  // script, through the "按所选类别显示" button); here the switch is live,
  // and the other categories' inputs are disabled so they are not sent.
  var sw = document.querySelector("[data-category-switch]");
  if (sw) {
    document.querySelectorAll("[data-js-hide]").forEach(function (el) {
      el.hidden = true;
      el.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    });
    var apply = function () {
      document.querySelectorAll("[data-cats]").forEach(function (el) {
        var cats = el.getAttribute("data-cats").split(" ");
        el.hidden = cats.indexOf(sw.value) < 0;
        el.querySelectorAll("input, select").forEach(function (i) { i.disabled = el.hidden; });
      });
    };
    sw.addEventListener("change", apply);
    apply();
  }
  // The sub-type (交易子类) follows the category: when the chosen one is
  // another category's, the category's first is chosen.
  var sub = document.getElementById("sub_type");
  if (sw && sub) {
    var follow = function () {
      var opt = sub.options[sub.selectedIndex];
      if (opt && opt.parentNode.getAttribute("data-cats") === sw.value) return;
      var first = sub.querySelector('optgroup[data-cats="' + sw.value + '"] option');
      if (first) first.selected = true;
    };
    sw.addEventListener("change", follow);
    follow();
  }
});
