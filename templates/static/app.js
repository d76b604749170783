// Progressive enhancement only: every page works without JavaScript.
document.addEventListener("DOMContentLoaded", function () {
  // Confirm destructive actions marked with data-confirm.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  });
  // The project form shows only the fields of the chosen category.
  var sw = document.querySelector("[data-category-switch]");
  if (sw) {
    var apply = function () {
      document.querySelectorAll("[data-cats]").forEach(function (el) {
        var cats = el.getAttribute("data-cats").split(" ");
        el.hidden = cats.indexOf(sw.value) < 0;
      });
    };
    sw.addEventListener("change", apply);
    apply();
  }
});
