// Optional enhancement: a tooltip that shows a map region's name and status on
// hover and on keyboard focus. Without JavaScript the same text is the link's
// accessible name, and every map has a table alternative.
(function () {
  "use strict";
  document.querySelectorAll(".map__frame").forEach(function (frame) {
    var tip = document.createElement("div");
    tip.className = "map-tooltip";
    tip.setAttribute("aria-hidden", "true");
    tip.hidden = true;
    frame.appendChild(tip);

    function show(link) {
      var box = link.getBoundingClientRect();
      var origin = frame.getBoundingClientRect();
      tip.textContent = link.getAttribute("aria-label");
      tip.style.left = box.left - origin.left + box.width / 2 + "px";
      tip.style.top = box.top - origin.top + "px";
      tip.hidden = false;
    }
    function hide() { tip.hidden = true; }

    frame.addEventListener("mouseover", function (event) {
      var link = event.target.closest("a[aria-label]");
      if (link) { show(link); } else { hide(); }
    });
    frame.addEventListener("mouseleave", hide);
    frame.addEventListener("focusin", function (event) {
      var link = event.target.closest("a[aria-label]");
      if (link) { show(link); }
    });
    frame.addEventListener("focusout", hide);
  });
})();
