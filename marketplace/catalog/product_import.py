"""A seller's products and stock as a spreadsheet, out and back in.

Export: CSV as French Excel opens it (`;`, UTF-8 with a byte-order mark, decimal comma; see
marketplace/exports.py) or XLSX (openpyxl). Import: the same files (CSV in UTF-8 with or without a
BOM or in Windows-1252, `;` or `,`; XLSX), read by marketplace/spreadsheets.py. Each line creates
or updates one product, found by its number (the export's first column) or by the seller's own
reference. `plan()` checks every line and says what it would change; `apply()` does it only when
no problem is left, in the caller's unit of work: all the lines or none. Every stock change is a
movement with the reason "import". Photos may come in a ZIP whose file names are the references
(ref.jpg, ref-2.jpg...), each checked and re-encoded by images.py.
"""
from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import lazyload
from stdnum import ean as stdnum_ean

from marketplace import audit, caching, exports, spreadsheets
from marketplace.catalog import images, search
from marketplace.catalog.models import (
    REFERENCE_MAX,
    TITLE_MAX,
    VAT_RATES_BP,
    Category,
    Product,
    ProductPhoto,
    ProductStatus,
    StockMovement,
    StockReason,
)
from marketplace.catalog.services import MAX_PHOTOS, MAX_PRICE_CENTS, CatalogError
from marketplace.db import db, lock_rows, utcnow
from marketplace.i18n import current_locale_code, money_filter
from marketplace.i18n import lazy_gettext as _l
from marketplace.money import parse_euros
from marketplace.organizations.models import Organization

# Columns, in the export's order: (field, French header, English header).
COLUMNS = (
    ("id", "N°", "No."),
    ("reference", "Référence", "Reference"),
    ("title", "Titre", "Title"),
    ("description", "Description", "Description"),
    ("category", "Catégorie", "Category"),
    ("price", "Prix (€)", "Price (€)"),
    ("vat", "TVA (%)", "VAT (%)"),
    ("stock", "Stock", "Stock"),
    ("ean", "EAN", "EAN"),
    ("perishable", "Périssable", "Perishable"),
)
FIELDS = tuple(name for name, _fr, _en in COLUMNS)
_OTHER_HEADERS = {
    "id": {"numero", "no", "n", "id", "identifiant", "product id", "numero produit"},
    "reference": {"ref", "reference", "sku", "code article", "reference vendeur", "your reference"},
    "title": {"titre", "title", "nom", "name", "designation", "libelle", "produit", "product"},
    "description": {"description", "descriptif"},
    "category": {"categorie", "category", "rayon"},
    "price": {"prix", "price", "prix ttc", "prix de vente", "price eur"},
    "vat": {"tva", "vat", "taux de tva", "vat rate", "taux tva"},
    "stock": {"stock", "quantite", "quantity", "qte", "quantite en stock", "units"},
    "ean": {"ean", "ean13", "ean 13", "code barre", "code barres", "barcode", "gtin"},
    "perishable": {"perissable", "perishable"},
}
_FIELD_BY_HEADER = {
    spreadsheets.normalise(header): name
    for name, french, english in COLUMNS for header in (french, english)
} | {header: name for name, headers in _OTHER_HEADERS.items() for header in headers}

DESCRIPTION_MAX = 5000
STOCK_MAX = 1_000_000
YES = {"oui", "o", "yes", "y", "vrai", "true", "1", "x"}
NO = {"non", "n", "no", "faux", "false", "0", ""}
PHOTO_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
ZIP_MAX_FILES = 500
ZIP_MAX_UNPACKED = 300 * 1024 * 1024
ZIP_MAX_RATIO = 100  # a photo compresses little: a higher ratio is a zip bomb

