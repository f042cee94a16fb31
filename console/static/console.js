// Checkbox trees (permissions: pages with their buttons and actions as children). Ticking a
// node ticks nothing below it: every action, refund and settle included, is ticked on its own.
// Ticking an action ticks its page (an action is useless without the page); unticking a page
// unticks its actions. A page whose actions are only partly ticked shows a mixed state.
(function () {
  function boxOf(item) {
    return item.querySelector(':scope > .form-check > input[type=checkbox]');
  }

  function descendantBoxes(item) {
    return Array.prototype.slice.call(item.querySelectorAll('li > .form-check > input[type=checkbox]'))
      .filter(function (box) { return box.closest('li') !== item; });
  }

  function refresh(item) {
    var box = boxOf(item);
    var below = descendantBoxes(item);
    if (!box || !below.length) return;
    var ticked = below.filter(function (b) { return b.checked; }).length;
    box.indeterminate = ticked > 0 && !(box.checked && ticked === below.length);
    item.setAttribute('data-state', box.indeterminate ? 'mixed' : box.checked ? 'all' : 'none');
  }

  function ancestors(item) {
    var found = [];
    for (var up = item.parentElement.closest('li'); up; up = up.parentElement.closest('li')) {
      found.push(up);
    }
    return found;
  }

  document.addEventListener('change', function (event) {
    var box = event.target;
    if (!box.matches('.checkbox-tree input[type=checkbox]')) return;
    var item = box.closest('li');
    if (box.checked) {
      ancestors(item).forEach(function (up) { var b = boxOf(up); if (b) b.checked = true; });
    } else {
      descendantBoxes(item).forEach(function (b) { b.checked = false; });
    }
    item.querySelectorAll('li').forEach(refresh);
    refresh(item);
    ancestors(item).forEach(refresh);
  });

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('.checkbox-tree li').forEach(refresh);
  });
})();

// The sidebar folds away (the button in the top bar). Under 1200 px it starts folded (the
// stylesheet, so nothing flashes); above, the choice is kept per browser.
(function () {
  var layout = document.querySelector('.console-layout');
  var button = document.getElementById('sidebar-toggle');
  if (!layout || !button) return;
  var narrow = window.matchMedia('(max-width: 1199.98px)');
  function folded() {
    return narrow.matches ? !layout.classList.contains('sidebar-open')
      : layout.classList.contains('sidebar-folded');
  }
  try {
    if (window.localStorage.getItem('console.sidebar') === 'folded') layout.classList.add('sidebar-folded');
  } catch (e) { /* storage off: open */ }
  button.setAttribute('aria-expanded', folded() ? 'false' : 'true');
  button.addEventListener('click', function () {
    layout.classList.add('animate');
    if (narrow.matches) {
      layout.classList.toggle('sidebar-open');
    } else {
      layout.classList.toggle('sidebar-folded');
      try {
        window.localStorage.setItem('console.sidebar', folded() ? 'folded' : 'open');
      } catch (e) { /* ignore */ }
    }
    button.setAttribute('aria-expanded', folded() ? 'false' : 'true');
  });
})();

// select2 (Flask-Admin's 3.5) in the page's language: the texts come from #console-texts.
(function () {
  var node = document.getElementById('console-texts');
  if (!node || !window.jQuery || !jQuery.fn.select2) return;
  var t = JSON.parse(node.textContent);
  function fill(text, count) { return text.replace('%(count)s', count); }
  jQuery.extend(jQuery.fn.select2.defaults, {
    formatNoMatches: function () { return t.noMatches; },
    formatSearching: function () { return t.searching; },
    formatLoadMore: function () { return t.loadingMore; },
    formatAjaxError: function () { return t.loadingFailed; },
    formatInputTooShort: function (input, min) { return fill(t.typeMore, min - input.length); },
    formatInputTooLong: function (input, max) { return fill(t.tooLong, input.length - max); },
    formatSelectionTooBig: function (limit) { return fill(t.tooMany, limit); },
    formatMatches: function (count) { return fill(t.matches, count); }
  });
})();

// A list cell cut short by the stylesheet shows its whole text as a tooltip.
document.addEventListener('mouseover', function (event) {
  var cell = event.target.closest && event.target.closest('table.model-list td, #order-table td');
  if (cell && !cell.title && cell.scrollWidth > cell.clientWidth) {
    cell.title = cell.textContent.replace(/\s+/g, ' ').trim();
  }
});
