// Document uploads with a progress bar (progressive enhancement: without
// JavaScript the form posts normally). The form is sent by XMLHttpRequest
// so its upload progress can be shown; the CSRF token travels in the
// X-CSRF-Token header, so the server never has to parse the multipart body
// as a form and can stream the file straight to storage.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("form[data-upload]").forEach(function (form) {
    if (!window.FormData || !window.XMLHttpRequest) return;
    var bar = form.querySelector("progress");
    var status = form.querySelector("[data-upload-status]");
    var button = form.querySelector("button[type=submit]");
    var fail = function (msg) {
      status.textContent = msg;
      bar.hidden = true;
      button.disabled = false;
    };
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf") || "");
      xhr.upload.addEventListener("progress", function (ev) {
        if (!ev.lengthComputable) return;
        bar.max = ev.total;
        bar.value = ev.loaded;
        status.textContent = "已上传 " + Math.floor((ev.loaded * 100) / ev.total) + "%";
      });
      xhr.upload.addEventListener("load", function () {
        status.textContent = "正在校验并保存…";
      });
      xhr.addEventListener("load", function () {
        if (xhr.status === 201) {
          window.location.href = xhr.getResponseHeader("Location") || window.location.href;
          return;
        }
        var msg = "上传失败（" + xhr.status + "）";
        try {
          var body = JSON.parse(xhr.responseText);
          msg = body.error.message + (body.error.field ? "（字段：" + body.error.field + "）" : "");
        } catch (_) {}
        fail(msg);
      });
      xhr.addEventListener("error", function () {
        fail("网络中断，文件未上传，请重试");
      });
      bar.hidden = false;
      bar.value = 0;
      button.disabled = true;
      status.textContent = "已上传 0%";
      xhr.send(new FormData(form));
    });
  });
});