COLUMN_LABELS = {
    "id": _l("No."), "reference": _l("Reference"), "title": _l("Title"),
    "description": _l("Description"), "category": _l("Category"), "price": _l("Price"),
    "vat": _l("VAT"), "stock": _l("Stock"), "ean": _l("EAN"), "perishable": _l("Perishable"),
    "photos": _l("Photos"),
}

MESSAGES = {
    "unknown_column": _l("The column “%(header)s” is not one we know: rename it (Reference, "
                         "Title, Description, Category, Price, VAT, Stock, EAN, Perishable) "
                         "or delete it."),
    "unnamed_column": _l("Column %(position)s has no header: name it, or delete it."),
    "duplicate_column": _l("The column “%(header)s” appears twice: delete one."),
    "no_key_column": _l("The file has no “Title” column and no “Reference” column."),
    "empty_line": _l("This line is empty: delete it."),
    "unknown_id": _l("No product of yours has the number %(value)s."),
    "duplicate_id": _l("The product number %(value)s is also on line %(other)s."),
    "title_missing": _l("The title is missing."),
    "too_long": _l("“%(column)s” is too long (%(max)s characters at most)."),
    "category_missing": _l("The category is missing."),
    "category_unknown": _l("The category “%(value)s” does not exist: use one of the catalogue's "
                           "categories."),
    "price_missing": _l("The price is missing."),
    "price_not_number": _l("The price “%(value)s” is not a number of euros (for example 12,50)."),
    "price_out_of_range": _l("The price must be between 0 and 100,000 euros."),
    "vat_bad": _l("The VAT rate “%(value)s” is not a French rate (20, 10, 5.5, 2.1 or 0)."),
    "stock_not_number": _l("The stock “%(value)s” is not a whole number."),
    "stock_negative": _l("The stock cannot be negative."),
    "ean_bad": _l("“%(value)s” is not a valid EAN barcode (8 or 13 digits)."),
    "ean_taken": _l("The EAN %(value)s is already the barcode of “%(title)s”."),
    "duplicate_reference": _l("The reference “%(value)s” is also on line %(other)s."),
    "reference_taken": _l("The reference “%(value)s” is already the reference of “%(title)s”."),
    "perishable_bad": _l("“%(value)s” is not yes or no."),
    "photos_too_many": _l("With these photos the product would have %(count)s photos: "
                          "%(max)s at most."),
    # Photos (the ZIP's problems are named by file).
    "photo_unmatched": _l("The photo “%(name)s” matches no reference of the file or of your "
                          "products."),
    "photo_bad": _l("The photo “%(name)s”: %(reason)s"),
    "zip_bad": _l("The photos file is not a ZIP archive we can open."),
    "zip_too_large": _l("The ZIP of photos is too large once opened: send fewer or smaller photos."),
    "zip_too_many": _l("The ZIP holds more than %(max)s files: send several imports."),
}

CHANGE_LABELS = {"new": _l("New product"), "same": _l("No change"), "update": _l("Changes")}


@dataclass
class Problem:
    code: str
    params: dict = field(default_factory=dict)
    field: str | None = None

    def text(self) -> str:
        return str(MESSAGES[self.code]) % {k: str(v) for k, v in self.params.items()}


@dataclass
class Line:
    number: int  # the line in the file
    cells: dict  # field -> text as written
    product: sa.Row | None = None  # the product it updates (its compared columns)
    values: dict = field(default_factory=dict)  # field -> checked value
    changes: list = field(default_factory=list)  # (field, old text, new text)
    product_id: int | None = None  # once applied
    photos: list = field(default_factory=list)  # (position, name, bytes)
    problems: list[Problem] = field(default_factory=list)

    @property
    def action(self) -> str:
        if self.product is None:
            return "new"
        return "update" if self.changes or self.photos else "same"

    @property
    def label(self) -> str:
        return self.cells.get("reference") or self.cells.get("title") or ""


