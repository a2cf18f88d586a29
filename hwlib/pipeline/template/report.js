/* The report's one script, inlined at the end of the page (the page loads nothing from elsewhere). Without
   it the report reads the same; it adds: the contents open beside the text on a wide screen and folded on a
   narrow one, the section in view marked in the contents, each figure a link to its image at full size,
   a link back to the top once the top is out of sight,
   and a note and a shadow on the side a wide table scrolls to. */
(function () {
  "use strict";

  /* The contents: open on a wide screen (beside the text), folded behind "Contents" on a narrow one. */
  var fold = document.querySelector("nav.toc details");
  var wide = window.matchMedia("(min-width: 72rem)");
  function place() { if (fold) { fold.open = wide.matches; } }
  place();
  wide.addEventListener("change", place);
  if (fold) {
    fold.addEventListener("click", function (event) {  /* a chosen entry folds them away again */
      if (event.target.closest("a") && !wide.matches) { fold.open = false; }
    });
  }

  /* The section in view: its entry (and its part's) marked in the contents, and kept in sight there. */
  var nav = document.querySelector("nav.toc");
  var entries = {};
  document.querySelectorAll('nav.toc a[href^="#"]').forEach(function (a) {
    entries[decodeURIComponent(a.hash.slice(1))] = a;
  });
  var headings = Array.prototype.filter.call(document.querySelectorAll("main h1[id], main h2[id]"),
    function (h) { return entries[h.id]; });
  var marked = [];
  function markCurrent() {
    var line = window.innerHeight * 0.15, current = null;
    for (var i = 0; i < headings.length; i++) {  /* the last heading in or above the window's top 15 % */
      if (headings[i].getBoundingClientRect().top > line) { break; }
      current = headings[i];
    }
    marked.forEach(function (a) { a.classList.remove("current", "current-part"); a.removeAttribute("aria-current"); });
    marked = [];
    if (!current) { return; }
    var link = entries[current.id];
    link.classList.add("current");
    link.setAttribute("aria-current", "location");
    marked.push(link);
    var part = link.parentElement.parentElement.closest("li");
    if (part && part.firstElementChild !== link) {
      part.firstElementChild.classList.add("current-part");
      marked.push(part.firstElementChild);
    }
    if (nav && nav.scrollHeight > nav.clientHeight) {  /* the sidebar scrolls on its own: keep the entry in it */
      var box = nav.getBoundingClientRect(), at = link.getBoundingClientRect();
      if (at.top < box.top || at.bottom > box.bottom) { nav.scrollTop += at.top - box.top - box.height / 3; }
    }
  }
  if ("IntersectionObserver" in window && headings.length) {
    /* a heading entering or leaving the window's top 15 % is when the current section changes */
    var observer = new IntersectionObserver(markCurrent, { rootMargin: "0px 0px -85% 0px" });
    headings.forEach(function (h) { observer.observe(h); });
  }

  /* Figures at full size: the link gets the image as a file of its own (a blob URL) when it is about to be
     followed; the page keeps one copy of each image, and a printed page keeps the link to the figure. */
  document.querySelectorAll("figure.figure a.full-size").forEach(function (a) {
    function prepare() {
      if (a.dataset.ready) { return; }
      var img = a.querySelector("img");
      var m = /^data:([^;,]+);base64,(.*)$/.exec(img ? img.getAttribute("src") : "");
      if (!m) { return; }
      var raw = window.atob(m[2]), bytes = new Uint8Array(raw.length);
      for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
      a.href = URL.createObjectURL(new Blob([bytes], { type: m[1] }));
      a.target = "_blank";
      a.dataset.ready = "1";
    }
    ["pointerdown", "mouseenter", "touchstart", "focus"].forEach(function (name) {
      a.addEventListener(name, prepare, { passive: true });
    });
  });

  /* Wide tables: a shadow on each side that has more to scroll to; a table that fits is no tab stop. */
  document.querySelectorAll(".table-scroll").forEach(function (box) {
    var hint = document.createElement("div");  /* shown while the table scrolls; the shadow says where */
    hint.className = "scroll-hint";
    hint.setAttribute("aria-hidden", "true");
    hint.textContent = "\u21c6 scrolls sideways";
    box.parentElement.insertBefore(hint, box);
    function update() {
      var more = box.scrollWidth - box.clientWidth;
      box.parentElement.classList.toggle("more-left", more > 1 && box.scrollLeft > 1);
      box.parentElement.classList.toggle("more-right", more > 1 && box.scrollLeft < more - 1);
      box.parentElement.classList.toggle("scrolls", more > 1);
      if (more > 1) { box.setAttribute("tabindex", "0"); } else { box.removeAttribute("tabindex"); }
    }
    box.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", update);
    update();
  });

  /* "Back to top" only once the top is out of sight */
  var toTop = document.querySelector("a.to-top");
  function showToTop() { if (toTop) { toTop.classList.toggle("at-top", window.scrollY < window.innerHeight); } }
  window.addEventListener("scroll", showToTop, { passive: true });
  showToTop();

  markCurrent();
}());
