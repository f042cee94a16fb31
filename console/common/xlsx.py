"""Excel import framework (openpyxl). An import kind declares its columns (Chinese header,
English alias, parser); a file is read, its header mapped, every row parsed and checked, and
only when no row has an error is anything written — in one transaction. A dry run stops
before writing. Errors carry the Excel row number and a message in the user's language."""
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from console.common.money import parse_yuan
from console.common.tx import writing
from console.errors import InputError

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_FEN = 100_000_000


class ImportFileError(InputError):
    """The file as a whole cannot be read (not .xlsx, too large, no header)."""

    def __init__(self, message):
        super().__init__("file", message)


class CellError(InputError):
    """One cell's value refused; the row and column are added by the caller."""

    def __init__(self, message):
        super().__init__(None, message)


@dataclass
class Column:
    key: str
    header: str  # the Chinese header of the template
    header_en: str  # accepted too
    parse: object  # callable(cell value) -> value, raising CellError
    required: bool = True
    example: object = ""
    note: object = ""


@dataclass
class Row:
    number: int  # the Excel row number; the header is row 1
    values: dict
    errors: list = field(default_factory=list)  # [(header, message)]
    action: str = ""  # what the import will do: create, update, unchanged

    def fail(self, header, message):
        self.errors.append((header, message))


@dataclass
class ImportResult:
    kind: str
    header_errors: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    written: int = 0
    dry_run: bool = True

    @property
    def ok(self):
        return not self.header_errors and not self.error_rows

    @property
    def error_rows(self):
        return [r for r in self.rows if r.errors]


class ImportKind:
    """Subclasses set code, title, sheet_title, columns and write rows."""
    code = ""
    title = ""
    sheet_title = "Sheet1"
    columns: list = []

    def check_rows(self, rows, context):
        """Checks across rows and against the database; call row.fail() and set row.action."""

    def write(self, rows, context):
        """Write every row (all valid); return how many records changed."""
        raise NotImplementedError


# ---- cell parsers -------------------------------------------------------------------------
def _blank(value):
    return value is None or (isinstance(value, str) and not value.strip())


def text(max_length, required=True, pattern=None, pattern_hint=""):
    def parse(value):
        if _blank(value):
            if required:
                raise CellError(_l("is required"))
            return ""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        result = str(value).strip()
        if len(result) > max_length:
            raise CellError(_l("at most %(n)s characters", n=max_length))
        if pattern and not re.fullmatch(pattern, result):
            raise CellError(pattern_hint)
        return result
    return parse


def yuan(required=True):
    """Yuan as typed in Excel (128, 128.5, "¥1,280.50") to integer fen; never more than two
    decimals, never negative, at most MAX_FEN."""
    def parse(value):
        if _blank(value):
            if required:
                raise CellError(_l("is required"))
            return None
        try:
            return parse_yuan(value, maximum_fen=MAX_FEN)
        except InputError as exc:
            raise CellError(exc.lazy_message) from None
    return parse


def whole(minimum, maximum, required=True):
    def parse(value):
        if _blank(value):
            if required:
                raise CellError(_l("is required"))
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int):
            raise CellError(_l("must be a whole number"))
        if not minimum <= value <= maximum:
            raise CellError(_l("must be between %(low)s and %(high)s", low=minimum,
                               high=maximum))
        return value
    return parse


def choice(options, required=True):
    """`options` maps each accepted spelling (code, Chinese, English) to the stored code."""
    folded = {str(k).strip().lower(): v for k, v in options.items()}

    def parse(value):
        if _blank(value):
            if required:
                raise CellError(_l("is required"))
            return ""
        key = str(value).strip().lower()
        if key not in folded:
            raise CellError(_l("%(value)r is not one of: %(options)s", value=value,
                               options="、".join(sorted({str(k) for k in options}))))
        return folded[key]
    return parse


def code_list(value):
    """Codes separated by commas, 、, semicolons or spaces; blank means none."""
    if _blank(value):
        return []
    return [c for c in re.split(r"[,，、;；\s]+", str(value).strip()) if c]


# ---- reading ------------------------------------------------------------------------------
def _norm(header):
    text_ = str(header or "").strip().replace("（", "(").replace("）", ")")
    return re.sub(r"\s+", "", text_.rstrip("*").strip()).lower()