@dataclass
class Plan:
    columns: list[dict]
    lines: list[Line]
    file_problems: list[Problem]

    @property
    def problem_count(self) -> int:
        return len(self.file_problems) + sum(len(line.problems) for line in self.lines)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def lines_with_problems(self) -> list[Line]:
        return [line for line in self.lines if line.problems]

    def count(self, action: str) -> int:
        return sum(1 for line in self.lines if line.action == action)


def max_lines() -> int:
    return int(current_app.config["PRODUCT_IMPORT_MAX_LINES"])


def field_of(header: str) -> str | None:
    return _FIELD_BY_HEADER.get(spreadsheets.normalise(header))


def read_sheet(data: bytes) -> spreadsheets.Sheet:
    """SpreadsheetError (4xx, with the reason) when the file is not a table we can read."""
    return spreadsheets.read(
        data, max_lines=max_lines(), field_of=field_of,
        too_many=_l("The file has more than %(max)s lines: split it into several imports."),
        no_lines=_l("The file has a header but no product."))


# --- export ----------------------------------------------------------------------------------


def _headers() -> list[str]:
    english = current_locale_code() == "en"
    return [english_header if english else french for _name, french, english_header in COLUMNS]


def _category_name(category: Category) -> str:
    return category.name(current_locale_code())


def _vat_text(basis_points: int) -> str:
    text = format(Decimal(basis_points).scaleb(-2).normalize(), "f")
    return text.replace(".", ",") if current_locale_code() == "fr" else text


def export_rows(organization) -> list[list]:
    """The seller's products, by number: text cells (never a formula), French decimals in
    French."""
    _category_index()  # the categories in the session: no query per product
    products = db.session.scalars(
        sa.select(Product).where(Product.organization_id == organization.id).order_by(Product.id)
        .options(lazyload(Product.photos), lazyload(Product.organization),
                 lazyload(Product.category))
    )
    yes, no = str(_l("yes")), str(_l("no"))
    return [
        [str(p.id), exports.cell(p.reference or ""), exports.cell(p.title),
         exports.cell(p.description), _category_name(p.category), exports.amount(p.price_cents),
         _vat_text(p.vat_rate_bp), "" if p.stock is None else str(p.stock), p.ean or "",
         yes if p.is_perishable else no]
        for p in products
    ]


def export_csv(organization) -> str:
    return exports.csv_text(_headers(), export_rows(organization))


