// Checkbox trees: checking a node checks its descendants; unchecking clears them.
document.addEventListener('change', function (event) {
  var box = event.target;
  if (!box.matches('.checkbox-tree input[type=checkbox]')) return;
  var item = box.closest('li');
  item.querySelectorAll('ul input[type=checkbox]').forEach(function (child) {
    child.checked = box.checked;
  });
});
