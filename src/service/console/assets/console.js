// The console's one script: an instance page reloads itself when the
// instance changes (polling its stored version), unless the reader is
// typing in one of its forms. Without it the page's refresh link does.
(function () {
  "use strict";
  var page = document.body;
  var url = page.getAttribute("data-version-url");
  if (!url) { return; }
  var seen = page.getAttribute("data-version");
  var typing = false;
  document.addEventListener("input", function () { typing = true; });
  function poll() {
    if (document.hidden || typing) { return; }
    var request = new XMLHttpRequest();
    request.open("GET", url);
    request.onload = function () {
      if (request.status === 200 && request.responseText.trim() !== seen) {
        window.location.reload();
      }
    };
    request.send();
  }
  window.setInterval(poll, 2000);
})();