def export_xlsx(organization) -> bytes:
    """The same table as an Excel workbook; numbers are numbers (price, VAT, stock)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(_l("Products")))
    sheet.append(_headers())
    _category_index()
    products = db.session.scalars(
        sa.select(Product).where(Product.organization_id == organization.id).order_by(Product.id)
        .options(lazyload(Product.photos), lazyload(Product.organization),
                 lazyload(Product.category))
    )
    yes, no = str(_l("yes")), str(_l("no"))
    for p in products:
        sheet.append([
            p.id, exports.cell(p.reference or ""), exports.cell(p.title),
            exports.cell(p.description), _category_name(p.category),
            Decimal(p.price_cents).scaleb(-2), Decimal(p.vat_rate_bp).scaleb(-2).normalize(),
            p.stock, p.ean or "", yes if p.is_perishable else no,
        ])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- reading the photos ----------------------------------------------------------------------


@dataclass
class Photos:
    by_name: dict  # stem of the file name -> list of (position, file name, bytes)
    problems: list[Problem]


def read_photos(data: bytes | None) -> Photos:
    """The ZIP's photos by the name they are filed under; never more than the limits in memory
    (the sizes in the archive's directory are checked first, then each file is read with a
    bound)."""
    found = Photos({}, [])
    if not data:
        return found
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        found.problems.append(Problem("zip_bad"))
        return found
    if len(infos) > ZIP_MAX_FILES:
        found.problems.append(Problem("zip_too_many", {"max": ZIP_MAX_FILES}))
        return found
    max_bytes = current_app.config["UPLOAD_MAX_BYTES"]
    if sum(i.file_size for i in infos) > ZIP_MAX_UNPACKED:
        found.problems.append(Problem("zip_too_large"))
        return found
    for info in infos:
        name = info.filename.rsplit("/", 1)[-1]
        if not name or name.startswith(".") or info.filename.startswith("__MACOSX/"):
            continue  # what macOS adds to an archive
        stem, dot, extension = name.rpartition(".")
        if not dot or f".{extension.lower()}" not in PHOTO_EXTENSIONS:
            found.problems.append(Problem("photo_bad", {"name": name, "reason": _l(
                "Send a JPEG, PNG, WebP or GIF photo.")}))
            continue
        if info.file_size > max_bytes or (
                info.compress_size and info.file_size / info.compress_size > ZIP_MAX_RATIO):
            found.problems.append(Problem("photo_bad", {"name": name, "reason": _l(
                "The photo is too large: %(max)d MB at most.", max=max_bytes // 2**20)}))
            continue
        try:
            with archive.open(info) as handle:
                content = handle.read(max_bytes + 1)
        # What reading one member of an uploaded archive can raise: a damaged archive
        # (BadZipFile, zlib.error for a damaged compressed stream, OSError), an encrypted member
        # (RuntimeError), a compression method Python does not read (NotImplementedError).
        except (zipfile.BadZipFile, zlib.error, OSError, RuntimeError, NotImplementedError,
                ValueError):
            found.problems.append(Problem("photo_bad", {"name": name, "reason": _l(
                "This file is not a photo we can read: send a JPEG, PNG or WebP image.")}))
            continue
        try:
            images.check_photo(content)
        except images.ImageError as exc:
            found.problems.append(Problem("photo_bad", {"name": name, "reason": exc.message}))
            continue
        found.by_name.setdefault(stem.strip(), []).append((name, content))
    return found


def _photos_for(references: set[str], photos: Photos) -> tuple[dict, list[Problem]]:
    """reference -> [(name, bytes)] in order (ref.jpg, then ref-2.jpg, ref-3.jpg...)."""
    matched: dict[str, list] = {}
    problems = []
    lowered = {ref.lower(): ref for ref in references}
    for stem, files in sorted(photos.by_name.items()):
        reference, position = lowered.get(stem.lower()), 1
        if reference is None:
            match = re.fullmatch(r"(.+?)[-_ ](\d{1,2})", stem)
            if match and match.group(1).lower() in lowered:
                reference, position = lowered[match.group(1).lower()], int(match.group(2))
        if reference is None:
            problems.extend(Problem("photo_unmatched", {"name": name}) for name, _ in files)
            continue
        for name, content in files:
            matched.setdefault(reference, []).append((position, name, content))
    return {ref: sorted(items, key=lambda item: (item[0], item[1]))
            for ref, items in matched.items()}, problems


# --- checking --------------------------------------------------------------------------------


def _vat(text: str) -> int | None:
    value = re.sub(r"[\s\u00a0%]", "", text).replace(",", ".")
    try:
        number = Decimal(value)
    except ArithmeticError:
        return None
    if number.is_nan() or number.is_infinite():
        return None
    if Decimal(0) < number < 1:  # 0.2 or 0.055: a rate written as a fraction (Excel's %)
        number *= 100
    basis_points = number * 100
    if basis_points != basis_points.to_integral_value() or int(basis_points) not in VAT_RATES_BP:
        return None
    return int(basis_points)


def _text(cell: str) -> str:
    """A cell as written by the export: a leading apostrophe kept a formula out."""
    if cell.startswith("'") and cell[1:2] and cell[1:].startswith(exports.FORMULA_STARTS):
        return cell[1:]
    return cell


def _category_index() -> dict[str, Category]:
    index = {}
    for category in db.session.scalars(sa.select(Category).order_by(Category.parent_id.desc(),
                                                                     Category.position)):
        for key in (category.name_fr, category.name_en, category.slug):
            index.setdefault(spreadsheets.normalise(key), category)
    return index


def plan(organization, sheet: spreadsheets.Sheet, photos: Photos | None = None) -> Plan:
    """Every line checked against the seller's products, and what it would change."""
    photos = photos or Photos({}, [])
    columns, file_problems = _columns(sheet)
    present = {c["field"] for c in columns if c["field"]}
    if not present & {"title", "reference", "id"}:
        file_problems.append(Problem("no_key_column"))
    categories = _category_index()  # every category in the session: no query per product
    # The compared columns as rows, not ORM objects: reading 10,000 products as objects took
    # seconds (bench/RESULTS.md). apply() locks and reads again the products it changes.
    products = db.session.execute(
        sa.select(*(getattr(Product, name) for name in _PRODUCT_COLUMNS))
        .where(Product.organization_id == organization.id)
    ).all()
    by_id = {p.id: p for p in products}
    by_reference = {p.reference.lower(): p for p in products if p.reference}
    by_ean = {p.ean: p for p in products if p.ean}
    words = _Words(yes=YES | {str(_l("yes")).lower()}, no=NO | {str(_l("no")).lower()})
    lines = []
    for number, cells in sheet.rows:
        values = {c["field"]: _text(cell.strip()) for c, cell in zip(columns, cells, strict=True)
                  if c["field"]}
        line = Line(number=number, cells=values)
        if not any(cells):
            line.problems.append(Problem("empty_line"))
        else:
            _check(line, by_id, by_reference, categories, words)
        lines.append(line)
    _check_across(lines, by_reference, by_ean)
    references = {line.values.get("reference") or (line.product.reference if line.product else None)
                  for line in lines} - {None, ""}
    references |= {p.reference for p in products if p.reference}
    matched, photo_problems = _photos_for(references, photos)
    file_problems.extend(photos.problems)
    file_problems.extend(photo_problems)
    _attach_photos(lines, matched, by_reference, file_problems)
    return Plan(columns=columns, lines=lines, file_problems=file_problems)


