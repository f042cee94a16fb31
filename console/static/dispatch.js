/* The dispatch board: countdowns tick every second; a small poll of clock.json every 10 s
   corrects them, marks orders that left the board and says when new ones arrived — no reload. */
(function () {
  var board = document.querySelector('table.dispatch-board');
  if (!board) { return; }
  var texts = JSON.parse(document.getElementById('dispatch-texts').textContent);
  function duration(seconds) {
    var s = Math.abs(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    return h + ':' + (m < 10 ? '0' : '') + m + ':' + (s < 10 ? '0' : '') + s;
  }
  function paint(row) {
    var waited = row.querySelector('td.waited'), left = row.querySelector('td.left');
    waited.textContent = duration(+waited.dataset.seconds);
    if (left.dataset.seconds === '') { return; }
    var seconds = +left.dataset.seconds, span = document.createElement('span');
    if (seconds < 0) {
      span.className = 'badge badge-danger overdue';
      span.textContent = texts.overdue + ' ' + duration(seconds);
    } else {
      span.className = 'countdown';
      span.textContent = duration(seconds);
    }
    left.replaceChildren(span);
  }
  function rows() { return board.querySelectorAll('tbody tr[data-order]'); }
  setInterval(function () {
    rows().forEach(function (row) {
      if (row.classList.contains('taken')) { return; }
      var waited = row.querySelector('td.waited'), left = row.querySelector('td.left');
      waited.dataset.seconds = +waited.dataset.seconds + 1;
      if (left.dataset.seconds !== '') { left.dataset.seconds = +left.dataset.seconds - 1; }
      paint(row);
    });
  }, 1000);
  function poll() {
    fetch(board.dataset.clockUrl, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer) { return; }
        var shown = {};
        rows().forEach(function (row) {
          var now = answer.orders[row.dataset.order];
          shown[row.dataset.order] = true;
          if (!now) { row.classList.add('taken', 'text-muted'); return; }
          row.querySelector('td.waited').dataset.seconds = now.waited;
          row.querySelector('td.left').dataset.seconds = now.left === null ? '' : now.left;
          paint(row);
        });
        document.getElementById('board-count').textContent = answer.count;
        var arrived = Object.keys(answer.orders).some(function (id) { return !shown[id]; });
        document.getElementById('board-changed').classList.toggle('d-none', !arrived);
      })
      .catch(function () { /* the next poll tries again */ });
  }
  setInterval(poll, 10000);
  var search = document.getElementById('butler-search'), picker = document.getElementById('butler-picker');
  if (search && picker) {
    search.addEventListener('input', function () {
      var words = search.value.trim().toLowerCase(), first = null;
      Array.prototype.forEach.call(picker.options, function (option) {
        var match = !words || option.dataset.search.indexOf(words) >= 0;
        option.hidden = !match;
        if (match && first === null) { first = option; }
      });
      if (first) { picker.value = first.value; }
    });
  }
  var note = document.getElementById('assign-note');
  if (note) {
    document.querySelectorAll('form').forEach(function (form) {
      form.addEventListener('submit', function () {
        form.querySelectorAll('input.assign-note').forEach(function (input) { input.value = note.value; });
      });
    });
  }
})();