def map_headers(columns, header_cells):
    """Map each column key to its cell index; return (mapping, errors)."""
    by_name = {}
    for column in columns:
        by_name[_norm(column.header)] = column
        by_name[_norm(column.header_en)] = column
    mapping, errors = {}, []
    for index, cell in enumerate(header_cells):
        if _blank(cell):
            continue
        letter = get_column_letter(index + 1)
        column = by_name.get(_norm(cell))
        if column is None:
            errors.append(_l("Column %(letter)s: unknown header %(header)r.", letter=letter,
                             header=str(cell).strip()))
        elif column.key in mapping:
            errors.append(_l("Column %(letter)s: %(header)s appears a second time.",
                             letter=letter, header=column.header))
        else:
            mapping[column.key] = index
    for column in columns:
        if column.required and column.key not in mapping:
            errors.append(_l("Missing column %(header)s (%(header_en)s).",
                             header=column.header, header_en=column.header_en))
    if errors:
        errors.append(_l("Expected headers: %(headers)s. Download the template to start from "
                         "the right layout.", headers="、".join(c.header for c in columns)))
    return mapping, errors


def read_sheet(data):
    """All rows of the first sheet as tuples of cell values."""
    if len(data) > MAX_BYTES:
        raise ImportFileError(_l("The file is larger than %(mb)s MB.", mb=MAX_BYTES // 2**20))
    try:
        with warnings.catch_warnings():  # files from other tools carry unsupported extensions
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise ImportFileError(_l("This is not an Excel .xlsx file.")) from None
    try:
        rows = []
        for cells in book.worksheets[0].iter_rows(values_only=True):
            rows.append(cells)
            if len(rows) > MAX_ROWS + 1:
                raise ImportFileError(_l("At most %(n)s rows can be imported at once.",
                                         n=MAX_ROWS))
    finally:
        book.close()
    while rows and all(_blank(c) for c in rows[-1]):
        rows.pop()
    if not rows:
        raise ImportFileError(_l("The first sheet is empty: it needs a header row."))
    return rows


def parse_rows(kind, mapping, body):
    rows = []
    for number, cells in enumerate(body, start=2):
        if all(_blank(c) for c in cells):
            continue
        row = Row(number, {})
        for column in kind.columns:
            index = mapping.get(column.key)
            raw = cells[index] if index is not None and index < len(cells) else None
            try:
                row.values[column.key] = column.parse(raw)
            except CellError as exc:
                row.values[column.key] = raw
                row.fail(column.header, exc.message)
        rows.append(row)
    return rows


def run(kind, data, context, dry_run=True):
    """Read, check and (unless a dry run or any row fails) write `data` (.xlsx bytes)."""
    sheet = read_sheet(data)
    result = ImportResult(kind.code, dry_run=dry_run)
    mapping, result.header_errors = map_headers(kind.columns, sheet[0])
    if result.header_errors:
        return result
    if dry_run:
        result.rows = _checked(kind, mapping, sheet[1:], context)
        return result
    try:
        with writing():  # checked again under the write lock: what is shown is what
            result.rows = _checked(kind, mapping, sheet[1:], context)  # gets written
            if result.ok and result.rows:
                result.written = kind.write(result.rows, context)
    except InputError as exc:  # a rule the row checks could not foresee
        result.header_errors = [exc.message]
        result.written = 0
    return result


def _checked(kind, mapping, body, context):
    rows = parse_rows(kind, mapping, body)
    kind.check_rows(rows, context)
    return rows


# ---- the template -------------------------------------------------------------------------
def template_workbook(kind):
    """An .xlsx with the Chinese header row (frozen) and a second sheet explaining each column."""
    book = Workbook()
    sheet = book.active
    sheet.title = kind.sheet_title
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for index, column in enumerate(kind.columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font, cell.fill = bold, fill
        sheet.column_dimensions[get_column_letter(index)].width = max(14, len(column.header) * 3)
    sheet.freeze_panes = "A2"
    notes = book.create_sheet(str(_l("Notes")))
    notes.append([str(_l("Column")), str(_l("English header")), str(_l("Required")),
                  str(_l("Example")), str(_l("Explanation"))])
    for cell in notes[1]:
        cell.font = bold
    for column in kind.columns:
        notes.append([column.header, column.header_en, str(_l("yes") if column.required
                                                           else _l("no")),
                      column.example, str(column.note)])
    for letter, width in zip("ABCDE", (16, 22, 8, 20, 60), strict=True):
        notes.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