@dataclass
class _Words:
    yes: set
    no: set


def _columns(sheet: spreadsheets.Sheet) -> tuple[list[dict], list[Problem]]:
    seen, columns, problems = set(), [], []
    for position, (header, name) in enumerate(zip(sheet.headers, sheet.fields, strict=True)):
        duplicate = name is not None and name in seen
        seen.add(name)
        columns.append({"header": header, "field": None if duplicate else name})
        if duplicate:
            problems.append(Problem("duplicate_column", {"header": header}))
        elif name is None and not header:
            if any(row[position] for _n, row in sheet.rows):
                problems.append(Problem("unnamed_column", {"position": position + 1}))
        elif name is None:
            problems.append(Problem("unknown_column", {"header": header}))
    return columns, problems


def _check(line: Line, by_id: dict, by_reference: dict, categories: dict, words) -> None:
    cells, problems, values = line.cells, line.problems, line.values
    product = None
    number = cells.get("id", "")
    if number:
        product = by_id.get(int(number)) if number.isdigit() and len(number) < 12 else None
        if product is None:
            problems.append(Problem("unknown_id", {"value": number}, "id"))
    reference = cells.get("reference", "")
    if reference:
        if len(reference) > REFERENCE_MAX:
            problems.append(Problem("too_long", {"column": COLUMN_LABELS["reference"],
                                                 "max": REFERENCE_MAX}, "reference"))
        elif product is None and not number:
            product = by_reference.get(reference.lower())
        # Found by its reference: the reference stays as the seller first wrote it.
        values["reference"] = product.reference if product is not None and not number else reference
    elif "reference" in cells and product is not None:
        values["reference"] = None
    line.product = product
    new = product is None

    if "title" in cells:
        title = " ".join(cells["title"].split())
        if not title:
            problems.append(Problem("title_missing", field="title"))
        elif len(title) > TITLE_MAX:
            problems.append(Problem("too_long", {"column": COLUMN_LABELS["title"],
                                                 "max": TITLE_MAX}, "title"))
        else:
            values["title"] = title
    elif new:
        problems.append(Problem("title_missing", field="title"))
    if "description" in cells:
        if len(cells["description"]) > DESCRIPTION_MAX:
            problems.append(Problem("too_long", {"column": COLUMN_LABELS["description"],
                                                 "max": DESCRIPTION_MAX}, "description"))
        else:
            values["description"] = cells["description"]
    text = cells.get("category", "")
    if text:
        category = categories.get(spreadsheets.normalise(text))
        if category is None:
            problems.append(Problem("category_unknown", {"value": text}, "category"))
        else:
            values["category_id"] = category.id
    elif new or "category" in cells:
        problems.append(Problem("category_missing", field="category"))
    text = cells.get("price", "")
    if text:
        try:
            cents = parse_euros(text)
        except ValueError:
            problems.append(Problem("price_not_number", {"value": text}, "price"))
        else:
            if not 0 <= cents <= MAX_PRICE_CENTS:
                problems.append(Problem("price_out_of_range", field="price"))
            else:
                values["price_cents"] = cents
    elif new or "price" in cells:
        problems.append(Problem("price_missing", field="price"))
    text = cells.get("vat", "")
    if text:
        rate = _vat(text)
        if rate is None:
            problems.append(Problem("vat_bad", {"value": text}, "vat"))
        else:
            values["vat_rate_bp"] = rate
    elif new:
        values["vat_rate_bp"] = 2000
    if "stock" in cells:
        text = cells["stock"].replace("\u00a0", "").replace(" ", "")
        if not text:
            values["stock"] = None  # unlimited, as the export writes it
        elif re.fullmatch(r"-?\d{1,9}", text) or re.fullmatch(r"-?\d{1,9}[.,]0+", text):
            stock = int(re.split(r"[.,]", text)[0])
            if stock < 0:
                problems.append(Problem("stock_negative", field="stock"))
            elif stock > STOCK_MAX:
                problems.append(Problem("stock_not_number", {"value": cells["stock"]}, "stock"))
            else:
                values["stock"] = stock
        else:
            problems.append(Problem("stock_not_number", {"value": cells["stock"]}, "stock"))
    elif new:
        values["stock"] = 1
    text = cells.get("ean", "").replace(" ", "")
    if text:
        if len(text) in (8, 13) and stdnum_ean.is_valid(text):
            values["ean"] = text
        else:
            problems.append(Problem("ean_bad", {"value": cells["ean"]}, "ean"))
    elif "ean" in cells:
        values["ean"] = None
    if "perishable" in cells:
        word = cells["perishable"].strip().lower()
        if word in words.yes:
            values["is_perishable"] = True
        elif word in words.no:
            values["is_perishable"] = False
        else:
            problems.append(Problem("perishable_bad", {"value": cells["perishable"]},
                                    "perishable"))
    if product is not None and not problems:
        line.changes = _changes(product, values)


