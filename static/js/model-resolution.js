// Optional enhancement: a "Print" button on the model resolution page. Without JavaScript the button
// stays hidden and the browser's own Print prints the same clean page (see the print styles).
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