_PRODUCT_COLUMNS = ("id", "reference", "title", "description", "category_id", "price_cents",
                    "vat_rate_bp", "stock", "ean", "is_perishable")
_COMPARED = (("reference", "reference"), ("title", "title"), ("description", "description"),
             ("category_id", "category"), ("price_cents", "price"), ("vat_rate_bp", "vat"),
             ("stock", "stock"), ("ean", "ean"), ("is_perishable", "perishable"))


def _changes(product: Product, values: dict) -> list[tuple[str, str | None, str | None]]:
    """(column, before, after), as the page shows them."""
    changes = []
    for attribute, column in _COMPARED:
        if attribute in values and getattr(product, attribute) != values[attribute]:
            changes.append((column, _shown(attribute, getattr(product, attribute)),
                            _shown(attribute, values[attribute])))
    return changes


def _shown(attribute: str, value) -> str | None:
    if attribute == "stock" and value is None:
        return str(_l("unlimited"))
    if value is None:
        return None
    if attribute == "price_cents":
        return money_filter(value)
    if attribute == "vat_rate_bp":
        return _vat_text(value) + ("\u00a0%" if current_locale_code() == "fr" else "%")
    if attribute == "category_id":
        category = db.session.get(Category, value)
        return _category_name(category) if category else str(value)
    if attribute == "is_perishable":
        return str(_l("yes") if value else _l("no"))
    if attribute == "description":
        return value if len(value) <= 60 else value[:57] + "…"
    return str(value)


def _check_across(lines: list[Line], by_reference: dict, by_ean: dict) -> None:
    """Duplicates inside the file, and references or barcodes another product already has."""
    seen: dict[tuple, Line] = {}
    for line in lines:
        for key, code in (("reference", "duplicate_reference"), ("id", "duplicate_id")):
            value = (line.values.get(key) if key == "reference" else line.cells.get("id")) or ""
            if not value:
                continue
            first = seen.setdefault((key, value.lower()), line)
            if first is not line:
                line.problems.append(Problem(code, {"value": value, "other": first.number}, key))
                if not any(p.code == code for p in first.problems):
                    first.problems.append(Problem(code, {"value": value, "other": line.number}, key))
        reference = line.values.get("reference")
        owner = by_reference.get(reference.lower()) if reference else None
        if owner is not None and line.product is not None and owner.id != line.product.id:
            line.problems.append(Problem("reference_taken", {"value": reference,
                                                             "title": owner.title}, "reference"))
        ean = line.values.get("ean")
        holder = by_ean.get(ean) if ean else None
        if holder is not None and (line.product is None or holder.id != line.product.id):
            line.problems.append(Problem("ean_taken", {"value": ean, "title": holder.title}, "ean"))
    for line in lines:
        if line.problems:
            line.changes = []


def _attach_photos(lines: list[Line], matched: dict, by_reference: dict,
                   file_problems: list) -> None:
    owners = {}
    for line in lines:
        reference = line.values.get("reference") or (line.product.reference if line.product else None)
        if reference:
            owners[reference.lower()] = line
    for reference, files in matched.items():
        line = owners.get(reference.lower())
        if line is None:  # a product of the seller that is not in the file
            product = by_reference[reference.lower()]
            line = Line(number=0, cells={"reference": product.reference, "title": product.title},
                        product=product)
            lines.append(line)
            owners[reference.lower()] = line
        line.photos = [(name, content) for _position, name, content in files]
        existing = db.session.scalar(sa.select(sa.func.count()).where(
            ProductPhoto.product_id == line.product.id)) if line.product is not None else 0
        if existing + len(line.photos) > MAX_PHOTOS:
            line.problems.append(Problem("photos_too_many", {
                "count": existing + len(line.photos), "max": MAX_PHOTOS}, "photos"))


# --- applying --------------------------------------------------------------------------------


@dataclass
class Result:
    created: int = 0
    updated: int = 0
    photos: int = 0
    stored_files: list = field(default_factory=list)  # to delete if the unit rolls back


def lock_seller(organization) -> None:
    """One import at a time per seller: the caller takes this lock, then reads and checks the
    file (a second confirmation of the same file waits, then finds nothing left to change)."""
    lock_rows(Organization, [organization.id])


def apply(organization, result_plan: Plan, *, by) -> Result:
    """What the plan says, all of it, in the caller's unit of work; CatalogError (409) while
    a problem is left. Products to update are locked (in id order) and read again: a line
    checked against a stock that changed since is checked again here."""
    if not result_plan.ok:
        raise CatalogError(_l("Some lines still have a problem: nothing was imported."),
                           status_code=409)
    if not organization.is_seller:
        raise CatalogError(_l("Only sellers can list products."), status_code=403)
    result = Result()
    by_id = getattr(by, "id", None)
    updated = [line for line in result_plan.lines if line.product is not None and line.changes]
    locked = {p.id: p for p in lock_rows(Product, [line.product.id for line in updated])}
    movements, reindexed = [], []
    for line in updated:
        product = locked[line.product.id]
        line.product_id = product.id
        for attribute, _column in _COMPARED:
            if attribute in line.values and attribute != "stock":
                setattr(product, attribute, line.values[attribute])
        if "stock" in line.values and line.values["stock"] != product.stock:
            new = line.values["stock"]
            delta = 0 if new is None or product.stock is None else new - product.stock
            if product.stock is None:
                delta = new
            product.stock = new
            movements.append(_movement(product.id, delta or 0, new, by_id))
        reindexed.append(product)
        result.updated += 1
    db.session.flush()
    if reindexed:
        search.reindex_all(reindexed)
    result.created = _create(organization, [line for line in result_plan.lines
                                            if line.product is None], movements, by_id)
    if movements:
        db.session.execute(sa.insert(StockMovement.__table__), movements)
    for line in result_plan.lines:
        if line.photos:
            product = db.session.get(Product, line.product_id or line.product.id)
            for name, content in line.photos:
                _add_photo(product, name, content, result)
    db.session.flush()
    caching.catalog_changed()
    audit.record("stock.imported", organization, by=by, organization=organization,
                 data={"created": result.created, "updated": result.updated,
                       "photos": result.photos})
    return result


def _movement(product_id: int, delta: int, stock_after: int | None, by_id: int | None) -> dict:
    return {"product_id": product_id, "delta": delta, "stock_after": stock_after,
            "reason": StockReason.IMPORT, "note": "", "by_id": by_id, "reference": None,
            "created_at": utcnow()}


def _create(organization, lines: list[Line], movements: list[dict], by_id: int | None) -> int:
    """The new products in one INSERT (5,000 lines: ORM objects one by one took seconds),
    their search text and index computed first (search.insert_indexed)."""
    if not lines:
        return 0
    categories = {c.id: c for c in db.session.scalars(sa.select(Category))}
    now = utcnow()
    rows, documents = [], []
    for line in lines:
        values = line.values
        # A transient product (in no session: its relationships have no backref that would
        # cascade it in) to compute the search document from.
        product = Product(
            organization=organization, category=categories[values["category_id"]],
            title=values["title"], description=values.get("description", ""),
        )
        document = search.document_of(product)
        documents.append(document)
        rows.append({
            "organization_id": organization.id, "category_id": values["category_id"],
            "title": values["title"], "description": values.get("description", ""),
            "price_cents": values["price_cents"], "vat_rate_bp": values["vat_rate_bp"],
            "stock": values.get("stock"), "held_units": 0,
            "is_perishable": values.get("is_perishable", False),
            "status": ProductStatus.ACTIVE, "search_text": document.text,
            "reference": values.get("reference"), "ean": values.get("ean"),
            "created_at": now, "updated_at": now,
        })
    ids = search.insert_indexed(Product.__table__, rows, documents)
    for line, product_id, row in zip(lines, ids, rows, strict=True):
        line.product_id = product_id
        movements.append(_movement(product_id, row["stock"] or 0, row["stock"], by_id))
    return len(ids)


def _add_photo(product: Product, name: str, content: bytes, result: Result) -> None:
    stored = images.store_product_photo(content)
    result.stored_files += [stored.filename, stored.thumbnail]
    position = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(ProductPhoto.position), -1))
                                 .where(ProductPhoto.product_id == product.id)) + 1
    db.session.add(ProductPhoto(product_id=product.id, position=position, filename=stored.filename,
                                thumbnail=stored.thumbnail, width=stored.width,
                                height=stored.height, alt_text=product.title[:200]))
    db.session.flush()
    result.photos += 1
